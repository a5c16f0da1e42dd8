"""Places in the dialog: shared pins get their district, places outside the service city are
asked about, and no place names a level twice. Driven through the real engine, extractor and
address parser, as tests/dialogs/test_engine.py does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_config
from dialogs.address import AddressParser
from dialogs.engine import DialogEngine
from dialogs.extraction import Extractor
from dialogs.forms import Settings
from dialogs.ports import Place
from dialogs.state import IntakeDraft, SessionState
from tests.dialogs.test_engine import Chat

ROOT = Path(__file__).resolve().parents[2]
BEIJING = "北京市朝阳区三里屯路的路灯坏了一个星期了，晚上很危险"
QINGDAO = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
SHINAN_PIN = (36.0625, 120.3844)  # 五四广场
CHAOYANG_PIN = (39.92, 116.44)


def _engine(city: str | None) -> DialogEngine:
    config = load_config(ROOT / "config.yaml", environ={})
    taxonomy = config.taxonomy.build()
    addresses = AddressParser(default_province=None, default_city=city)
    return DialogEngine(
        taxonomy,
        Extractor(taxonomy, addresses),
        addresses,
        Settings(timezone=ZoneInfo("Asia/Shanghai"), idle_minutes=30, min_details_chars=5, max_details_chars=5000),
    )


@pytest.fixture(scope="module")
def qingdao() -> DialogEngine:
    return _engine("青岛市")


@pytest.fixture(scope="module")
def anywhere() -> DialogEngine:
    return _engine(None)


# --- outside the service city ---------------------------------------------------------------------


async def test_a_place_in_another_city_is_asked_about_before_the_summary(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say(BEIJING)
    assert "不在本市服务范围" in chat.text() and "北京市朝阳区" in chat.text()
    assert "北京市北京市" not in chat.text()
    assert chat.choice_ids() == ["place:keep", "place:change"]
    assert [c.label for r in chat.last for c in r.choices] == ["仍要提交", "修改地点"]
    await chat.tap("place:keep")
    assert "请确认" in chat.text() and "北京市朝阳区" in chat.text()
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.place is not None and (draft.place.city, draft.place.district) == ("北京市", "朝阳区")


async def test_changing_the_place_asks_for_it_again(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say(BEIJING)
    await chat.tap("place:change")
    assert chat.state is not None and chat.state.step == "location"
    assert chat.last[-1].request_location
    await chat.say("市南区香港中路8号")
    assert "请确认" in chat.text()
    assert "山东省青岛市市南区 香港中路8号" in chat.text()
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.place is not None and draft.place.district == "市南区"


async def test_typing_a_new_address_answers_the_area_question(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say(BEIJING)
    await chat.say("不对，是崂山区松岭路")
    assert "请确认" in chat.text() and "崂山区" in chat.text()
    assert chat.state is not None and chat.state.step == "confirm"


async def test_the_area_question_in_english(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say("English")
    await chat.say(BEIJING)
    assert "outside the area" in chat.text()
    assert [c.label for r in chat.last for c in r.choices] == ["Submit anyway", "Change place"]
    await chat.say("1")  # the first button, typed
    assert "Please confirm" in chat.text()


async def test_a_place_inside_the_city_files_in_two_turns(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say(QINGDAO)
    assert "请确认" in chat.text() and "不在本市" not in chat.text()
    await chat.tap("confirm:submit")
    assert len(chat.port.filed) == 1


async def test_without_a_service_city_nothing_is_outside(anywhere: DialogEngine) -> None:
    chat = Chat(anywhere)
    await chat.say(BEIJING)
    assert "请确认" in chat.text() and "不在本市" not in chat.text()


async def test_editing_the_place_to_another_city_asks_before_the_summary(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say(QINGDAO)
    await chat.tap("confirm:edit")
    await chat.tap("edit:location")
    await chat.say("北京市朝阳区三里屯")
    assert "不在本市服务范围" in chat.text()
    assert chat.state is not None and chat.state.step == "location"
    await chat.tap("place:keep")
    assert "请确认" in chat.text() and chat.state.step == "confirm"


async def test_a_pin_in_another_city_is_asked_about_at_the_summary(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say(QINGDAO)
    await chat.pin(*CHAOYANG_PIN, "")
    assert "不在本市服务范围" in chat.text() and "朝阳区" in chat.text()


# --- shared pins -------------------------------------------------------------------------------


async def test_a_pin_without_a_label_gets_its_district_and_keeps_its_coordinates(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say("路灯坏了一个星期了，晚上很危险")
    assert chat.state is not None and chat.state.step == "location"
    await chat.pin(*SHINAN_PIN, "")
    assert "地点已记录：山东省青岛市市南区" in chat.text()
    assert "36.06250" not in chat.text()  # a named place, not coordinates
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.place == Place("山东省", "青岛市", "市南区", "", SHINAN_PIN[0], SHINAN_PIN[1])


async def test_a_pin_label_is_shown_with_the_district_once(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say("路灯坏了一个星期了，晚上很危险")
    await chat.pin(36.062545, 120.384415, "五四广场 山东省青岛市市南区东海西路")
    assert "地点已记录：山东省青岛市市南区 五四广场 东海西路" in chat.text()


async def test_a_pin_with_a_venue_label_only_gets_the_district_from_its_position(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say("路灯坏了一个星期了，晚上很危险")
    await chat.pin(36.1030, 120.4700, "松岭路小区东门")
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.place is not None
    assert (draft.place.district, draft.place.address) == ("崂山区", "松岭路小区东门")


async def test_a_pin_at_sea_keeps_its_coordinates_only(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say("路灯坏了一个星期了，晚上很危险")
    await chat.pin(35.0, 124.5, "")
    assert "地点已记录：35.00000, 124.50000" in chat.text()


# --- no doubled names --------------------------------------------------------------------------


async def test_a_district_typed_alone_is_named_once(qingdao: DialogEngine) -> None:
    chat = Chat(qingdao)
    await chat.say("路灯坏了一个星期了，晚上很危险")
    await chat.say("市南区")
    assert "地点已记录：山东省青岛市市南区\n" in chat.text() + "\n"
    assert "市南区 市南区" not in chat.text()


@pytest.mark.parametrize(
    ("place", "shown"),
    [
        (Place("北京市", "北京市", "朝阳区", "三里屯"), "北京市朝阳区 三里屯"),
        (Place("北京市", "北京市", "朝阳区", "北京市朝阳区三里屯"), "北京市朝阳区三里屯"),
        (Place("山东省", "青岛市", "市南区", "市南区"), "山东省青岛市市南区"),
        (Place("山东省", "青岛市", "市南区", "青岛市市南区香港中路8号"), "山东省青岛市市南区香港中路8号"),
        (Place("山东省", "青岛市", "市南区", "青岛市南区香港中路"), "山东省青岛市市南区香港中路"),
        (Place("北京市", "北京市", "朝阳区", "北京朝阳望京"), "北京市朝阳区望京"),
        (Place("山东省", "青岛市", "崂山区", "崂山路12号"), "山东省青岛市崂山区 崂山路12号"),  # a street, kept
        (
            Place("山东省", "青岛市", "市南区", "五四广场 山东省青岛市市南区东海西路"),
            "山东省青岛市市南区 五四广场 东海西路",
        ),
        (Place(address="香港中路"), "香港中路"),
        (Place(lat=36.1, lon=120.3), "36.10000, 120.30000"),
    ],
)
def test_describe_names_each_level_once(place: Place, shown: str) -> None:
    assert place.describe() == shown


def test_the_area_question_survives_the_session_store() -> None:
    draft = IntakeDraft(place=Place("北京市", "北京市", "朝阳区", "三里屯", 39.92, 116.44), outside_area=True)
    state = SessionState(locale="zh", updated_at=datetime(2026, 11, 22, tzinfo=UTC), form="intake", draft=draft)
    assert SessionState.from_json(state.to_json()).draft == draft
