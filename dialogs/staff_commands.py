"""Staff commands, typed in Chinese or English, or pressed as a card button.

Parsing is separate from acting so the grammar can be tested exhaustively and every channel (the
/staff page, a Telegram group, WeChat) shares it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from adapters.base import Inbound, MessageKind
from dialogs.commands import TICKET_NUMBER, WordTable
from dialogs.forms import normalize
from dialogs.words import words


class Verb(StrEnum):
    CLAIM = "claim"
    ASSIGN = "assign"
    REPLY = "reply"
    NOTE = "note"
    TRANSFER = "transfer"
    EXTEND = "extend"
    REJECT = "reject"
    CLOSE = "close"
    DUPLICATE = "duplicate"
    RETOPIC = "retopic"
    SHOW = "show"
    HIDE = "hide"  # take a published item off /public, with a reason
    UNHIDE = "unhide"
    QUEUE = "queue"
    FAILED = "failed"
    SUPERVISED = "supervised"  # 督办列表 (tickets/escalation.py)
    UNSUPERVISE = "unsupervise"  # 解除督办 编号 原因
    HOT = "hot"  # 热点: the latest hot topics (tickets/hot_desk.py)
    SUBSCRIBE_HOT = "subscribe_hot"  # 订阅热点: the daily digest
    UNSUBSCRIBE_HOT = "unsubscribe_hot"  # 退订热点
    LINK = "link"  # 关联 编号 原编号: the same matter; its citizen follows the original (tickets/duplicates.py)
    UNLINK = "unlink"  # 取消关联 编号
    HELP = "help"


_WORDS: Final = WordTable.of(Verb, words().staff_verbs)


@dataclass(frozen=True, slots=True)
class VerbSpec:
    """What a verb needs after the ticket number, and how to write it."""

    usage: str
    needs_number: bool = True
    needs_argument: bool = False  # department code, new due date, original ticket number, topic
    needs_text: bool = False
    on_button: bool = False  # a card button may carry it


VERBS: Final[Mapping[Verb, VerbSpec]] = MappingProxyType(
    {
        Verb.CLAIM: VerbSpec("接单 WZ20261122-0007", on_button=True),
        Verb.ASSIGN: VerbSpec("分派 WZ20261122-0007 同事姓名", needs_argument=True),
        Verb.REPLY: VerbSpec("回复 WZ20261122-0007 答复内容", needs_text=True),
        Verb.NOTE: VerbSpec("备注 WZ20261122-0007 内部备注", needs_text=True),
        Verb.TRANSFER: VerbSpec("转办 WZ20261122-0007 部门代码 原因", needs_argument=True, needs_text=True),
        Verb.EXTEND: VerbSpec("延期 WZ20261122-0007 2026-12-31 原因", needs_argument=True, needs_text=True),
        Verb.REJECT: VerbSpec("不予受理 WZ20261122-0007 原因", needs_text=True),
        Verb.CLOSE: VerbSpec("办结 WZ20261122-0007", on_button=True),
        Verb.DUPLICATE: VerbSpec("重复 WZ20261122-0007 WZ20261120-0003", needs_argument=True),
        Verb.RETOPIC: VerbSpec("改类 WZ20261122-0007 主题代码或名称（如 urban 或 城市管理）", needs_argument=True),
        Verb.SHOW: VerbSpec("查看 WZ20261122-0007", on_button=True),
        Verb.HIDE: VerbSpec("撤下公开 WZ20261122-0007 原因", needs_text=True),
        Verb.UNHIDE: VerbSpec("恢复公开 WZ20261122-0007"),
        Verb.QUEUE: VerbSpec("待办", needs_number=False),
        Verb.FAILED: VerbSpec("投递失败", needs_number=False),
        Verb.SUPERVISED: VerbSpec("督办列表", needs_number=False),
        Verb.UNSUPERVISE: VerbSpec("解除督办 WZ20261122-0007 原因", needs_text=True),
        Verb.HOT: VerbSpec("热点", needs_number=False),
        Verb.SUBSCRIBE_HOT: VerbSpec("订阅热点", needs_number=False),
        Verb.UNSUBSCRIBE_HOT: VerbSpec("退订热点", needs_number=False),
        Verb.LINK: VerbSpec("关联 WZ20261122-0007 WZ20261120-0003", needs_argument=True),
        Verb.UNLINK: VerbSpec("取消关联 WZ20261122-0007"),
        Verb.HELP: VerbSpec("帮助", needs_number=False),
    }
)

_VERB_FIRST = re.compile(r"^\s*(\S+?)(?:@\w+)?(?:[\s:：]+(.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class StaffCommand:
    verb: Verb
    number: str | None = None
    argument: str | None = None  # department code, new due date, original ticket number, topic, colleague
    text: str = ""


@dataclass(frozen=True, slots=True)
class Malformed:
    verb: Verb | None
    usage: str


def parse_staff_command(inbound: Inbound, reply_to: str | None = None) -> StaffCommand | Malformed | None:
    """A command, a malformed command (with its usage), or None when the message is not one.

    ``reply_to`` is the ticket of the card a staff member replied to (on channels with replies):
    plain text then means "reply to the citizen", and a verb without a number applies to it."""
    if inbound.kind is MessageKind.CHOICE and inbound.choice_id:
        return _from_button(inbound.choice_id)
    if inbound.kind is not MessageKind.TEXT:
        return None
    said = inbound.text.strip()
    match = _VERB_FIRST.match(said)
    verb = _WORDS.get(normalize(match.group(1))) if match else None
    if verb is None:
        if reply_to is not None and said:
            return StaffCommand(Verb.REPLY, reply_to, None, said)
        return None
    rest = (match.group(2) or "").strip() if match else ""
    number = None
    found = TICKET_NUMBER.match(rest)
    if found:
        number = found.group(0).upper()
        rest = rest[found.end() :].strip()
    elif reply_to is not None:
        number = reply_to
    spec = VERBS[verb]
    if spec.needs_number and number is None:
        return Malformed(verb, spec.usage)
    argument = None
    if spec.needs_argument:
        head, _, tail = rest.partition(" ")
        if not head:
            return Malformed(verb, spec.usage)
        argument, rest = head.strip(), tail.strip()
        if verb in (Verb.DUPLICATE, Verb.LINK):
            original = TICKET_NUMBER.fullmatch(argument.upper())
            if original is None:
                return Malformed(verb, spec.usage)
            argument = original.group(0)
    if spec.needs_text and not rest:
        return Malformed(verb, spec.usage)
    return StaffCommand(verb, number, argument, rest)


def button_id(verb: Verb, number: str) -> str:
    """A card button's id, ``staff:claim:WZ20261122-0007`` (well under Telegram's 64 bytes)."""
    return f"staff:{verb.value}:{number}"


def _from_button(choice_id: str) -> StaffCommand | Malformed | None:
    parts = choice_id.split(":")
    if len(parts) != 3 or parts[0] != "staff":
        return None
    try:
        verb = Verb(parts[1])
    except ValueError:
        return None
    spec = VERBS[verb]
    if not spec.on_button or not TICKET_NUMBER.fullmatch(parts[2]):
        return Malformed(verb, spec.usage)
    return StaffCommand(verb, parts[2])
