"""The word lists behind the dialogs, read once from dialogs/resources/words.json.

Command words, staff verbs, greetings, confirmation answers, question cues and the openers before
a type marker are data a reviewer updates when citizens turn out to type something else; keeping
them in JSON keeps the matchers short and lets a word change be reviewed without reading Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class Openers:
    """What may stand before a type marker ("您好，我要投诉……") without changing its meaning."""

    greetings: tuple[str, ...]
    english_greeting_patterns: tuple[str, ...]  # regular expressions, word-bounded where used
    intents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Words:
    commands: MappingProxyType[str, tuple[str, ...]]  # Command value -> its words
    commands_with_argument: MappingProxyType[str, tuple[str, ...]]
    staff_verbs: MappingProxyType[str, tuple[str, ...]]  # Verb value -> its words
    greetings: frozenset[str]
    confirm_submit: tuple[str, ...]
    confirm_edit: tuple[str, ...]
    withdraw_yes: tuple[str, ...]
    withdraw_no: tuple[str, ...]
    publish_yes: tuple[str, ...]
    publish_no: tuple[str, ...]
    question_cues: tuple[str, ...]
    openers: Openers


def _table(raw: dict[str, list[str]]) -> MappingProxyType[str, tuple[str, ...]]:
    return MappingProxyType({key: tuple(values) for key, values in raw.items()})


@cache
def words() -> Words:
    raw: dict[str, Any] = json.loads(files("dialogs").joinpath("resources/words.json").read_text(encoding="utf-8"))
    openers = raw["openers"]
    return Words(
        commands=_table(raw["commands"]),
        commands_with_argument=_table(raw["commands_with_argument"]),
        staff_verbs=_table(raw["staff_verbs"]),
        greetings=frozenset(raw["greetings"]),
        confirm_submit=tuple(raw["confirm_submit"]),
        confirm_edit=tuple(raw["confirm_edit"]),
        withdraw_yes=tuple(raw["withdraw_yes"]),
        withdraw_no=tuple(raw["withdraw_no"]),
        publish_yes=tuple(raw["publish_yes"]),
        publish_no=tuple(raw["publish_no"]),
        question_cues=tuple(raw["question_cues"]),
        openers=Openers(
            greetings=tuple(openers["greetings"]),
            english_greeting_patterns=tuple(openers["english_greeting_patterns"]),
            intents=tuple(openers["intents"]),
        ),
    )
