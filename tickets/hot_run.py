"""The daily hot-topic run: read the window's tickets, find the topics, store them, send the digest.

The timer worker calls ``run_due`` on every round; once the local time passes ``digest_at`` the
first worker to claim the day (a row in ``hot_topic_runs``) runs it, so many workers run it once.
Segmenting a month of tickets is CPU work, so it runs in a thread and the event loop keeps
serving chats. The digest goes through the outbox to every subscribed supervisor, on the /staff
page and the chat apps they are known on.
"""

from __future__ import annotations

import asyncio
import time as wallclock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import ConversationRef, Outbound, Purpose
from dialogs.texts import text
from storage.hot_topics import HotTopicRepository
from storage.models import HotTopic
from storage.staff import StaffRepository
from tickets.context import PushQueue
from tickets.hot_topics import HotRules, TicketText, Topic, find_topics
from tickets.notices import staff_ref
from tickets.segment import Segmenter

NO_CITY = ""  # tickets whose place named no city


@dataclass(frozen=True, slots=True)
class RunResult:
    day: date
    tickets: int
    topics: list[Topic]
    seconds: float


class HotTopicFinder:
    """Reads a window's tickets and finds its topics; stores nothing (``wenzheng report hot``)."""

    def __init__(self, *, repo: HotTopicRepository, rules: HotRules, tz: ZoneInfo, segmenter: Segmenter) -> None:
        self._repo = repo
        self._rules = rules
        self._tz = tz
        self._segmenter = segmenter

    @property
    def rules(self) -> HotRules:
        return self._rules

    def window_end(self, day: date) -> datetime:
        """A day's run covers the days before it: its window ends at that local midnight."""
        return datetime.combine(day, time(0), self._tz)

    async def compute(self, session: AsyncSession, end: datetime, rules: HotRules | None = None) -> RunResult:
        rules = rules or self._rules
        started = wallclock.perf_counter()
        start = end - timedelta(days=rules.recent_days + rules.baseline_days)
        rows = await self._repo.tickets_between(session, start, end)
        tickets = [
            TicketText(
                number=number,
                citizen_id=citizen,
                city=city or NO_CITY,
                district=district,
                details=details,
                created_at=at,
            )
            for number, citizen, city, district, details, at in rows
        ]
        topics = await asyncio.to_thread(find_topics, tickets, end=end, rules=rules, segmenter=self._segmenter)
        day = end.astimezone(self._tz).date()
        return RunResult(day=day, tickets=len(tickets), topics=topics, seconds=wallclock.perf_counter() - started)


class HotTopicService:
    """The daily run and its digest (called by the timer worker)."""

    def __init__(
        self,
        *,
        finder: HotTopicFinder,
        repo: HotTopicRepository,
        staff: StaffRepository,
        outbox: PushQueue,
        staff_channels: frozenset[str],
        digest_at: time,
        tz: ZoneInfo,
    ) -> None:
        self._finder = finder
        self._repo = repo
        self._staff = staff
        self._outbox = outbox
        self._staff_channels = staff_channels
        self._digest_at = digest_at
        self._tz = tz

    async def run_due(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> RunResult | None:
        """Today's run, if it is time and nobody ran it yet; None otherwise."""
        local = now.astimezone(self._tz)
        if local.time() < self._digest_at:
            return None
        day = local.date()
        async with sessions.begin() as session:
            if not await self._repo.claim_run(session, day, now, stale=timedelta(hours=1)):
                return None
        async with sessions() as session:
            result = await self._finder.compute(session, self._finder.window_end(day))
        async with sessions.begin() as session:
            await self._repo.replace_day(session, day, _rows(result.topics), now)
            await self._repo.finish_run(
                session, day, now, tickets=result.tickets, topics=len(result.topics), seconds=result.seconds
            )
            await self._send_digest(session, day, now)
        return result

    async def _send_digest(self, session: AsyncSession, day: date, now: datetime) -> None:
        ids = await self._repo.subscribers(session)
        if not ids:
            return
        _, stored = await self._repo.latest(session)
        people = [s for s in [await self._staff.get(session, i) for i in ids] if s is not None and s.active]
        identities = await self._staff.identities(session, [p.id for p in people])
        for person in people:
            message = Outbound(digest(stored, day, person.locale, self._finder.rules), purpose=Purpose.STATUS)
            await self._outbox.enqueue(session, staff_ref(person.id), message, now)
            for ident in identities:
                if ident.staff_id == person.id and ident.channel in self._staff_channels:
                    ref = ConversationRef(ident.channel, "staff", ident.external_id)
                    await self._outbox.enqueue(session, ref, message, now)


def _rows(topics: Sequence[Topic]) -> list[dict[str, object]]:
    """Ranked within each city, hottest first (``find_topics`` orders them so)."""
    ranks: dict[str, int] = {}
    rows = []
    for topic in topics:
        ranks[topic.city] = ranks.get(topic.city, 0) + 1
        rows.append(_row(ranks[topic.city], topic))
    return rows


def _row(rank: int, topic: Topic) -> dict[str, object]:
    return {
        "city": topic.city,
        "district": topic.district,
        "rank": rank,
        "label": topic.label[:128],
        "words": list(topic.words),
        "recent": topic.recent,
        "baseline": topic.baseline,
        "growth": topic.growth,
        "citizens": topic.citizens,
        "districts": topic.districts,
        "numbers": list(topic.numbers),
    }


def topic_line(rank: int, topic: Topic | HotTopic, locale: str, rules: HotRules, numbers_shown: int = 5) -> str:
    numbers = list(topic.numbers)
    shown = "、".join(numbers[:numbers_shown]) + ("…" if len(numbers) > numbers_shown else "")
    districts = "、".join(f"{d}{n}" for d, n in list(topic.districts.items())[:4]) or "-"
    return text(
        "hot_line",
        locale,
        rank=rank,
        city=(topic.city or text("hot_no_city", locale)) + (topic.district or ""),
        words="·".join(list(topic.words)[:5]),
        count=topic.recent,
        citizens=topic.citizens,
        growth=f"{topic.growth:.1f}",
        baseline=topic.baseline,
        baseline_days=rules.baseline_days,
        districts=districts,
        numbers=shown,
    )


def digest(topics: Sequence[HotTopic], day: date, locale: str, rules: HotRules) -> str:
    """The stored topics, described by the windows and the bar of ``rules`` (the config's)."""
    if not topics:
        return text("hot_digest_none", locale, day=day.isoformat())
    title = text(
        "hot_digest_title",
        locale,
        day=day.isoformat(),
        count=len(topics),
        recent_days=rules.recent_days,
        min_citizens=rules.min_citizens,
    )
    lines = [title, *(topic_line(i, t, locale, rules) for i, t in enumerate(topics, 1))]
    return "\n".join(lines)
