"""An in-memory ``IntakePort`` for dialog tests: a real implementation of the port, not a mock,
so the engine is exercised exactly as the bot drives it, minus the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dialogs.ports import FiledTicket, RatingResult, SimilarTicket, TicketDraft, TicketSummary, UrgeResult


@dataclass
class MemoryIntakePort:
    now: datetime = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    filed: list[tuple[str, TicketDraft]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # numbers waiting for a rating
    ratings: list[tuple[str, int, str]] = field(default_factory=list)
    supplements: list[tuple[str, str]] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    urged: list[str] = field(default_factory=list)
    similar_tickets: list[SimilarTicket] = field(default_factory=list)  # what similar() offers
    followed: list[str] = field(default_factory=list)
    publication: dict[str, bool] = field(default_factory=dict)  # number -> consent given later

    async def file_ticket(self, draft: TicketDraft) -> FiledTicket:
        for number, earlier in self.filed:
            if earlier.intake_key == draft.intake_key:
                return FiledTicket(number, self.now + timedelta(hours=8), self.now + timedelta(days=9), 7, False)
        number = f"WZ20261122-{len(self.filed) + 1:04d}"
        self.filed.append((number, draft))
        return FiledTicket(number, self.now + timedelta(hours=8), self.now + timedelta(days=9), 7, True)

    def _summary(self, number: str, draft: TicketDraft) -> TicketSummary:
        status = "withdrawn" if number in self.withdrawn else "answered" if number in self.answered else "submitted"
        return TicketSummary(
            number,
            draft.type_code,
            draft.topic_code,
            status,
            None,
            self.now + timedelta(days=9),
            self.now,
            withdrawable=status == "submitted",
        )

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        mine = [self._summary(n, d) for n, d in reversed(self.filed)]
        return mine[:limit], len(mine)

    async def find_my_ticket(self, number: str) -> TicketSummary | None:
        return next((self._summary(n, d) for n, d in self.filed if n == number), None)

    async def awaiting_rating(self) -> str | None:
        return self.answered[-1] if self.answered else None

    async def rating_pending(self, number: str) -> bool:
        return number in self.answered

    async def rate(self, number: str, score: int, comment: str) -> RatingResult:
        if number not in self.answered:
            return RatingResult.NOT_PENDING
        self.answered.remove(number)
        self.ratings.append((number, score, comment))
        if score < 3:
            return RatingResult.RECORDED
        again = sum(1 for n, s, _ in self.ratings if n == number and s == 3) > 1
        return RatingResult.ESCALATED if again else RatingResult.REOPENED

    async def supplement(self, number: str | None, addition: str) -> str | None:
        mine = [n for n, _ in self.filed if n not in self.withdrawn]
        target = number if number in mine else (mine[-1] if number is None and mine else None)
        if target is not None:
            self.supplements.append((target, addition))
        return target

    async def set_publication(self, number: str, consent: bool) -> bool:
        if number not in [n for n, _ in self.filed]:
            return False
        self.publication[number] = consent
        return True

    async def withdraw(self, number: str) -> bool:
        if number not in [n for n, _ in self.filed] or number in self.withdrawn:
            return False
        self.withdrawn.append(number)
        return True

    async def urge(self, number: str) -> UrgeResult:
        if number not in [n for n, _ in self.filed]:
            return UrgeResult.NOT_FOUND
        if number in self.withdrawn:
            return UrgeResult.NOT_OPEN
        self.urged.append(number)
        return UrgeResult.REMINDED

    async def similar(self, draft: TicketDraft) -> Sequence[SimilarTicket]:
        return list(self.similar_tickets)

    async def follow(self, number: str, locale: str) -> bool:
        if number not in [t.number for t in self.similar_tickets]:
            return False
        self.followed.append(number)
        return True
