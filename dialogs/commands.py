"""Words that work at any step, in Chinese and English, with or without a leading slash."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Generic, TypeVar

from dialogs.forms import normalize
from dialogs.words import words

E = TypeVar("E", bound=StrEnum)


class Command(StrEnum):
    NEW = "new"
    CANCEL = "cancel"
    BACK = "back"
    HELP = "help"
    MY = "my"
    LANG_TOGGLE = "lang"
    LANG_ZH = "lang_zh"
    LANG_EN = "lang_en"
    SUPPLEMENT = "supplement"
    WITHDRAW = "withdraw"
    URGE = "urge"  # 催办 编号: chase a late ticket (tickets/escalation.py)
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"


@dataclass(frozen=True, slots=True)
class WordTable(Generic[E]):
    """Words (normalized) to what they mean, built from a resource table of value -> words;
    a later identical word overrides an earlier one."""

    meanings: Mapping[str, E]

    @classmethod
    def of(cls, kind: type[E], table: Mapping[str, tuple[str, ...]]) -> WordTable[E]:
        return cls(MappingProxyType({word: kind(value) for value, said in table.items() for word in said}))

    def get(self, word: str) -> E | None:
        return self.meanings.get(word)

    def __contains__(self, word: object) -> bool:
        return word in self.meanings


_WORDS: Final = WordTable.of(Command, words().commands)

# "/start qr_scene" deep links and "/my@SomeBot" in Telegram groups still mean the command.
_SLASH = re.compile(r"^(/[a-z_]+)(?:@\w+)?(?:\s.*)?$", re.DOTALL)

TICKET_NUMBER = re.compile(r"\bWZ\d{8}-\d{4,6}\b", re.IGNORECASE)


_WITH_ARGUMENT: Final = WordTable.of(Command, words().commands_with_argument)
_HEAD = re.compile(r"^\s*(\S+?)(?:[\s:：]+(.*))?$", re.DOTALL)


def command_with_argument(said: str) -> tuple[Command, str] | None:
    """ "补充 WZ20261122-0007 楼下也坏了" / "撤回 WZ…": a command word followed by its argument."""
    found = _HEAD.match(said)
    if found is None:
        return None
    command = _WITH_ARGUMENT.get(normalize(found.group(1)))
    return None if command is None else (command, (found.group(2) or "").strip())


def match_command(said: str) -> Command | None:
    key = normalize(said)
    found = _WORDS.get(key)
    if found is not None:
        return found
    slash = _SLASH.match(key)
    return _WORDS.get(slash.group(1)) if slash else None


def unknown_slash_command(said: str) -> str | None:
    """A ``/word`` we do not know: answered with help instead of being filed as a description."""
    key = normalize(said)
    slash = _SLASH.match(key)
    return slash.group(1) if slash and slash.group(1) not in _WORDS else None


# What citizens actually type for WZ20261206-0001: without the prefix, lower case, full-width
# digits from a Chinese keyboard, spaces or another dash in between.
_DIGIT = "[0-9０-９]"
_GAP = r"[\s\u3000]*"
_LOOSE_NUMBER = re.compile(
    rf"{_GAP}(?:[WＷ][ZＺ])?{_GAP}({_DIGIT}{{8}}){_GAP}[-－‐‑–—_]?{_GAP}({_DIGIT}{{4,6}})(?![0-9０-９])",
    re.IGNORECASE,
)


def _canonical(found: re.Match[str]) -> str | None:
    day, sequence = (unicodedata.normalize("NFKC", g) for g in found.groups())
    try:  # the date part must be a real day, so a phone or an order number is not taken for one
        if not 2000 <= datetime.strptime(day, "%Y%m%d").year <= 2099:
            return None
    except ValueError:
        return None
    return f"WZ{day}-{sequence}"


def ticket_number_at_start(argument: str) -> tuple[str, str] | None:
    """The inquiry number an argument starts with, in canonical form, and the text after it:
    "补充 20261206-0001 楼下也坏了" → ("WZ20261206-0001", "楼下也坏了")."""
    found = _LOOSE_NUMBER.match(argument)
    number = _canonical(found) if found else None
    return None if number is None or found is None else (number, argument[found.end() :].strip())


def ticket_number_only(said: str) -> str | None:
    """The citizen sent just an inquiry number: they want its status."""
    found = _LOOSE_NUMBER.fullmatch(normalize(said))
    return _canonical(found) if found else None
