"""What the dialogs need from the rest of the service, as protocols the bot implements.

The dialogs decide *what* to do (file this draft, list my tickets); the bot decides *how* (which
transaction, which department). A test can hand in any implementation of these protocols.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from adapters.base import MediaRef
from dialogs.taxonomy import Bilingual


@dataclass(frozen=True, slots=True)
class Place:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str = ""
    lat: float | None = None
    lon: float | None = None

    def describe(self) -> str:
        admin = "".join(p for p in (self.province, self.city, self.district) if p)
        if self.address and admin and self.address.startswith(admin):
            return self.address
        parts = [p for p in (admin, self.address) if p]
        if not parts and self.lat is not None and self.lon is not None:
            return f"{self.lat:.5f}, {self.lon:.5f}"
        return " ".join(parts)


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


@dataclass(frozen=True, slots=True)
class FiledTicket:
    number: str
    respond_due: datetime
    answer_due: datetime
    answer_working_days: int
    new: bool


@dataclass(frozen=True, slots=True)
class TicketSummary:
    number: str
    type_code: str
    topic_code: str
    status: str
    department: Bilingual | None
    answer_due: datetime
    created_at: datetime


class RatingResult(StrEnum):
    RECORDED = "recorded"  # 满意 / 基本满意: closed
    REOPENED = "reopened"  # 不满意: back to the department once (退回重办)
    ESCALATED = "escalated"  # 不满意 again: 督办
    NOT_PENDING = "not_pending"  # not this citizen's, or not waiting for a rating


class IntakePort(Protocol):
    """Bound to one citizen by the dispatcher: a citizen only ever sees their own tickets."""

    async def file_ticket(self, draft: TicketDraft) -> FiledTicket: ...

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        """The latest ``limit`` tickets and the total count."""
        ...

    async def find_my_ticket(self, number: str) -> TicketSummary | None: ...

    async def awaiting_rating(self) -> str | None:
        """The number of the citizen's latest answer that waits for a rating."""
        ...

    async def rate(self, number: str, score: int, comment: str) -> RatingResult: ...

    async def supplement(self, number: str | None, addition: str) -> str | None:
        """Pass more information to the staff of an open ticket (the latest, if no number); the
        ticket's number, or None when the citizen has no such ticket."""
        ...

    async def withdraw(self, number: str) -> bool: ...
