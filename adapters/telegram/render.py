"""How an ``Outbound`` looks on Telegram: message parts, inline keyboards, the location button.

Kept apart from the channel so the rules Telegram enforces on a message (4096 characters,
64-byte ``callback_data``, reply keyboards only in private chats) are pure functions, tested
without a server, and the channel only decides when and where to send.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from adapters.base import Choice, Outbound

MAX_TEXT = 4096  # Bot API sendMessage limit
MAX_CALLBACK_DATA = 64  # bytes
CHOSEN_MARK = "✓ "  # prefixed to the button a person pressed, so the chat shows what was chosen
SHARE_LOCATION: Mapping[str, str] = MappingProxyType({"zh": "📍 发送位置", "en": "📍 Share location"})

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_BREAKS = ("\n\n", "\n", "。", "！", "？", ". ", "; ", "；", "，", ", ", " ")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


@dataclass(frozen=True, slots=True)
class Part:
    """One ``sendMessage`` call: a long message becomes several, the keyboard rides on the last."""

    text: str
    markup: Markup | None = None


def utf16_len(text: str) -> int:
    """Telegram counts UTF-16 code units: an emoji outside the BMP is two of them."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into pieces Telegram accepts, preferring paragraph, sentence and word ends so
    an answer reads naturally across messages; a piece is never empty."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        head = _prefix_within(rest, limit)
        cut = len(head)
        for mark in _BREAKS:
            at = head.rfind(mark)
            if at >= len(head) // 2:  # a break in the second half; earlier ones waste too much room
                cut = at + len(mark)
                break
        pieces.append(rest[:cut].rstrip() or rest[:cut])
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-16 units (never half a surrogate pair)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def language_of(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def callback_data_fits(choice_id: str) -> bool:
    return 0 < len(choice_id.encode("utf-8")) <= MAX_CALLBACK_DATA


def inline_keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup:
    """Short option sets (满意 / 基本满意 / 不满意) in one row, longer lists two to a row when the
    labels are short, else one per row, so labels are not cut off on a phone."""
    buttons = [InlineKeyboardButton(c.label, callback_data=c.id) for c in choices]
    labels = [len(c.label) for c in choices]
    if len(buttons) <= 3 and sum(labels) <= 18:
        width = len(buttons) or 1
    elif max(labels, default=0) <= 10:
        width = 2
    else:
        width = 1
    return InlineKeyboardMarkup([buttons[i : i + width] for i in range(0, len(buttons), width)])


def location_keyboard(message: Outbound) -> ReplyKeyboardMarkup:
    """A "share location" button (private chats only); the message's choices become plain buttons
    whose label the dialog accepts as typed text (it matches labels in both languages)."""
    rows = [[KeyboardButton(SHARE_LOCATION[language_of(message.text)], request_location=True)]]
    rows += [[KeyboardButton(c.label)] for c in message.choices]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def render(message: Outbound, *, private: bool) -> list[Part]:
    """The parts to send for ``message`` in a private chat or a group.

    Choices become an inline keyboard; if an id is too long for ``callback_data`` the message
    falls back to numbered text (the dialog understands "1", "2", …) rather than failing.
    A location request is a reply keyboard in private chats; groups cannot share locations.
    """
    markup: Markup | None = None
    text = message.text
    if message.request_location and private:
        markup = location_keyboard(message)
    elif message.choices:
        if all(callback_data_fits(c.id) for c in message.choices):
            markup = inline_keyboard(message.choices)
        else:
            text = message.as_numbered_text()
    if not text.strip():
        text = "…"  # Telegram refuses empty messages; a keyboard still needs a message to carry it
    pieces = split_text(text)
    return [Part(piece, markup if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)]


def mark_choice(markup: InlineKeyboardMarkup, data: str) -> InlineKeyboardMarkup | None:
    """The keyboard with the pressed button marked (and any earlier mark removed), or None when
    nothing would change (Telegram answers 400 to an edit that changes nothing)."""
    changed = False
    rows: list[list[InlineKeyboardButton]] = []
    for row in markup.inline_keyboard:
        new_row: list[InlineKeyboardButton] = []
        for button in row:
            label = button.text.removeprefix(CHOSEN_MARK)
            if button.callback_data == data:
                label = CHOSEN_MARK + label
            if label != button.text:
                changed = True
            if label != button.text and button.callback_data is not None:
                button = InlineKeyboardButton(label, callback_data=button.callback_data)
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(rows) if changed else None


def button_label(markup: InlineKeyboardMarkup | None, data: str) -> str:
    """The label of the button carrying ``data`` (without our mark), for the stored message text."""
    if markup is None:
        return ""
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text.removeprefix(CHOSEN_MARK)
    return ""
