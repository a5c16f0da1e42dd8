"""One sanitiser for everything a platform hands us, before it reaches a key, a hash or the database.

JSON can carry what no database column can: a lone surrogate (``"\\ud800"``) cannot be encoded as
UTF-8 (SQLite raises, PostgreSQL refuses the statement), and PostgreSQL's ``text`` and ``jsonb`` refuse
NUL outright. Such a message is not an outage: refused as a storage error it would be answered 503
and retried by the platform forever. So the text is made storable here, the same way on every
channel: lone surrogates become U+FFFD (the citizen's other words are kept), NUL and the other C0
control characters are dropped (a carriage return becomes a line break), tab and line breaks stay.

Numbers get the same treatment: coordinates must be finite and on the globe, platform ids must fit
the signed 64-bit integers the platforms use, and anything else is a payload no platform would send
(``ValueError``, answered 400 by the channel).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from adapters.base import ConversationRef, Inbound, Location, MediaRef

# Lone surrogates, NUL and the C0 controls other than tab and line feed (carriage return is
# handled first, so "\r\n" and "\r" become one "\n").
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def clean_text(value: str) -> str:
    """``value`` as any UTF-8 database stores it; unchanged (the same object) when already clean."""
    if _UNSAFE.search(value) is None:
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", value))


def clean_json(value: Any) -> Any:
    """A decoded JSON document with every string (keys included) cleaned; other values as they are.

    Applied where a body is decoded, so what is hashed into a message key, kept as ``raw`` and
    stored is the same clean text. Raises ``RecursionError`` only for documents nested deeper than
    the JSON parser itself accepts, which the readers already answer with 400.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def _optional(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def _texts(inbound: Inbound) -> Iterator[str]:
    ref = inbound.conversation
    yield from (inbound.channel, ref.channel, ref.account, ref.chat_id, inbound.message_key, inbound.text, inbound.raw)
    if inbound.location is not None:
        yield inbound.location.label
    for media in inbound.media:
        yield from (media.kind, media.ref, media.url or "")
    for value in (inbound.choice_id, inbound.event, inbound.sender_id, inbound.locale_hint, inbound.reply_to):
        if value is not None:
            yield value


def clean_inbound(inbound: Inbound) -> Inbound:
    """Every text field of ``inbound`` cleaned: the last line of defence before storage, whatever
    the channel (long polling and recovery too) parsed it from. A clean message (nearly every
    one: the JSON readers clean as they decode) is returned as it is, with nothing rebuilt."""
    if all(_UNSAFE.search(value) is None for value in _texts(inbound)):
        return inbound
    ref = inbound.conversation
    location = inbound.location
    return replace(
        inbound,
        channel=clean_text(inbound.channel),
        conversation=ConversationRef(clean_text(ref.channel), clean_text(ref.account), clean_text(ref.chat_id)),
        message_key=clean_text(inbound.message_key),
        text=clean_text(inbound.text),
        location=None if location is None else replace(location, label=clean_text(location.label)),
        media=tuple(MediaRef(clean_text(m.kind), clean_text(m.ref), _optional(m.url)) for m in inbound.media),
        choice_id=_optional(inbound.choice_id),
        event=_optional(inbound.event),
        sender_id=_optional(inbound.sender_id),
        raw=clean_text(inbound.raw),
        locale_hint=_optional(inbound.locale_hint),
        reply_to=_optional(inbound.reply_to),
    )


def coordinate(value: object, bound: float) -> float:
    """A latitude (``bound`` 90) or longitude (180) as a float: a JSON number or a numeric string,
    finite and within ±``bound``. ``ValueError`` otherwise, huge integers (``1e400`` written out)
    included, which ``float()`` would raise ``OverflowError`` for."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("a coordinate must be a number")
    if isinstance(value, str) and len(value) > 64:
        raise ValueError("a coordinate is a short number")
    try:
        number = float(value)
    except OverflowError as exc:
        raise ValueError("coordinate out of range") from exc
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise ValueError("coordinate out of range")
    return number


def location(lat: object, lon: object, label: str = "") -> Location:
    """A map pin from untrusted coordinates (see ``coordinate``)."""
    return Location(coordinate(lat, 90), coordinate(lon, 180), label)


def int64(value: object) -> int:
    """An integer id as platforms issue them (Telegram: signed 64-bit); ``ValueError`` otherwise,
    so an id no platform could send is refused before it is stored or used as a key."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an id must be an integer")
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("an id must fit in 64 bits")
    return value
