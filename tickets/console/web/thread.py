"""A ticket's history in words: "2026年12月6日 09:12 张三（承办人）签收", not "claim staff:3".

Pure: given the events, the people and the directory, it returns what to show, so a page renders
a whole thread with one query for the events and one for the staff names (no query per line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.formatting import day, moment
from tickets.console.web.texts import known, t

# Which lines the citizen wrote or was told (shown as chat bubbles), the rest are staff notes.
CITIZEN_KINDS = frozenset({"submitted", "supplement", "withdraw", "rate_satisfied", "rate_unsatisfied"})
TO_CITIZEN_KINDS = frozenset({"reply"})
INTERNAL_KINDS = frozenset({"note"})


@dataclass(frozen=True, slots=True)
class ThreadLine:
    when: str
    who: str
    what: str
    side: str  # citizen | staff | system: how the line is drawn
    internal: bool  # an internal note: never shown to the citizen


def who_is(actor: str, names: Mapping[int, str], locale: str) -> tuple[str, str]:
    """A name and a side for an actor string (``staff:3``, ``citizen:1``, ``system``)."""
    kind, _, ident = actor.partition(":")
    if kind == "staff":
        with contextlib.suppress(ValueError):
            staff_id = int(ident)
            return names.get(staff_id) or t("someone", locale, id=staff_id), "staff"
        return actor, "staff"
    if kind == "citizen":
        return t("citizen", locale), "citizen"
    return t("system", locale), "system"


def describe(
    kind: str,
    data: Mapping[str, Any],
    *,
    locale: str,
    tz: ZoneInfo,
    dept_name: Callable[[str | None], str],
    topic_name: Callable[[str | None], str],
) -> str:
    key = f"ev_{kind}"
    if not known(key):
        return t("ev_other", locale, kind=kind)
    values: dict[str, object] = {
        "to_department": dept_name(str(data.get("department") or data.get("to") or "") or None),
        "reason": data.get("reason") or "-",
        "note": data.get("note") or "",
        "answer": data.get("answer") or "",
        "original": data.get("original") or "-",
        "text": data.get("text") or "",
        "topic": topic_name(str(data.get("topic") or "") or None),
        "why": _why(data.get("why") or data.get("cause"), locale),  # 督办 steps (#16) say ``cause``
        "ticket": data.get("ticket") or "-",
        "earlier": data.get("earlier") or "-",
        "due": _due(data.get("due"), locale, tz),
        "assignee": _assignee(data),
    }
    return t(key, locale, **values)


def _due(value: object, locale: str, tz: ZoneInfo) -> str:
    if not isinstance(value, str):
        return "-"
    try:
        return day(datetime.fromisoformat(value), locale, tz)
    except ValueError:
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value).isoformat()
    return value


def _why(code: object, locale: str) -> str:
    """A stored reason code (``overdue_respond``) in words; an unknown one as it is."""
    key = f"why_{code}"
    return t(key, locale) if known(key) else str(code or "-")


def _assignee(data: Mapping[str, Any]) -> str:
    """分派 records the colleague's name (``staff``) as it was then."""
    return str(data.get("staff") or "-")


@dataclass(frozen=True, slots=True)
class EventLike:
    kind: str
    actor: str
    data: Mapping[str, Any]
    created_at: datetime


def thread(
    events: Sequence[EventLike],
    *,
    names: Mapping[int, str],
    locale: str,
    tz: ZoneInfo,
    dept_name: Callable[[str | None], str],
    topic_name: Callable[[str | None], str],
) -> list[ThreadLine]:
    lines = []
    for event in events:
        who, side = who_is(event.actor, names, locale)
        what = describe(
            event.kind,
            event.data or {},
            locale=locale,
            tz=tz,
            dept_name=dept_name,
            topic_name=topic_name,
        )
        lines.append(
            ThreadLine(
                when=moment(event.created_at, locale, tz),
                who=who,
                what=what,
                side="citizen" if event.kind in CITIZEN_KINDS else side,
                internal=event.kind in INTERNAL_KINDS,
            )
        )
    return lines
