"""The word lists read from dialogs/resources/words.json mean what the code expects."""

from __future__ import annotations

from dialogs.commands import Command, command_with_argument, match_command
from dialogs.staff_commands import VERBS, Verb
from dialogs.words import words


def test_every_command_and_verb_has_words_and_every_verb_a_spec() -> None:
    table = words()
    assert {Command(c) for c in table.commands} | {Command(c) for c in table.commands_with_argument} == set(Command)
    assert {Verb(v) for v in table.staff_verbs} == set(Verb) == set(VERBS)
    assert all(table.commands.values()) and all(table.staff_verbs.values())


def test_words_are_read_once_and_used() -> None:
    assert words() is words()
    assert match_command("/start") is Command.NEW
    assert match_command("切换语言") is Command.LANG_TOGGLE
    assert command_with_argument("撤回 WZ20261122-0007") == (Command.WITHDRAW, "WZ20261122-0007")
    assert "请问" in words().question_cues and "你好" in words().greetings
