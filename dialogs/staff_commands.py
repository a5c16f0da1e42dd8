"""Staff commands, typed in Chinese or English, or pressed as a card button.

Parsing is separate from acting so the grammar can be tested exhaustively and every channel (the
/staff page, a Telegram group, WeChat) shares it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from adapters.base import Inbound, MessageKind
from dialogs.commands import TICKET_NUMBER
from dialogs.forms import normalize


class Verb(StrEnum):
    CLAIM = "claim"
    REPLY = "reply"
    NOTE = "note"
    TRANSFER = "transfer"
    EXTEND = "extend"
    REJECT = "reject"
    CLOSE = "close"
    DUPLICATE = "duplicate"
    RETOPIC = "retopic"
    SHOW = "show"
    QUEUE = "queue"
    FAILED = "failed"
    HELP = "help"


_WORDS: dict[str, Verb] = {
    **dict.fromkeys(("接单", "claim", "/claim"), Verb.CLAIM),
    **dict.fromkeys(("回复", "答复", "reply", "/reply"), Verb.REPLY),
    **dict.fromkeys(("备注", "note", "/note"), Verb.NOTE),
    **dict.fromkeys(("转办", "transfer", "/transfer"), Verb.TRANSFER),
    **dict.fromkeys(("延期", "extend", "/extend"), Verb.EXTEND),
    **dict.fromkeys(("不予受理", "reject", "/reject"), Verb.REJECT),
    **dict.fromkeys(("办结", "close", "/close"), Verb.CLOSE),
    **dict.fromkeys(("重复", "duplicate", "/duplicate"), Verb.DUPLICATE),
    **dict.fromkeys(("改类", "改主题", "retopic", "/retopic"), Verb.RETOPIC),
    **dict.fromkeys(("查看", "show", "/show"), Verb.SHOW),
    **dict.fromkeys(("待办", "queue", "/queue"), Verb.QUEUE),
    **dict.fromkeys(("投递失败", "failed", "/failed", "undelivered"), Verb.FAILED),
    **dict.fromkeys(("帮助", "help", "/help", "/start"), Verb.HELP),
}

# What each verb needs after the ticket number: (argument required, text required).
USAGE: dict[Verb, str] = {
    Verb.CLAIM: "接单 WZ20261122-0007",
    Verb.REPLY: "回复 WZ20261122-0007 答复内容",
    Verb.NOTE: "备注 WZ20261122-0007 内部备注",
    Verb.TRANSFER: "转办 WZ20261122-0007 部门代码 原因",
    Verb.EXTEND: "延期 WZ20261122-0007 2026-12-31 原因",
    Verb.REJECT: "不予受理 WZ20261122-0007 原因",
    Verb.CLOSE: "办结 WZ20261122-0007",
    Verb.DUPLICATE: "重复 WZ20261122-0007 WZ20261120-0003",
    Verb.RETOPIC: "改类 WZ20261122-0007 主题代码或名称（如 urban 或 城市管理）",
    Verb.SHOW: "查看 WZ20261122-0007",
    Verb.QUEUE: "待办",
    Verb.FAILED: "投递失败",
    Verb.HELP: "帮助",
}
_NEEDS_NUMBER = frozenset(USAGE) - {Verb.QUEUE, Verb.FAILED, Verb.HELP}
_NEEDS_ARGUMENT = frozenset({Verb.TRANSFER, Verb.EXTEND, Verb.DUPLICATE, Verb.RETOPIC})
_NEEDS_TEXT = frozenset({Verb.REPLY, Verb.NOTE, Verb.TRANSFER, Verb.EXTEND, Verb.REJECT})

_VERB_FIRST = re.compile(r"^\s*(\S+?)(?:@\w+)?(?:[\s:：]+(.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class StaffCommand:
    verb: Verb
    number: str | None = None
    argument: str | None = None  # department code, new due date, original ticket number, topic
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
    if verb in _NEEDS_NUMBER and number is None:
        return Malformed(verb, USAGE[verb])
    argument = None
    if verb in _NEEDS_ARGUMENT:
        head, _, tail = rest.partition(" ")
        if not head:
            return Malformed(verb, USAGE[verb])
        argument, rest = head.strip(), tail.strip()
        if verb is Verb.DUPLICATE:
            original = TICKET_NUMBER.fullmatch(argument.upper())
            if original is None:
                return Malformed(verb, USAGE[verb])
            argument = original.group(0)
    if verb in _NEEDS_TEXT and not rest:
        return Malformed(verb, USAGE[verb])
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
    if verb not in (Verb.CLAIM, Verb.SHOW, Verb.CLOSE) or not TICKET_NUMBER.fullmatch(parts[2]):
        return Malformed(verb, USAGE.get(verb, ""))
    return StaffCommand(verb, parts[2])
