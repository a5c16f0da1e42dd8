"""Finding the same matter already reported: candidates from the SQL (near, or at the same named
place; open or recently answered; same topic), kept when the description is similar. The rules
and the reasons are in ``tickets.duplicates``; this module holds no workflow, so
``tickets.context`` can carry a finder."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.duplicates import DuplicateRepository
from storage.models import Ticket
from tickets.lifecycle import OPEN, Status
from tickets.segment import Segmenter
from tickets.similarity import DEFAULT_THRESHOLD, TextSimilarity

OPEN_STATUSES = tuple(s.value for s in (Status.SUBMITTED, *OPEN))
ANSWERED_STATUSES = (Status.ANSWERED.value, Status.CLOSED.value)
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateRules:
    enabled: bool = True  # off: no offer before the summary, no suggestions on 查看
    citizen_radius_m: float = 250.0
    staff_radius_m: float = 1000.0
    answered_days: int = 14
    lookback_days: int = 60
    repeat_days: int = 30
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True, slots=True, kw_only=True)
class Matter:
    """What is compared: a draft being filed, or a ticket."""

    topic_code: str
    details: str
    district: str | None = None
    address: str = ""
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def of(cls, ticket: Ticket) -> Matter:
        return cls(
            topic_code=ticket.topic_code,
            details=ticket.details,
            district=ticket.district,
            address=ticket.address,
            lat=ticket.lat,
            lon=ticket.lon,
        )


@dataclass(frozen=True, slots=True)
class Match:
    ticket: Ticket
    score: float
    distance_m: float | None  # None: matched by the named place


@dataclass(slots=True)
class DuplicateFinder:
    rules: DuplicateRules = field(default_factory=DuplicateRules)
    similarity: TextSimilarity = field(default_factory=lambda: TextSimilarity(Segmenter()))
    repo: DuplicateRepository = field(default_factory=DuplicateRepository)

    async def find(
        self,
        session: AsyncSession,
        matter: Matter,
        now: datetime,
        *,
        radius_m: float,
        exclude_ticket: int | None = None,
        exclude_citizen: int | None = None,
        limit: int = 3,
    ) -> list[Match]:
        """The likeliest same-matter tickets, best first (at most ``limit``)."""
        if not self.rules.enabled:
            return []
        common = {
            "topic_code": matter.topic_code,
            "open_statuses": OPEN_STATUSES,
            "answered_statuses": ANSWERED_STATUSES,
            "answered_since": now - timedelta(days=self.rules.answered_days),
            "created_since": now - timedelta(days=self.rules.lookback_days),
        }
        found: dict[int, Ticket] = {}
        if matter.lat is not None and matter.lon is not None:
            for t in await self.repo.near(session, box=_box(matter.lat, matter.lon, radius_m), **common):  # type: ignore[arg-type]
                found[t.id] = t
        if matter.district and matter.address:
            for t in await self.repo.same_place(
                session,
                district=matter.district,
                address=matter.address,
                **common,  # type: ignore[arg-type]
            ):
                found[t.id] = t
        if not found:
            return []
        wanted = self.similarity.profile(matter.details)
        matches: list[Match] = []
        for ticket in found.values():
            if ticket.id == exclude_ticket or ticket.citizen_id == exclude_citizen:
                continue
            distance = distance_m(matter, ticket)
            if distance is not None and distance > radius_m and not same_place(matter, ticket):
                continue  # the box's corners
            score = self.similarity.compare(wanted, self.similarity.profile(ticket.details))
            if score >= self.rules.threshold:
                matches.append(Match(ticket, round(score, 3), None if same_place(matter, ticket) else distance))
        matches.sort(key=lambda m: (-m.score, m.ticket.id))
        return matches[:limit]


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def distance_m(matter: Matter, ticket: Ticket) -> float | None:
    if matter.lat is None or matter.lon is None or ticket.lat is None or ticket.lon is None:
        return None
    dlat = (ticket.lat - matter.lat) * METRES_PER_DEGREE
    dlon = (ticket.lon - matter.lon) * METRES_PER_DEGREE * math.cos(math.radians(matter.lat))
    return math.hypot(dlat, dlon)


def same_place(matter: Matter, ticket: Ticket) -> bool:
    return bool(matter.district and matter.address) and (ticket.district, ticket.address) == (
        matter.district,
        matter.address,
    )
