"""Ask when unsure: an unsure topic or type is asked with the three likeliest as buttons plus
"其他" (all options); a sure one is filled and shown on the summary as before.

Driven through ``DialogEngine.step`` with the real taxonomy, address parser and extractor, and a
hand-set classifier (``classifier_helpers``) so each case's confidence is known exactly.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from dialogs.address import AddressParser
from dialogs.engine import DialogEngine
from dialogs.extraction import Extractor
from dialogs.forms import Settings
from tests.dialogs.classifier_helpers import hand_set_classifier
from tests.dialogs.test_engine import Chat

ROOT = Path(__file__).resolve().parents[2]
PLACE = "青岛市市南区香港中路"
TAXONOMY = load_config(ROOT / "config.yaml", environ={}).taxonomy.build()


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    taxonomy = TAXONOMY
    addresses = AddressParser()
    return DialogEngine(
        taxonomy,
        Extractor(taxonomy, addresses, hand_set_classifier()),
        addresses,
        Settings(timezone=ZoneInfo("Asia/Shanghai"), idle_minutes=30, min_details_chars=5, max_details_chars=5000),
    )


@pytest.fixture
def chat(engine: DialogEngine) -> Chat:
    return Chat(engine)


async def test_a_sure_topic_and_type_file_in_two_turns(chat: Chat) -> None:
    await chat.say(f"{PLACE}的灯坏了一个星期了")
    assert "请确认" in chat.text() and "城市管理" in chat.text() and "举报·反映" in chat.text()
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert (draft.topic_code, draft.type_code) == ("urban", "report")


async def test_an_unsure_topic_is_asked_with_the_three_likeliest_and_other(chat: Chat) -> None:
    # 灯, 车 and 学 weigh the same: a three-way tie must be asked, not given to the first in the config.
    await chat.say(f"{PLACE}学校门口车站的灯坏了")
    assert "最可能" in chat.text()
    assert chat.choice_ids() == ["topic:urban", "topic:transport", "topic:education", "topic:more"]
    assert "其他" in chat.last[-1].choices[-1].label
    await chat.tap("topic:transport")
    assert "请确认" in chat.text() and "交通运输" in chat.text()
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.topic_code == "transport"


async def test_other_shows_every_topic_and_a_number_counts_in_the_list_shown(chat: Chat) -> None:
    await chat.say(f"{PLACE}学校门口车站的灯坏了")
    await chat.say("其他（全部选项）")
    assert "全部选项" in chat.text()
    all_topics = chat.choice_ids()
    assert all_topics == [f"topic:{t.code}" for t in TAXONOMY.topics] and "topic:other" in all_topics
    await chat.tap("topic:health")
    assert "卫生健康" in chat.text()

    again = Chat(chat.engine)
    await again.say(f"{PLACE}学校门口车站的灯坏了")
    await again.say("2")  # the second button shown: transport, not the second topic of the config
    assert "交通运输" in again.text() and "请确认" in again.text()


async def test_an_unsure_type_is_asked_with_the_likeliest_first(chat: Chat) -> None:
    await chat.say(f"{PLACE}的灯一直亮着不灭")
    assert chat.choice_ids() == ["type:complaint", "type:report", "type:consultation", "type:more"]
    await chat.tap("type:more")
    assert chat.choice_ids() == [f"type:{t}" for t in ("complaint", "report", "consultation", "help", "suggestion")]
    await chat.tap("type:help")
    assert "请确认" in chat.text() and "求助" in chat.text()


async def test_a_typed_answer_to_the_topic_question_is_understood(chat: Chat) -> None:
    await chat.say(f"{PLACE}学校门口车站的灯坏了")
    await chat.say("是医院那边的事")  # 医 points to health alone: the citizen's answer decides
    assert "请确认" in chat.text() and "卫生健康" in chat.text()
