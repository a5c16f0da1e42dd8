"""The intake dialog, step by step: every slot, every command at every step, and bad input.

Driven through ``DialogEngine.step`` with the real extractor and address parser and the config's
real taxonomy; only the ticket store is in memory.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.base import ConversationRef, Inbound, Location, MediaRef, MessageKind, Outbound
from bot.config import load_config
from dialogs.address import AddressParser
from dialogs.engine import DialogEngine
from dialogs.extraction import Extractor
from dialogs.forms import Settings
from dialogs.state import SessionState
from dialogs.texts import text
from tests.dialogs.intake_port import MemoryIntakePort

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    config = load_config(ROOT / "config.yaml", environ={})
    taxonomy = config.taxonomy.build()
    addresses = AddressParser()
    return DialogEngine(
        taxonomy,
        Extractor(taxonomy, addresses),
        addresses,
        Settings(timezone=ZoneInfo("Asia/Shanghai"), idle_minutes=30, min_details_chars=5, max_details_chars=5000),
    )


@dataclass
class Chat:
    """A citizen talking to the engine; keeps the state between turns like the dispatcher does."""

    engine: DialogEngine
    port: MemoryIntakePort = field(default_factory=MemoryIntakePort)
    state: SessionState | None = None
    now: datetime = T0
    counter: itertools.count[int] = field(default_factory=itertools.count)
    last: tuple[Outbound, ...] = ()

    def _inbound(self, kind: MessageKind, **kw: object) -> Inbound:
        return Inbound(
            channel="webchat",
            conversation=ConversationRef("webchat", "web", "c1"),
            message_key=f"m{next(self.counter)}",
            kind=kind,
            received_at=self.now,
            **kw,  # type: ignore[arg-type]
        )

    async def send(self, inbound: Inbound) -> tuple[Outbound, ...]:
        result = await self.engine.step(self.state, inbound, self.port, self.now)
        self.state = result.state
        self.last = result.replies
        return result.replies

    async def say(self, said: str) -> tuple[Outbound, ...]:
        return await self.send(self._inbound(MessageKind.TEXT, text=said))

    async def tap(self, choice_id: str) -> tuple[Outbound, ...]:
        return await self.send(self._inbound(MessageKind.CHOICE, choice_id=choice_id))

    async def pin(self, lat: float, lon: float, label: str) -> tuple[Outbound, ...]:
        return await self.send(self._inbound(MessageKind.LOCATION, location=Location(lat, lon, label)))

    async def photo(self, ref: str = "p1") -> tuple[Outbound, ...]:
        return await self.send(self._inbound(MessageKind.IMAGE, media=(MediaRef("image", ref),)))

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def choice_ids(self) -> list[str]:
        return [c.id for r in self.last for c in r.choices]


@pytest.fixture
def chat(engine: DialogEngine) -> Chat:
    return Chat(engine)


# --- the happy paths ---------------------------------------------------------------------------


async def test_rich_first_message_goes_straight_to_the_summary_and_files_in_two_turns(chat: Chat) -> None:
    await chat.say(RICH)
    assert "请确认" in chat.text()
    assert "城市管理" in chat.text() and "市南区" in chat.text()
    assert chat.choice_ids() == ["confirm:submit", "confirm:edit", "confirm:cancel", "confirm:publish"]
    await chat.tap("confirm:submit")
    assert re.search(r"WZ20261122-0001", chat.text())
    assert "个工作日" in chat.text()
    ((_number, draft),) = chat.port.filed
    assert draft.details == RICH
    assert draft.topic_code == "urban"
    assert draft.place is not None and draft.place.district == "市南区"
    assert chat.state is not None and chat.state.form is None


async def test_greeting_gets_one_welcome_that_asks_for_the_description(chat: Chat) -> None:
    await chat.say("你好")
    assert [r.text for r in chat.last] == [text("welcome", "zh")]  # not also "请具体描述问题…" below it
    assert chat.state is not None and chat.state.step == "details"


@pytest.mark.parametrize("said", ["你好", "我要投诉", "路灯", "hi", "我要问政", "/start"])
async def test_a_vague_first_message_gets_one_greeting(chat: Chat, said: str) -> None:
    replies = await chat.say(said)
    assert len(replies) == 1 and replies[0].text == text("welcome", "zh")
    assert chat.state is not None and chat.state.step == "details"
    await chat.say("香港中路的路灯坏了一个星期了")  # the next message is taken as the description
    assert chat.state.draft.details == "香港中路的路灯坏了一个星期了"


async def test_description_without_topic_or_place_asks_only_what_is_missing(chat: Chat) -> None:
    await chat.say("你好")
    await chat.say("这里的情况已经持续很久了，一直没有人来处理")
    assert chat.state is not None and chat.state.step == "topic"
    assert "topic:transport" in chat.choice_ids()
    await chat.say("交通运输")
    assert chat.state.step == "location"
    assert chat.last[-1].request_location
    await chat.pin(36.0671, 120.3826, "山东省青岛市市南区香港中路8号")
    assert "地点已记录" in chat.text() and "请确认" in chat.text()
    await chat.say("提交")
    ((_number, draft),) = chat.port.filed
    assert draft.topic_code == "transport"
    assert draft.place is not None and draft.place.lat == pytest.approx(36.0671)
    assert draft.place.district == "市南区"


async def test_consultation_is_not_asked_for_a_place(chat: Chat) -> None:
    await chat.say("请问退休人员的养老金今年什么时候调整？")
    assert chat.state is not None and chat.state.step == "confirm"
    assert "咨询" in chat.text() and "未填写" in chat.text()


@pytest.mark.parametrize(
    ("answer", "topic"),
    [("2", "urban"), ("交通运输", "transport"), ("Transport", "transport"), ("topic:health", "health")],
)
async def test_topic_accepts_number_label_either_language_and_button(chat: Chat, answer: str, topic: str) -> None:
    await chat.say("这里的情况已经持续很久了，一直没有人来处理")
    if answer.startswith("topic:"):
        await chat.tap(answer)
    else:
        await chat.say(answer)
    assert chat.state is not None and chat.state.draft.topic_code == topic


async def test_topic_is_inferred_from_a_free_text_answer(chat: Chat) -> None:
    await chat.say("这里的情况已经持续很久了，一直没有人来处理")
    await chat.say("公交车")
    assert chat.state is not None and chat.state.draft.topic_code == "transport"


async def test_an_answer_that_is_not_an_option_is_asked_again(chat: Chat) -> None:
    await chat.say("这里的情况已经持续很久了，一直没有人来处理")
    await chat.say("99")
    assert "请从下面的选项中选择" in chat.text()
    assert chat.state is not None and chat.state.step == "topic"


async def test_typed_address_fills_the_district(chat: Chat) -> None:
    await chat.say("这里的情况已经持续很久了，一直没有人来处理")
    await chat.say("1")
    await chat.say("乌鲁木齐市天山区解放北路100号")
    assert chat.state is not None and chat.state.draft.place is not None
    assert chat.state.draft.place.district == "天山区"


async def test_edit_from_the_summary_returns_to_the_summary(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:edit")
    assert "edit:type" in chat.choice_ids()
    await chat.tap("edit:type")
    await chat.tap("type:suggestion")
    assert chat.state is not None and chat.state.step == "confirm"
    assert "建议" in chat.text() and "请确认" in chat.text()


async def test_phone_and_photos_can_be_added_on_the_summary(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.photo("a")
    await chat.photo("b")
    assert "共2张" in chat.text()
    await chat.say("13812345678")
    assert "13812345678" in chat.text()
    await chat.say("补充一下：附近还有两个路灯也不亮")
    assert "已补充" in chat.text()
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.phone == "13812345678"
    assert [m.ref for m in draft.media] == ["a", "b"]
    assert draft.details.endswith("附近还有两个路灯也不亮")


async def test_photos_are_capped(chat: Chat) -> None:
    await chat.say(RICH)
    for i in range(10):
        await chat.photo(str(i))
    assert "最多可附9张" in chat.text()
    assert chat.state is not None and len(chat.state.draft.media) == 9


async def test_english_message_gets_english_replies(chat: Chat) -> None:
    await chat.say("The street lights on Jiefang North Road in Tianshan district, Urumqi have been broken for a week")
    assert "Please confirm" in chat.text()
    assert chat.state is not None and chat.state.locale == "en"


# --- commands at every step ---------------------------------------------------------------------

STEPS = {
    "idle": [],
    "details": ["你好"],
    "topic": ["这里的情况已经持续很久了，一直没有人来处理"],
    "location": ["这里的情况已经持续很久了，一直没有人来处理", "1"],
    "confirm": [RICH],
    "edit": [RICH, "修改"],
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_cancel_at_every_step(chat: Chat, step: str) -> None:
    for said in STEPS[step]:
        await chat.say(said)
    await chat.say("取消")
    expected = "当前没有正在填写" if step == "idle" else "已取消"
    assert expected in chat.text()
    assert chat.state is not None and chat.state.form is None


@pytest.mark.parametrize("step", list(STEPS))
async def test_help_at_every_step_keeps_the_step(chat: Chat, step: str) -> None:
    for said in STEPS[step]:
        await chat.say(said)
    before = chat.state.step if chat.state else None
    await chat.say("帮助")
    assert "“我的”查看办理进度" in chat.text()
    assert (chat.state.step if chat.state else None) == before


@pytest.mark.parametrize("step", list(STEPS))
async def test_language_switch_at_every_step_reasks_in_english(chat: Chat, step: str) -> None:
    for said in STEPS[step]:
        await chat.say(said)
    await chat.say("English")
    assert "Switched to English" in chat.text()
    assert chat.state is not None and chat.state.locale == "en"
    if step != "idle":
        assert len(chat.last) == 2  # the current question again, in English
        assert not re.search(r"[\u4e00-\u9fff]", chat.last[1].text.split("：")[0][:10])
    await chat.say("中文")
    assert "已切换为中文" in chat.text()


@pytest.mark.parametrize("step", list(STEPS))
async def test_my_inquiries_at_every_step(chat: Chat, step: str) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    for said in STEPS[step]:
        await chat.say(said)
    await chat.say("我的")
    assert "WZ20261122-0001" in chat.text() and "已提交" in chat.text()


async def test_back_undoes_the_last_answer(chat: Chat) -> None:
    await chat.say("这里的情况已经持续很久了，一直没有人来处理")
    await chat.say("交通运输")
    assert chat.state is not None and chat.state.step == "location"
    await chat.say("返回")
    assert chat.state.step == "topic" and chat.state.draft.topic_code is None
    await chat.say("返回")
    assert chat.state.step == "details" and chat.state.draft.details is None
    await chat.say("返回")
    assert "已经是第一步" in chat.text()


async def test_back_from_an_edit_returns_to_the_summary(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.say("修改")
    await chat.say("返回")
    assert chat.state is not None and chat.state.step == "confirm" and "请确认" in chat.text()


async def test_new_restarts_the_form(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.say("我要问政")
    assert chat.state is not None and chat.state.step == "details" and chat.state.draft.details is None


@pytest.mark.parametrize("said", ["/foo", "/unknown_cmd arg"])
async def test_unknown_commands_get_help_and_file_nothing(chat: Chat, said: str) -> None:
    await chat.say(said)
    assert "暂不支持" in chat.text() and "帮助" in chat.text()
    assert chat.state is not None and chat.state.form is None


async def test_slash_commands_with_bot_suffix_work(chat: Chat) -> None:
    await chat.say("/help@WenzhengBot")
    assert "“我的”查看办理进度" in chat.text()


# --- ticket lookups -----------------------------------------------------------------------------


async def test_own_ticket_number_shows_its_status(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("wz20261122-0001")
    assert "状态：已提交" in chat.text()


async def test_someone_elses_number_reads_like_an_unknown_one(chat: Chat) -> None:
    await chat.say("WZ20261122-0042")
    assert "没有找到编号为WZ20261122-0042" in chat.text()


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("said", ["", "   ", "\u200b\u200b", "\n\t"])
async def test_empty_and_whitespace_messages_are_answered_politely(chat: Chat, said: str) -> None:
    await chat.say(said)
    assert "没有收到内容" in chat.text()
    assert chat.state is not None and chat.state.form is None


async def test_very_long_message_gets_a_limit_notice_and_files_nothing(chat: Chat) -> None:
    await chat.say("路灯坏了" * 5000)
    assert "20000字" in chat.text() and "5000字" in chat.text() and "已保存" in chat.text()
    assert chat.state is not None and chat.state.draft.details is None
    assert not chat.port.filed


async def test_too_short_description_is_asked_again(chat: Chat) -> None:
    await chat.say("你好")
    await chat.say("坏了")
    assert "至少写5个字" in chat.text()
    assert chat.state is not None and chat.state.step == "details"


@pytest.mark.parametrize(
    "details",
    [
        "路灯坏了😡😡😡晚上太黑了🌃，市南区香港中路",
        "שלום路灯坏了市南区香港中路مرحبا晚上很危险",
        "路\u200b灯\u200d坏了\u202e很久了，市南区香港中路",
    ],
)
async def test_emoji_rtl_and_zero_width_text_is_kept_intact(chat: Chat, details: str) -> None:
    await chat.say(details)
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.details == details


async def test_voice_without_recognition_asks_to_type(chat: Chat) -> None:
    await chat.send(chat._inbound(MessageKind.VOICE, media=(MediaRef("voice", "v1"),)))
    assert "无法识别语音" in chat.text()


async def test_voice_with_recognition_counts_as_text(chat: Chat) -> None:
    await chat.send(chat._inbound(MessageKind.VOICE, text=RICH))
    assert "请确认" in chat.text()


async def test_unsupported_media_gets_a_polite_reply_and_keeps_the_step(chat: Chat) -> None:
    await chat.say("你好")
    await chat.send(chat._inbound(MessageKind.UNSUPPORTED))
    assert "暂不支持这种消息" in chat.text() and "请具体描述问题" in chat.text()
    assert chat.state is not None and chat.state.step == "details"


async def test_double_tap_on_submit_files_once(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.tap("confirm:submit")
    assert "已经提交过了" in chat.text() and "WZ20261122-0001" in chat.text()
    assert len(chat.port.filed) == 1


async def test_resubmitting_the_same_form_after_a_lost_answer_files_once(chat: Chat) -> None:
    """A crash after the ticket committed but before the state was saved: the old state submits again."""
    await chat.say(RICH)
    before = chat.state
    await chat.tap("confirm:submit")
    chat.state = before
    await chat.tap("confirm:submit")
    assert len(chat.port.filed) == 1 and "已经提交过了" in chat.text()


async def test_an_idle_form_expires_and_the_citizen_is_told(chat: Chat) -> None:
    await chat.say(RICH)
    chat.now = T0 + timedelta(minutes=31)
    await chat.say("提交")
    assert "超过30分钟未完成，已重置" in chat.text()
    assert not chat.port.filed


async def test_a_form_within_the_idle_limit_survives(chat: Chat) -> None:
    await chat.say(RICH)
    chat.now = T0 + timedelta(minutes=29)
    await chat.say("提交")
    assert len(chat.port.filed) == 1


async def test_subscribe_event_gets_a_welcome(chat: Chat) -> None:
    await chat.send(chat._inbound(MessageKind.EVENT, event="subscribe"))
    assert "您好" in chat.text()


# --- state ----------------------------------------------------------------------------------------


async def test_state_survives_json_round_trip(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.photo("x")
    assert chat.state is not None
    again = SessionState.from_json(chat.state.to_json())
    assert again == chat.state
    assert again == replace(chat.state)


# --- after filing: rating, adding information, withdrawing -----------------------------------------


async def filed_and_answered(chat: Chat) -> str:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    number = chat.port.filed[-1][0]
    chat.port.answered.append(number)
    return number


@pytest.mark.parametrize(
    ("press", "score"), [("rate:{n}:1", 1), ("rate:{n}:2", 2), ("1", 1), ("基本满意", 2), ("Satisfied", 1)]
)
async def test_rating_by_button_or_text(chat: Chat, press: str, score: int) -> None:
    number = await filed_and_answered(chat)
    if press.startswith("rate:"):
        await chat.tap(press.format(n=number))
    else:
        await chat.say(press)
    assert "感谢您的评价" in chat.text()
    assert chat.port.ratings == [(number, score, "")]


async def test_not_satisfied_asks_why_and_passes_the_reason_on(chat: Chat) -> None:
    number = await filed_and_answered(chat)
    await chat.tap(f"rate:{number}:3")
    assert "不满意的原因" in chat.text() and chat.choice_ids() == ["skip"]
    await chat.say("路灯还是不亮")
    assert "退回办理部门重新办理" in chat.text()
    assert chat.port.ratings == [(number, 3, "路灯还是不亮")]
    assert chat.state is not None and chat.state.rating_ticket is None


async def test_not_satisfied_reason_can_be_skipped(chat: Chat) -> None:
    number = await filed_and_answered(chat)
    await chat.say("不满意")
    await chat.tap("skip")
    assert chat.port.ratings == [(number, 3, "")]


async def test_a_command_while_asked_why_cancels_the_question(chat: Chat) -> None:
    number = await filed_and_answered(chat)
    await chat.tap(f"rate:{number}:3")
    await chat.say("帮助")
    assert chat.state is not None and chat.state.rating_ticket is None and chat.port.ratings == []


async def test_digits_are_not_ratings_when_nothing_waits(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("1")
    assert chat.port.ratings == []


async def test_rating_an_unknown_or_finished_ticket_is_refused(chat: Chat) -> None:
    await chat.tap("rate:WZ20261122-0099:1")
    assert "当前不需要评价" in chat.text() and chat.port.ratings == []


async def test_adding_information_to_the_latest_or_a_named_ticket(chat: Chat) -> None:
    await chat.say("补充 旁边还有一盏")
    assert "没有正在办理的问政" in chat.text()
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("补充 旁边还有一盏")
    await chat.say("补充 WZ20261122-0001 今晚更暗了")
    assert chat.port.supplements == [("WZ20261122-0001", "旁边还有一盏"), ("WZ20261122-0001", "今晚更暗了")]
    await chat.say("补充")
    assert "写上要补充的内容" in chat.text()


async def test_withdrawing_asks_first_and_acts_only_on_confirmation(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("撤回 WZ20261122-0001")
    assert chat.text() == "确定撤回WZ20261122-0001？撤回后将不再办理。"
    assert [(c.id, c.label) for c in chat.last[0].choices] == [
        ("withdraw:yes:WZ20261122-0001", "确定撤回"),
        ("withdraw:no:WZ20261122-0001", "不撤回"),
    ]
    assert chat.port.withdrawn == []  # nothing happened yet
    await chat.tap("withdraw:no:WZ20261122-0001")
    assert "没有撤回" in chat.text() and chat.port.withdrawn == []
    await chat.say("撤回 WZ20261122-0001")
    await chat.tap("withdraw:yes:WZ20261122-0001")
    assert chat.text() == "问政WZ20261122-0001已撤回。" and chat.port.withdrawn == ["WZ20261122-0001"]
    await chat.say("撤回 WZ20261122-0001")
    assert "无法撤回" in chat.text()
    await chat.say("撤回")
    assert "写上问政编号" in chat.text()


@pytest.mark.parametrize(
    ("answer", "withdrawn"),
    [("1", True), ("确定撤回", True), ("是", True), ("2", False), ("不撤回", False), ("取消", False)],
)
async def test_withdrawal_is_confirmed_by_typing_where_there_are_no_buttons(
    chat: Chat, answer: str, withdrawn: bool
) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("撤回 WZ20261122-0001")
    await chat.say(answer)
    assert chat.port.withdrawn == (["WZ20261122-0001"] if withdrawn else [])
    assert ("已撤回" if withdrawn else "没有撤回") in chat.text()
    assert chat.state is not None and chat.state.withdraw_ticket is None


async def test_anything_else_after_the_question_withdraws_nothing(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("撤回 WZ20261122-0001")
    assert chat.state is not None and chat.state.withdraw_ticket == "WZ20261122-0001"
    again = SessionState.from_json(chat.state.to_json())  # the question survives the session store
    assert again.withdraw_ticket == "WZ20261122-0001"
    await chat.say("我的")
    assert "WZ20261122-0001" in chat.text() and chat.state.withdraw_ticket is None
    await chat.say("1")  # no longer an answer to the question
    assert chat.port.withdrawn == []


async def test_an_unanswered_withdrawal_question_expires(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("撤回 WZ20261122-0001")
    chat.now += timedelta(minutes=31)
    await chat.say("1")
    assert chat.port.withdrawn == [] and "已撤回" not in chat.text()


async def test_english_withdrawal_question(chat: Chat) -> None:
    await chat.say("English")
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("withdraw WZ20261122-0001")
    assert chat.text() == "Withdraw WZ20261122-0001? It will no longer be handled."
    assert [c.label for c in chat.last[0].choices] == ["Withdraw", "Keep it"]
    await chat.say("yes")
    assert chat.text() == "Inquiry WZ20261122-0001 has been withdrawn."


@pytest.mark.parametrize("command", ["撤回 {}", "补充 {} 楼下也坏了", "{}", "withdraw {}", "add {} more"])
async def test_someone_elses_number_answers_exactly_like_an_unknown_one(chat: Chat, command: str) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")  # this citizen owns WZ20261122-0001 only
    other = Chat(chat.engine, port=MemoryIntakePort())  # another citizen, with no tickets of their own
    await other.say(command.format("WZ20261122-0001"))  # exists, but not theirs
    theirs = other.text().replace("WZ20261122-0001", "N")
    await other.say(command.format("WZ20261122-0777"))  # does not exist at all
    assert theirs == other.text().replace("WZ20261122-0777", "N")
    assert "没有找到编号为N的问政" in theirs
    assert chat.port.withdrawn == [] and chat.port.supplements == []


@pytest.mark.parametrize(
    "typed",
    [
        "20261122-0001",
        "wz20261122-0001",
        "ＷＺ２０２６１１２２－０００１",
        "２０２６１１２２－０００１",
        "WZ 20261122 - 0001",
        " 20261122 0001。",
    ],
)
async def test_a_number_without_the_prefix_or_in_full_width_is_a_lookup(chat: Chat, typed: str) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say(typed)
    assert "WZ20261122-0001" in chat.text() and "状态：已提交" in chat.text()
    assert chat.state is not None and chat.state.form is None and len(chat.port.filed) == 1


async def test_commands_take_the_number_without_its_prefix(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    await chat.say("补充 20261122-0001 楼下也坏了")
    assert chat.port.supplements == [("WZ20261122-0001", "楼下也坏了")]
    await chat.say("撤回 ２０２６１１２２－０００１")
    assert chat.state is not None and chat.state.withdraw_ticket == "WZ20261122-0001"


@pytest.mark.parametrize("said", ["13812345678", "0532-12345678", "20261306-0001", "订单号20261122-0001"])
async def test_phone_numbers_and_impossible_dates_are_not_lookups(chat: Chat, said: str) -> None:
    await chat.say(said)
    assert "没有找到编号" not in chat.text()
