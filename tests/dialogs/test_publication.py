"""公开 consent in the dialog: a toggle on the summary (default no, costs nothing when skipped),
typed or tapped, in both languages, and 公开 / 不公开 编号 afterwards for the citizen's own tickets."""

from __future__ import annotations

import pytest

from dialogs.engine import DialogEngine
from tests.dialogs.test_engine import RICH, Chat
from tests.dialogs.test_engine import engine as engine


@pytest.fixture
def chat(engine: DialogEngine) -> Chat:
    return Chat(engine)


async def test_default_is_not_published_and_skipping_costs_no_message(chat: Chat) -> None:
    await chat.say(RICH)
    assert "公开：否" in chat.text()
    await chat.tap("confirm:submit")  # the second message files, as before the question existed
    ((_number, draft),) = chat.port.filed
    assert draft.publish is False


async def test_the_toggle_turns_consent_on_and_off_and_the_summary_says_so(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:publish")
    assert "公开：是" in chat.text()
    assert chat.choice_ids()[-1] == "confirm:private"  # the button now offers the way back
    await chat.tap("confirm:private")
    assert "公开：否" in chat.text() and chat.choice_ids()[-1] == "confirm:publish"
    await chat.tap("confirm:publish")
    await chat.tap("confirm:submit")
    ((_number, draft),) = chat.port.filed
    assert draft.publish is True


@pytest.mark.parametrize("typed", ["4", "同意公开", "公开"])
async def test_text_channels_toggle_by_number_or_word(chat: Chat, typed: str) -> None:
    await chat.say(RICH)
    await chat.say(typed)
    assert "公开：是" in chat.text()
    await chat.say("1")  # 提交 keeps its number
    ((_number, draft),) = chat.port.filed
    assert draft.publish is True


async def test_english_summary_and_toggle(chat: Chat) -> None:
    await chat.say("English")
    await chat.say("The streetlight on Hong Kong Middle Road in Shinan District has been broken for a week")
    assert "Publish: no" in chat.text()
    await chat.say("publish")
    assert "Publish: yes" in chat.text()
    await chat.say("submit")
    ((_number, draft),) = chat.port.filed
    assert draft.publish is True


async def test_consent_given_and_withdrawn_later_for_own_tickets_only(chat: Chat) -> None:
    await chat.say(RICH)
    await chat.tap("confirm:submit")
    ((number, _draft),) = chat.port.filed
    await chat.say(f"公开 {number}")
    assert chat.port.publication == {number: True}
    assert "已同意公开" in chat.text()
    await chat.say(f"不公开 {number.removeprefix('WZ')}")  # the loose forms of the number work too
    assert chat.port.publication == {number: False}
    assert "不公开" in chat.text()
    await chat.say("不公开 WZ20260101-0099")
    assert "WZ20260101-0099" in chat.text() and chat.port.publication == {number: False}
    await chat.say("unpublish")
    assert "unpublish" in chat.text() or "不公开" in chat.text()  # the usage line, no guess at a ticket
    assert chat.port.publication == {number: False}
