"""An in-memory ``IntakePort`` for dialog tests: a real implementation of the port, not a mock,
so the engine is exercised exactly as the bot drives it, minus the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dialogs.ports import FiledTicket, TicketDraft, TicketSummary


@dataclass
class MemoryIntakePort:
    now: datetime = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    filed: list[tuple[str, TicketDraft]] = field(default_factory=list)
    others: dict[str, TicketSummary] = field(default_factory=dict)  # tickets of other citizens

    async def file_ticket(self, draft: TicketDraft) -> FiledTicket:
        for number, earlier in self.filed:
            if earlier.intake_key == draft.intake_key:
                return FiledTicket(number, self.now + timedelta(hours=8), self.now + timedelta(days=9), 7, False)
        number = f"WZ20261122-{len(self.filed) + 1:04d}"
        self.filed.append((number, draft))
        return FiledTicket(number, self.now + timedelta(hours=8), self.now + timedelta(days=9), 7, True)

    def _summary(self, number: str, draft: TicketDraft) -> TicketSummary:
        return TicketSummary(
            number, draft.type_code, draft.topic_code, "submitted", None, self.now + timedelta(days=9), self.now
        )

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        mine = [self._summary(n, d) for n, d in reversed(self.filed)]
        return mine[:limit], len(mine)

    async def find_my_ticket(self, number: str) -> TicketSummary | None:
        return next((self._summary(n, d) for n, d in self.filed if n == number), None)
