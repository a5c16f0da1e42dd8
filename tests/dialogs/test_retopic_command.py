"""改类 / retopic parses like the other staff commands: number, topic, optional reason."""

from __future__ import annotations

import pytest

from dialogs.staff_commands import Malformed, StaffCommand, Verb, parse_staff_command
from tests.dialogs.test_staff_commands import typed


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("改类 WZ20261122-0007 城市管理", StaffCommand(Verb.RETOPIC, "WZ20261122-0007", "城市管理", "")),
        (
            "retopic wz20261122-0007 urban street lights",
            StaffCommand(Verb.RETOPIC, "WZ20261122-0007", "urban", "street lights"),
        ),
        ("/retopic WZ20261122-0007 transport", StaffCommand(Verb.RETOPIC, "WZ20261122-0007", "transport", "")),
        (
            "改主题：WZ20261122-0007 环境 其实是噪音",
            StaffCommand(Verb.RETOPIC, "WZ20261122-0007", "环境", "其实是噪音"),
        ),
    ],
)
def test_retopic_is_parsed(said: str, expected: StaffCommand) -> None:
    assert parse_staff_command(typed(said)) == expected


@pytest.mark.parametrize("said", ["改类", "改类 WZ20261122-0007", "retopic urban"])
def test_retopic_without_a_number_or_topic_shows_its_usage(said: str) -> None:
    found = parse_staff_command(typed(said))
    assert isinstance(found, Malformed) and found.verb is Verb.RETOPIC and "改类" in found.usage


def test_retopic_on_a_card_reply_applies_to_that_ticket() -> None:
    assert parse_staff_command(typed("改类 health"), reply_to="WZ20261122-0009") == StaffCommand(
        Verb.RETOPIC, "WZ20261122-0009", "health", ""
    )
