"""A small form engine: slots declared as data, answered in order, each with its own prompt and
validator, in the spirit of python-telegram-bot's ConversationHandler states and Rasa forms.

A form is a tuple of ``Slot`` values; the engine asks the first slot that is ``needed`` and still
``missing``, hands the citizen's answer to that slot's ``accept``, and keeps a history so "back"
can undo. Nothing here knows about any platform: buttons are ``Option`` values and each channel
renders them as it can.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.base import Choice, Inbound, MessageKind, Outbound
from dialogs.address import AddressParser
from dialogs.extraction import Extractor
from dialogs.state import IntakeDraft
from dialogs.taxonomy import Bilingual, Taxonomy

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_EDGE_PUNCT = " \t\r\n。.!！~～、,，;；:：\"'“”‘’()（）[]【】<>《》"


def normalize(text: str) -> str:
    """For matching only (commands, choices): the stored text is never changed."""
    folded = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return folded.strip().strip(_EDGE_PUNCT).lower()


@dataclass(frozen=True, slots=True)
class Settings:
    timezone: ZoneInfo
    idle_minutes: float = 30
    min_details_chars: int = 5
    max_details_chars: int = 5000
    max_photos: int = 9
    default_locale: str = "zh"


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a slot may consult while it validates an answer."""

    taxonomy: Taxonomy
    extractor: Extractor
    addresses: AddressParser
    settings: Settings
    locale: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Option:
    """A choice with both labels, so "投诉" and "Complaint" match whatever language is shown."""

    id: str
    name: Bilingual
    aliases: tuple[str, ...] = ()

    def choice(self, locale: str) -> Choice:
        return Choice(self.id, self.name.get(locale))


def options_to_choices(options: Sequence[Option], locale: str) -> tuple[Choice, ...]:
    return tuple(o.choice(locale) for o in options)


def option_number(said: str) -> int | None:
    """``said`` as an option's number, or None. Checked before ``int()``: ``isdigit`` is true for
    "²" or "①", which ``int()`` refuses, and ``int()`` raises past 4,300 digits; a decimal of
    more than four digits can be no option's number anyway."""
    return int(said) if said.isdecimal() and len(said) <= 4 else None


def match_option(options: Sequence[Option], inbound: Inbound) -> Option | None:
    """A button press, a label in either language, an alias or the option's number ("2")."""
    if inbound.kind is MessageKind.CHOICE and inbound.choice_id is not None:
        return next((o for o in options if o.id == inbound.choice_id), None)
    if inbound.kind is not MessageKind.TEXT:
        return None
    said = normalize(inbound.text)
    if not said:
        return None
    number = option_number(said)
    if number is not None and 1 <= number <= len(options):
        return options[number - 1]
    for option in options:
        names = (option.name.zh, option.name.en, option.id, *option.aliases)
        if said in {normalize(n) for n in names}:
            return option
    return None


@dataclass(frozen=True, slots=True)
class Accepted:
    draft: IntakeDraft
    notes: tuple[str, ...] = ()  # short confirmations ("地点已记录：…") shown before the next prompt


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str  # already in the citizen's language
    prompt: Outbound | None = None  # asked instead of the slot's own prompt (e.g. "show all options")


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    label: Bilingual
    prompt: Callable[[Context, IntakeDraft], Outbound]
    accept: Callable[[Context, IntakeDraft, Inbound], Accepted | Rejected]
    missing: Callable[[IntakeDraft], bool]
    needed: Callable[[Context, IntakeDraft], bool]
    clear: Callable[[IntakeDraft], IntakeDraft]


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    slots: tuple[Slot, ...]

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)

    def next_slot(self, ctx: Context, draft: IntakeDraft) -> Slot | None:
        return next((s for s in self.slots if s.needed(ctx, draft) and s.missing(draft)), None)
