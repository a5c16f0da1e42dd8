"""In-memory tickets for the peer comparison: the same domain work on both sides, no database.

Python-telegram-bot's handlers and our ``DialogEngine`` (through an ``IntakePort``) file into the
same kind of desk, with the service's own deadline clock and department routing, so the peer
scenario compares conversation handling, not storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import AppConfig
from dialogs.ports import FiledTicket, RatingResult, SimilarTicket, TicketDraft, TicketSummary, UrgeResult
from tickets.deadlines import DeadlineClock, DeadlinePolicy, WorkingCalendar
from tickets.routing import Directory


def deadline_clock(config: AppConfig) -> DeadlineClock:
    """The service's deadline rules, built the way ``bot.app.build_services`` builds them."""
    policies = [DeadlinePolicy(r.type, r.topic, r.respond_hours, r.answer_working_days) for r in config.deadlines]
    return DeadlineClock(policies, WorkingCalendar(), ZoneInfo(config.server.timezone))


@dataclass
class MemoryTicket:
    number: str
    citizen: str
    intake_key: str
    type_code: str
    topic_code: str
    district: str | None
    department: str
    respond_due: datetime
    answer_due: datetime
    created_at: datetime
    status: str = "accepted"
    supplements: list[str] = field(default_factory=list)


class MemoryDesk:
    def __init__(self, deadlines: DeadlineClock, directory: Directory, tz: ZoneInfo) -> None:
        self._deadlines = deadlines
        self._directory = directory
        self._tz = tz
        self._by_number: dict[str, MemoryTicket] = {}
        self._by_citizen: dict[str, list[MemoryTicket]] = {}
        self._by_key: dict[str, MemoryTicket] = {}
        self._seq: dict[str, int] = {}

    @property
    def directory(self) -> Directory:
        return self._directory

    def working_days(self, type_code: str, topic_code: str) -> int:
        return self._deadlines.policy_for(type_code, topic_code).answer_working_days

    def file(
        self, citizen: str, intake_key: str, type_code: str, topic_code: str, district: str | None, now: datetime
    ) -> tuple[MemoryTicket, bool]:
        existing = self._by_key.get(intake_key)
        if existing is not None:
            return existing, False
        day = now.astimezone(self._tz).strftime("%Y%m%d")
        self._seq[day] = seq = self._seq.get(day, 0) + 1
        due = self._deadlines.deadlines(type_code, topic_code, now)
        ticket = MemoryTicket(
            f"WZ{day}-{seq:04d}",
            citizen,
            intake_key,
            type_code,
            topic_code,
            district,
            self._directory.route(topic_code, district),
            due.respond_due,
            due.answer_due,
            now,
        )
        self._by_number[ticket.number] = self._by_key[intake_key] = ticket
        self._by_citizen.setdefault(citizen, []).append(ticket)
        return ticket, True

    def mine(self, citizen: str, limit: int) -> tuple[list[MemoryTicket], int]:
        tickets = self._by_citizen.get(citizen, [])
        return list(reversed(tickets[-limit:])), len(tickets)

    def find(self, citizen: str, number: str) -> MemoryTicket | None:
        ticket = self._by_number.get(number.upper())
        return ticket if ticket is not None and ticket.citizen == citizen else None

    def supplement(self, citizen: str, number: str | None, addition: str) -> str | None:
        if number:
            ticket = self.find(citizen, number)
        else:
            latest, _ = self.mine(citizen, 1)
            ticket = latest[0] if latest else None
        if ticket is None:
            return None
        ticket.supplements.append(addition)
        return ticket.number

    def summary(self, ticket: MemoryTicket) -> TicketSummary:
        return TicketSummary(
            ticket.number,
            ticket.type_code,
            ticket.topic_code,
            ticket.status,
            self._directory.name(ticket.department),
            ticket.answer_due,
            ticket.created_at,
        )


class MemoryPort:
    """Our dialogs' ``IntakePort`` on a ``MemoryDesk``, bound to one citizen and one moment."""

    def __init__(self, desk: MemoryDesk, citizen: str, now: datetime) -> None:
        self._desk = desk
        self._citizen = citizen
        self._now = now

    async def file_ticket(self, draft: TicketDraft) -> FiledTicket:
        district = draft.place.district if draft.place else None
        ticket, new = self._desk.file(
            self._citizen, draft.intake_key, draft.type_code, draft.topic_code, district, self._now
        )
        return FiledTicket(
            ticket.number,
            ticket.respond_due,
            ticket.answer_due,
            self._desk.working_days(ticket.type_code, ticket.topic_code),
            new,
        )

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        tickets, total = self._desk.mine(self._citizen, limit)
        return [self._desk.summary(t) for t in tickets], total

    async def find_my_ticket(self, number: str) -> TicketSummary | None:
        ticket = self._desk.find(self._citizen, number)
        return None if ticket is None else self._desk.summary(ticket)

    async def awaiting_rating(self) -> str | None:
        return None

    async def rate(self, number: str, score: int, comment: str) -> RatingResult:
        return RatingResult.NOT_PENDING

    async def supplement(self, number: str | None, addition: str) -> str | None:
        return self._desk.supplement(self._citizen, number, addition)

    async def withdraw(self, number: str) -> bool:
        return False

    async def urge(self, number: str) -> UrgeResult:
        return UrgeResult.NOT_FOUND

    async def similar(self, draft: TicketDraft) -> list[SimilarTicket]:
        return []

    async def follow(self, number: str, locale: str) -> bool:
        return False
    async def set_publication(self, number: str, consent: bool) -> bool:
        return False  # the benchmark's conversations never give or withdraw 公开
