"""The staff command grammar, in Chinese and English, typed or pressed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.base import ConversationRef, Inbound, MessageKind
from dialogs.staff_commands import Malformed, StaffCommand, Verb, button_id, parse_staff_command

N = "WZ20261122-0007"


def typed(said: str) -> Inbound:
    return Inbound(
        "staffweb",
        ConversationRef("staffweb", "web", "staff-1"),
        "k",
        MessageKind.TEXT,
        datetime(2026, 11, 22, tzinfo=UTC),
        text=said,
    )


def pressed(choice: str) -> Inbound:
    return Inbound(
        "staffweb",
        ConversationRef("staffweb", "web", "staff-1"),
        "k",
        MessageKind.CHOICE,
        datetime(2026, 11, 22, tzinfo=UTC),
        choice_id=choice,
    )


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (f"接单 {N}", StaffCommand(Verb.CLAIM, N)),
        (f"claim {N.lower()}", StaffCommand(Verb.CLAIM, N)),
        (f"/claim@WenzhengBot {N}", StaffCommand(Verb.CLAIM, N)),
        (f"回复 {N} 路灯已于今天修复，感谢反映。", StaffCommand(Verb.REPLY, N, None, "路灯已于今天修复，感谢反映。")),
        (f"回复：{N} 多行\n答复", StaffCommand(Verb.REPLY, N, None, "多行\n答复")),
        (f"reply {N} Fixed today.", StaffCommand(Verb.REPLY, N, None, "Fixed today.")),
        (f"备注 {N} 已联系施工方", StaffCommand(Verb.NOTE, N, None, "已联系施工方")),
        (f"转办 {N} transport 属于公交线路问题", StaffCommand(Verb.TRANSFER, N, "transport", "属于公交线路问题")),
        (f"延期 {N} 2026-12-31 需要协调多个部门", StaffCommand(Verb.EXTEND, N, "2026-12-31", "需要协调多个部门")),
        (f"不予受理 {N} 属于司法程序", StaffCommand(Verb.REJECT, N, None, "属于司法程序")),
        (f"办结 {N}", StaffCommand(Verb.CLOSE, N)),
        (f"重复 {N} WZ20261120-0003", StaffCommand(Verb.DUPLICATE, N, "WZ20261120-0003")),
        (f"查看 {N}", StaffCommand(Verb.SHOW, N)),
        ("待办", StaffCommand(Verb.QUEUE)),
        ("queue", StaffCommand(Verb.QUEUE)),
        ("帮助", StaffCommand(Verb.HELP)),
    ],
)
def test_typed_commands(said: str, expected: StaffCommand) -> None:
    assert parse_staff_command(typed(said)) == expected


@pytest.mark.parametrize(
    "said",
    [
        "接单",
        f"回复 {N}",
        "回复 路灯修好了",
        f"转办 {N}",
        f"转办 {N} transport",
        f"延期 {N} 2026-12-31",
        f"不予受理 {N}",
        f"重复 {N} 不是编号",
        "查看",
    ],
)
def test_malformed_commands_carry_their_usage(said: str) -> None:
    parsed = parse_staff_command(typed(said))
    assert isinstance(parsed, Malformed) and "WZ20261122-0007" in parsed.usage


def test_other_text_is_not_a_command() -> None:
    assert parse_staff_command(typed("你好")) is None


def test_text_replying_to_a_card_answers_that_ticket() -> None:
    assert parse_staff_command(typed("已修复"), reply_to=N) == StaffCommand(Verb.REPLY, N, None, "已修复")
    assert parse_staff_command(typed("接单"), reply_to=N) == StaffCommand(Verb.CLAIM, N)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (button_id(Verb.CLAIM, N), StaffCommand(Verb.CLAIM, N)),
        (button_id(Verb.SHOW, N), StaffCommand(Verb.SHOW, N)),
        ("rate:WZ20261122-0007:1", None),
        ("staff:claim:not-a-number", Malformed(Verb.CLAIM, "接单 WZ20261122-0007")),
        ("staff:nonsense:" + N, None),
    ],
)
def test_card_buttons(choice: str, expected: StaffCommand | Malformed | None) -> None:
    assert parse_staff_command(pressed(choice)) == expected
    assert len(choice.encode()) <= 64  # Telegram's callback_data limit
