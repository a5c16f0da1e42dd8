"""In-memory tickets for the peer comparison: the same domain work on both sides, no database.

Python-telegram-bot's handlers and our ``DialogEngine`` (through an ``IntakePort``) file into the
same kind of desk, with the service's own deadline clock and department routing, so the peer
scenario compares conversation handling, not storage. At 提交 both look for the same matter
already reported by another citizen (已有人反映) as the service does: same topic, same named place,
the service's own text similarity and threshold (``tickets.duplicate_finder``), over memory
instead of SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import AppConfig
from dialogs.ports import FiledTicket, RatingResult, SimilarTicket, TicketDraft, TicketSummary, UrgeResult
from dialogs.privacy import mask_personal_data
from tickets.deadlines import DeadlineClock, DeadlinePolicy, WorkingCalendar
from tickets.duplicate_finder import DuplicateFinder
from tickets.routing import Directory

CANDIDATES = 50  # newest tickets at one place and topic compared with a new filing


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
    details: str = ""
    address: str = ""


class MemoryDesk:
    def __init__(
        self, deadlines: DeadlineClock, directory: Directory, tz: ZoneInfo, duplicates: DuplicateFinder | None = None
    ) -> None:
        self._deadlines = deadlines
        self._directory = directory
        self._tz = tz
        self._duplicates = duplicates  # None: nothing is ever offered as 已有人反映
        self._by_place: dict[tuple[str, str, str], list[MemoryTicket]] = {}
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
        self,
        citizen: str,
        intake_key: str,
        type_code: str,
        topic_code: str,
        district: str | None,
        now: datetime,
        details: str = "",
        address: str = "",
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
            details=details,
            address=address,
        )
        self._by_number[ticket.number] = self._by_key[intake_key] = ticket
        self._by_citizen.setdefault(citizen, []).append(ticket)
        if district and address:
            self._by_place.setdefault((topic_code, district, address), []).append(ticket)
        return ticket, True

    def similar(
        self, citizen: str, topic_code: str, district: str | None, address: str, details: str
    ) -> MemoryTicket | None:
        """Another citizen's ticket on the same matter at the same named place, likeliest first."""
        if self._duplicates is None or not district or not address:
            return None
        candidates = [
            t for t in self._by_place.get((topic_code, district, address), [])[-CANDIDATES:] if t.citizen != citizen
        ]
        if not candidates:
            return None
        similarity, threshold = self._duplicates.similarity, self._duplicates.rules.threshold
        wanted = similarity.profile(details)
        scored = [(similarity.compare(wanted, similarity.profile(t.details)), t) for t in candidates]
        best = max(scored, key=lambda pair: pair[0], default=None)
        return best[1] if best is not None and best[0] >= threshold else None

    def offered(self, ticket: MemoryTicket) -> SimilarTicket:
        """As the service shows it to another citizen: masked and shortened."""
        details = ticket.details[:60] + ("…" if len(ticket.details) > 60 else "")
        return SimilarTicket(ticket.number, ticket.status, mask_personal_data(details))

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
            self._citizen,
            draft.intake_key,
            draft.type_code,
            draft.topic_code,
            district,
            self._now,
            draft.details,
            draft.place.address if draft.place else "",
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

    async def rating_pending(self, number: str) -> bool:
        return False

    async def rate(self, number: str, score: int, comment: str) -> RatingResult:
        return RatingResult.NOT_PENDING

    async def supplement(self, number: str | None, addition: str) -> str | None:
        return self._desk.supplement(self._citizen, number, addition)

    async def withdraw(self, number: str) -> bool:
        return False

    async def urge(self, number: str) -> UrgeResult:
        return UrgeResult.NOT_FOUND

    async def similar(self, draft: TicketDraft) -> list[SimilarTicket]:
        place = draft.place
        found = self._desk.similar(
            self._citizen,
            draft.topic_code,
            place.district if place else None,
            place.address if place else "",
            draft.details,
        )
        return [] if found is None else [self._desk.offered(found)]

    async def follow(self, number: str, locale: str) -> bool:
        return False

    async def set_publication(self, number: str, consent: bool) -> bool:
        return False  # the benchmark's conversations never give or withdraw 公开
