"""What the dialogs need from the rest of the service, as protocols the bot implements.

The dialogs decide *what* to do (file this draft, list my tickets); the bot decides *how* (which
transaction, which department). A test can hand in any implementation of these protocols.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from adapters.base import MediaRef
from dialogs.taxonomy import Bilingual

_LEVEL_SUFFIX = re.compile(r"(?:省|市|区|县|自治区|自治州|自治县)$")


@dataclass(frozen=True, slots=True)
class Place:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str = ""
    lat: float | None = None
    lon: float | None = None

    def describe(self) -> str:
        """Each level once (a municipality is its own province and city: 北京市朝阳区), then what
        the address adds: the parts of it that repeat the levels are left out, so neither
        "北京市北京市朝阳区" nor "山东省青岛市市南区 市南区" reaches a citizen or staff."""
        levels = list(dict.fromkeys(p for p in (self.province, self.city, self.district) if p))
        admin = "".join(levels)
        address, continued = _without_levels(self.address.strip(), levels)
        if not admin and not address and self.lat is not None and self.lon is not None:
            return f"{self.lat:.5f}, {self.lon:.5f}"
        return (admin + address) if continued else " ".join(p for p in (admin, address) if p)


def _without_levels(address: str, levels: list[str]) -> tuple[str, bool]:
    """The address without the administrative names it repeats, and whether it began with them
    (then it reads on from the levels without a space: 山东省青岛市市南区香港中路8号)."""
    names = {n for level in levels for n in (level, _LEVEL_SUFFIX.sub("", level)) if len(n) >= 2}
    rest = _strip_heads(address, names, levels)
    continued = bool(rest) and rest != address
    for i in range(len(levels)):  # a label that names the levels in its middle (五四广场 山东省青岛市市南区东海西路)
        chain = "".join(levels[i:])
        if len(chain) >= 3 and chain in rest:
            rest = " ".join(rest.replace(chain, " ").split())
            break
    return rest, continued


def _strip_heads(address: str, names: set[str], levels: list[str]) -> str:
    """The shortest rest after taking level names off the front, in any order and form:
    青岛市南区… is 青岛 + 市南区, not 青岛市 + 南区."""
    best = address
    for name in names:
        if address.startswith(name) and not _street_named(address, name, levels):
            rest = _strip_heads(address[len(name) :].lstrip(" ,，、"), names - {name}, levels)
            if len(rest) < len(best):
                best = rest
    return best


def _street_named(rest: str, name: str, levels: list[str]) -> bool:
    """崂山路 is a street in 崂山区, not the district named again."""
    return name not in levels and rest[len(name) : len(name) + 1] in ("路", "街", "道", "巷", "大")


@dataclass(frozen=True, slots=True)
class TicketDraft:
    intake_key: str
    type_code: str
    topic_code: str
    place: Place | None
    details: str
    media: tuple[MediaRef, ...]
    phone: str | None
    locale: str
    publish: bool = False  # 公开 given on the summary


@dataclass(frozen=True, slots=True)
class FiledTicket:
    number: str
    respond_due: datetime
    answer_due: datetime
    answer_working_days: int
    new: bool
    department: Bilingual | None = None  # routed while filing: the reply says who handles it


@dataclass(frozen=True, slots=True)
class TicketSummary:
    number: str
    type_code: str
    topic_code: str
    status: str
    department: Bilingual | None
    answer_due: datetime
    created_at: datetime
    withdrawable: bool = False  # the citizen may still withdraw it (撤回): asked to confirm first


class RatingResult(StrEnum):
    RECORDED = "recorded"  # 满意 / 基本满意: closed
    REOPENED = "reopened"  # 不满意: back to the department once (退回重办)
    ESCALATED = "escalated"  # 不满意 again: 督办
    NOT_PENDING = "not_pending"  # not this citizen's, or not waiting for a rating


@dataclass(frozen=True, slots=True)
class SimilarTicket:
    """An open (or just answered) ticket of another citizen on the same matter, offered at filing."""

    number: str
    status: str
    details: str  # masked and shortened: shown to another citizen


class UrgeResult(StrEnum):
    """What a citizen's 催办 did (``tickets.escalation.urge``)."""

    CLIMBED = "climbed"  # after the deadline: 督办 up one rung
    REMINDED = "reminded"  # before it: the handler is reminded, the deadline stands
    TOO_SOON = "too_soon"  # chased already within the interval
    NOT_OPEN = "not_open"  # answered, closed, withdrawn…: nothing to chase
    NOT_FOUND = "not_found"  # not this citizen's ticket


class IntakePort(Protocol):
    """Bound to one citizen by the dispatcher: a citizen only ever sees their own tickets."""

    async def file_ticket(self, draft: TicketDraft) -> FiledTicket: ...

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        """The latest ``limit`` tickets and the total count."""
        ...

    async def find_my_ticket(self, number: str) -> TicketSummary | None: ...

    async def awaiting_rating(self) -> str | None:
        """The number of the citizen's latest answer that waits for a rating (their own first,
        then one they follow)."""
        ...

    async def rating_pending(self, number: str) -> bool:
        """Whether the citizen may rate that ticket's answer now: their own, or one they follow."""
        ...

    async def rate(self, number: str, score: int, comment: str) -> RatingResult: ...

    async def supplement(self, number: str | None, addition: str) -> str | None:
        """Pass more information to the staff of an open ticket (the latest, if no number); the
        ticket's number, or None when the citizen has no such ticket."""
        ...

    async def withdraw(self, number: str) -> bool: ...

    async def urge(self, number: str) -> UrgeResult: ...

    async def similar(self, draft: TicketDraft) -> Sequence[SimilarTicket]:
        """Other citizens' tickets on the same matter, best first (``tickets.duplicates``)."""
        ...

    async def follow(self, number: str, locale: str) -> bool:
        """Follow that ticket instead of filing (关注); False when it cannot be followed."""

    async def set_publication(self, number: str, consent: bool) -> bool:
        """Give (公开) or withdraw (不公开) consent to publish one of the citizen's tickets; False
        when the citizen has no such ticket."""
        ...
