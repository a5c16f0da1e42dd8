"""Choices typed as numbers: what looks like a digit but is no option's number is just text.

Found by an attack run (issue 12): a 4,301-digit answer at a choice step made ``int()`` raise (Python
refuses to convert more than 4,300 digits), and "፩" (Ethiopic one) passes ``str.isdigit`` but not ``int()``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.base import ConversationRef, Inbound, MessageKind
from bot.config import load_config
from dialogs.address import AddressParser
from dialogs.engine import DialogEngine
from dialogs.extraction import Extractor
from dialogs.forms import Option, Settings, match_option, option_number
from dialogs.taxonomy import Bilingual
from tests.dialogs.intake_port import MemoryIntakePort

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
OPTIONS = (Option("a", Bilingual("甲", "A")), Option("b", Bilingual("乙", "B")), Option("c", Bilingual("丙", "C")))
HOSTILE = ["1" * 4301, "9" * 10_000, "፩", "𐩀", "፩𐩀", "1" * 5]


def typed(text: str, key: str = "m1") -> Inbound:
    ref = ConversationRef("webchat", "web", "c1")
    return Inbound("webchat", ref, key, MessageKind.TEXT, T0, text=text)


@pytest.mark.parametrize("said", HOSTILE)
def test_digit_like_answers_match_no_option_and_never_raise(said: str) -> None:
    assert match_option(OPTIONS, typed(said)) is None


@pytest.mark.parametrize(("said", "chosen"), [("2", "b"), ("２", "b"), (" 3。", "c"), ("٣", "c"), ("0003", "c")])
def test_numbers_in_any_digits_still_choose(said: str, chosen: str) -> None:
    found = match_option(OPTIONS, typed(said))
    assert found is not None and found.id == chosen


def test_option_number_guards_int() -> None:
    assert option_number("12") == 12
    assert option_number("1" * 4301) is None
    assert option_number("፩") is None
    assert option_number("") is None


async def test_a_4301_digit_answer_at_the_summary_is_asked_again_not_a_crash() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    taxonomy = config.taxonomy.build()
    addresses = AddressParser()
    settings = Settings(timezone=ZoneInfo("Asia/Shanghai"))
    engine = DialogEngine(taxonomy, Extractor(taxonomy, addresses), addresses, settings)
    port = MemoryIntakePort()
    first = await engine.step(None, typed("青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"), port, T0)
    assert [c.id for r in first.replies for c in r.choices] == [
        "confirm:submit",
        "confirm:edit",
        "confirm:cancel",
        "confirm:publish",
    ]
    answer = await engine.step(first.state, typed("1" * 4301, "m2"), port, T0)
    assert port.filed == []  # not taken for "1. 提交"
    assert answer.replies  # the citizen is answered (asked to choose again), nothing raised
