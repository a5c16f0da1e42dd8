"""Department statistics: the daily roll-ups always equal a GROUP BY over tickets and ratings.

The main test drives a random but realistic history through the real ``Workflow`` (filings through
the intake port, claims, notes, answers, transfers, extensions, rejections, duplicates, withdrawals,
ratings of every score, unrated expiry, and refused moves that roll back), across local midnights
and a month boundary, then compares the roll-ups with the tickets and ratings themselves. Leave out
any of the places that keep the roll-ups and it fails.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import MetaData, Table, delete, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import Services, build_services, seed_directory
from bot.config import AppConfig, StaffConfig
from dialogs.ports import Place, TicketDraft
from storage import stats
from storage.identities import IdentityRepository
from storage.models import Citizen, DepartmentDailyRatings, DepartmentDailyStats, Identity, Rating, Staff, Ticket
from storage.upsert import table_of
from tests.app_helpers import make_config
from tickets import citizen_actions, linking, rating, routing, staff_actions, timers
from tickets.context import Refused
from tickets.deadlines import DeadlineClock, DeadlinePolicy, WorkingCalendar
from tickets.intake_port import SqlIntakePort
from tickets.lifecycle import IllegalTransition

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # 22:00 on 30 October in Beijing
TOPICS = ("urban", "transport", "environment", "market", "housing", "education", "other")
DISTRICTS = ("市南区", "市北区", "崂山区", None)

ACTIONS = (
    "claim",
    "note",
    "reply",
    "transfer",
    "extend",
    "reject",
    "close",
    "duplicate",
    "unlink",
    "withdraw",
    "rate",
    "expire",
)
LIKELY = {
    "accepted": ("claim", "claim", "reply", "transfer", "reject", "duplicate", "withdraw"),
    "assigned": ("note", "reply", "reply", "transfer", "extend", "withdraw"),
    "in_progress": ("note", "reply", "reply", "transfer", "reject"),
    "answered": ("rate", "rate", "rate", "rate", "close", "expire", "note"),
    "reopened": ("claim", "reply", "transfer", "duplicate"),
    "duplicate": ("unlink",),  # 取消关联: the one way back from a final status
}
FINAL = ("closed", "rejected", "withdrawn", "duplicate")

TicketKey = tuple[date, str, str]
RatingKey = tuple[date, str]


# --- the truth, computed from the tables the roll-ups summarise -----------------------------------------


async def ticket_truth(session: AsyncSession, tz: ZoneInfo = SHANGHAI) -> Counter[TicketKey]:
    rows = await session.execute(select(Ticket.created_at, Ticket.department_code, Ticket.status))
    return Counter((created.astimezone(tz).date(), dept or "", status) for created, dept, status in rows.all())


async def rating_truth(session: AsyncSession, tz: ZoneInfo = SHANGHAI) -> dict[RatingKey, tuple[int, int]]:
    totals: dict[RatingKey, tuple[int, int]] = {}
    for created, dept, score in (
        await session.execute(select(Rating.created_at, Rating.department_code, Rating.score))
    ).all():
        key = (created.astimezone(tz).date(), dept or "")
        n, total = totals.get(key, (0, 0))
        totals[key] = (n + 1, total + score)
    return totals


async def ticket_rollup(session: AsyncSession) -> Counter[TicketKey]:
    s = DepartmentDailyStats
    rows = await session.execute(select(s.day, s.department_code, s.status, s.tickets).where(s.tickets != 0))
    return Counter({(day, dept, status): n for day, dept, status, n in rows.all()})


async def rating_rollup(session: AsyncSession) -> dict[RatingKey, tuple[int, int]]:
    r = DepartmentDailyRatings
    rows = await session.execute(select(r.day, r.department_code, r.ratings, r.score_sum))
    return {(day, dept): (n, total) for day, dept, n, total in rows.all()}


async def assert_rollups_match(sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo = SHANGHAI) -> None:
    async with sessions() as session:
        assert await ticket_rollup(session) == await ticket_truth(session, tz)
        assert await rating_rollup(session) == await rating_truth(session, tz)


def month_from_truth(
    tickets: Counter[TicketKey], ratings: dict[RatingKey, tuple[int, int]], year: int, month: int
) -> dict[str, tuple[dict[str, int], int, int]]:
    out: dict[str, tuple[dict[str, int], int, int]] = {}
    for (day, dept, status), n in tickets.items():
        if (day.year, day.month) == (year, month):
            out.setdefault(dept, ({}, 0, 0))[0][status] = out.get(dept, ({}, 0, 0))[0].get(status, 0) + n
    for (day, dept), (n, total) in ratings.items():
        if (day.year, day.month) == (year, month):
            by_status, rated, score_sum = out.get(dept, ({}, 0, 0))
            out[dept] = (by_status, rated + n, score_sum + total)
    return out


def month_as_dict(found: stats.MonthStats) -> dict[str, tuple[dict[str, int], int, int]]:
    return {(d.department_code or ""): (dict(d.by_status), d.ratings, d.score_sum) for d in found.departments}


# --- the service ---------------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, engine: AsyncEngine, database_url: str) -> AppConfig:
    admin = StaffConfig(name="赵六", department="city_service", role="admin")
    return make_config(tmp_path, database_url).model_copy(update={"staff": [admin]})


@pytest.fixture
async def services(config: AppConfig) -> AsyncIterator[Services]:
    built = build_services(config)
    await seed_directory(built)
    try:
        yield built
    finally:
        await built.store.close()
        await built.db.dispose()


class History:
    """Random citizen and staff actions through the real workflow, one transaction each."""

    def __init__(self, services: Services, seed: int) -> None:
        self.services = services
        self.rng = random.Random(seed)
        config = services.config
        self.tz = ZoneInfo(config.server.timezone)
        self.deadlines = DeadlineClock(
            [DeadlinePolicy(r.type, r.topic, r.respond_hours, r.answer_working_days) for r in config.deadlines],
            WorkingCalendar(),
            self.tz,
        )
        self.departments = [d.code for d in config.departments]
        self.numbers: list[str] = []
        self.done: Counter[str] = Counter()
        self.now = START

    async def run(self, steps: int) -> None:
        for _ in range(steps):
            self.now += timedelta(minutes=self.rng.randint(5, 240))
            try:
                async with self.services.sessions.begin() as session:
                    name = await self.step(session)
                self.done[name] += 1
            except (IllegalTransition, Refused):
                self.done["refused"] += 1  # the whole transaction rolled back, roll-ups included

    async def step(self, session: AsyncSession) -> str:
        rng, now, workflow = self.rng, self.now, self.services.workflow
        if not self.numbers or rng.random() < 0.25:
            return await self.file(session)
        ticket = None
        for _ in range(4):  # mostly act on tickets still in play
            ticket = await self.services.workflow.tickets.by_number(session, rng.choice(self.numbers))
            assert ticket is not None
            if ticket.status not in FINAL:
                break
        assert ticket is not None
        admin = (await session.execute(select(Staff).where(Staff.name == "赵六"))).scalar_one()
        # What staff and citizens plausibly do next; now and then anything at all (refused, rolled back).
        likely = ACTIONS if rng.random() < 0.1 else LIKELY.get(ticket.status, ACTIONS)
        action = rng.choice(likely)
        match action:
            case "claim":
                await staff_actions.claim(workflow, session, admin, ticket, now)
            case "note":
                await staff_actions.note(workflow, session, admin, ticket, "现场核实中", now)
            case "reply":
                await staff_actions.reply(workflow, session, admin, ticket, "已处理", now)
            case "transfer":
                await routing.transfer(
                    workflow, session, admin, ticket, rng.choice(self.departments), "不属于本部门", now
                )
            case "extend":
                new_day = (ticket.answer_due_at.astimezone(self.tz) + timedelta(days=3)).date()
                await staff_actions.extend(workflow, session, admin, ticket, new_day, "需要现场勘查", now)
            case "reject":
                await staff_actions.reject(workflow, session, admin, ticket, "不属于受理范围", now)
            case "close":
                await staff_actions.close(workflow, session, admin, ticket, now)
            case "duplicate":
                original = rng.choice(self.numbers)
                await linking.link(workflow, session, admin, ticket, original, now)
            case "unlink":
                await linking.unlink(workflow, session, admin, ticket, now)
            case "withdraw":
                await citizen_actions.withdraw(workflow, session, ticket, f"citizen:{ticket.citizen_id}", now)
            case "rate":
                score = rng.choice((1, 2, 3, 3))
                await rating.rate(workflow, session, ticket, score, "", f"citizen:{ticket.citizen_id}", now)
                action = f"rate_{score}"
            case "expire":
                before = ticket.status
                await timers.fire(workflow, session, ticket.id, timers.TimerKind.RATING_EXPIRY, now)
                if ticket.status == before:
                    raise Refused("nothing_to_expire")
        return action

    async def file(self, session: AsyncSession) -> str:
        rng = self.rng
        identity = await IdentityRepository().get_or_create(
            session, "webchat", "web", f"citizen-{rng.randint(1, 6)}", self.now, "zh"
        )
        port = SqlIntakePort(
            session=session,
            tickets=self.services.workflow.tickets,
            identity=identity,
            deadlines=self.deadlines,
            tz=self.tz,
            now=self.now,
            workflow=self.services.workflow,
        )
        draft = TicketDraft(
            intake_key=f"k{len(self.numbers)}-{rng.random()}",
            type_code="complaint",
            topic_code=rng.choice(TOPICS),
            place=Place(city="青岛市", district=rng.choice(DISTRICTS)),
            details="路灯坏了一个星期了，晚上很危险",
            media=(),
            phone=None,
            locale="zh",
        )
        filed = await port.file_ticket(draft)
        self.numbers.append(filed.number)
        return "file"


async def test_rollups_equal_group_by_after_a_random_history_through_the_workflow(services: Services) -> None:
    history = History(services, seed=7)
    await history.run(400)

    # The history exercised every path that changes a count (and some that must change nothing).
    for action in ("file", "claim", "note", "reply", "transfer", "extend", "reject", "close", "duplicate", "unlink"):
        assert history.done[action] > 0, (action, history.done)
    for action in ("withdraw", "rate_1", "rate_2", "rate_3", "expire", "refused"):
        assert history.done[action] > 0, (action, history.done)
    await assert_rollups_match(services.sessions)

    async with services.sessions() as session:
        tickets = await ticket_truth(session)
        ratings = await rating_truth(session)
        days = {day for day, _, _ in tickets}
        assert date(2026, 10, 31) in days and date(2026, 11, 1) in days  # crossed a month boundary
        for year, month in ((2026, 10), (2026, 11), (2026, 12)):
            found = await stats.month(session, year, month)
            assert month_as_dict(found) == month_from_truth(tickets, ratings, year, month)
        november = await stats.month(session, 2026, 11)
    assert november.tickets == sum(n for (day, _, _), n in tickets.items() if day.month == 11)
    assert november.ratings > 0 and november.average_score is not None
    assert [d.department_code for d in november.departments] == sorted(
        (d.department_code for d in november.departments), key=lambda c: (c is None, c or "")
    )

    # Rebuilding from scratch gives the same roll-ups the workflow kept.
    async with services.sessions.begin() as session:
        await stats.rebuild(session, SHANGHAI)
    await assert_rollups_match(services.sessions)


async def test_the_local_day_decides_the_month(services: Services) -> None:
    """Filed at 01:30 on 1 November in Beijing (17:30 UTC on 31 October): a November ticket."""
    history = History(services, seed=1)
    history.now = datetime(2026, 10, 31, 17, 30, tzinfo=UTC)
    async with services.sessions.begin() as session:
        await history.file(session)
    async with services.sessions() as session:
        assert (await stats.month(session, 2026, 10)).tickets == 0
        november = await stats.month(session, 2026, 11)
    assert november.tickets == 1
    (only,) = november.departments
    assert only.by_status == {"accepted": 1}  # filed as submitted, routed in the same transaction
    assert only.average_score is None


async def test_month_of_an_empty_database_is_empty(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        found = await stats.month(session, 2026, 12)
    assert found == stats.MonthStats(2026, 12, ())
    assert found.tickets == 0 and found.ratings == 0 and found.average_score is None


def test_month_range_and_bad_month() -> None:
    assert stats.month_range(2026, 12) == (date(2026, 12, 1), date(2027, 1, 1))
    assert stats.month_range(2026, 2) == (date(2026, 2, 1), date(2026, 3, 1))
    with pytest.raises(ValueError, match="no month 13"):
        stats.month_range(2026, 13)


def test_offsets_follow_daylight_saving_and_are_one_piece_in_china() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    last = datetime(2026, 12, 31, tzinfo=UTC)
    assert stats.offsets(SHANGHAI, first, last) == [(first, 8 * 3600)]
    berlin = stats.offsets(ZoneInfo("Europe/Berlin"), first, last)
    assert berlin == [
        (first, 3600),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
    ]


async def bulk_load(sessions: async_sessionmaker[AsyncSession], moments: list[datetime]) -> None:
    """Tickets and ratings written directly (as a bulk loader does), bypassing the workflow."""
    rng = random.Random(3)
    async with sessions.begin() as session:
        await session.execute(insert(table_of(Citizen)), [{"id": 1, "created_at": START, "locale": "zh"}])
        await session.execute(
            insert(table_of(Identity)),
            [
                {
                    "id": 1,
                    "citizen_id": 1,
                    "channel": "webchat",
                    "account": "web",
                    "chat_id": "c",
                    "reachable": True,
                    "created_at": START,
                }
            ],
        )
        tickets, ratings = [], []
        for i, moment in enumerate(moments, start=1):
            status = rng.choice(("submitted", "accepted", "closed", "answered"))
            dept = None if status == "submitted" else rng.choice(("urban", "transport"))
            tickets.append(
                {
                    "id": i,
                    "number": f"WZ-{i}",
                    "intake_key": f"k{i}",
                    "citizen_id": 1,
                    "identity_id": 1,
                    "type_code": "complaint",
                    "topic_code": "urban",
                    "details": "x",
                    "media": [],
                    "locale": "zh",
                    "status": status,
                    "department_code": dept,
                    "created_at": moment,
                    "updated_at": moment,
                    "respond_due_at": moment,
                    "answer_due_at": moment,
                    "rework_count": 0,
                    "escalated": False,
                }
            )
            if status == "closed":
                ratings.append(
                    {
                        "ticket_id": i,
                        "score": rng.choice((1, 2, 3)),
                        "comment": "",
                        "department_code": dept,
                        "round": 0,
                        "created_at": moment + timedelta(hours=rng.randint(1, 30)),
                    }
                )
        # Only the columns the database has: the migration tests load these into an older schema.
        there = await session.run_sync(lambda s: {c["name"] for c in inspect(s.connection()).get_columns("tickets")})
        older = Table("tickets", MetaData(), *(c._copy() for c in table_of(Ticket).columns if c.name in there))
        await session.execute(insert(older), tickets)
        await session.execute(insert(table_of(Rating)), ratings)


def boundary_moments() -> list[datetime]:
    """Every hour around local midnights, month ends and (for Berlin) both clock changes."""
    out: list[datetime] = []
    for anchor in (
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        datetime(2026, 10, 31, 6, tzinfo=UTC),
        datetime(2026, 11, 30, 6, tzinfo=UTC),
    ):
        out += [anchor + timedelta(minutes=29 * i) for i in range(100)]
    return out


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
async def test_rebuild_equals_group_by_in_the_service_time_zone(
    sessions: async_sessionmaker[AsyncSession], zone: str
) -> None:
    tz = ZoneInfo(zone)
    await bulk_load(sessions, boundary_moments())
    async with sessions.begin() as session:
        await stats.rebuild(session, tz)
    await assert_rollups_match(sessions, tz)
    async with sessions.begin() as session:  # rebuilding again replaces, never adds
        await stats.rebuild(session, tz)
    await assert_rollups_match(sessions, tz)


async def test_concurrent_changes_lose_no_count(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Many transactions adding to the same rows at once: every one of them is counted."""
    day = date(2026, 11, 22)

    async def one(i: int) -> None:
        async with sessions.begin() as session:
            await stats.record_filing(session, day=day, department_code="urban", status="submitted")
            if i % 2:
                await stats.record_change(session, day=day, before=("urban", "submitted"), after=("urban", "accepted"))
            await stats.record_rating(session, day=day, department_code="urban", score=1 + i % 3)

    await asyncio.gather(*(one(i) for i in range(20)))
    async with sessions() as session:
        assert await ticket_rollup(session) == Counter(
            {(day, "urban", "submitted"): 10, (day, "urban", "accepted"): 10}
        )
        assert await rating_rollup(session) == {(day, "urban"): (20, sum(1 + i % 3 for i in range(20)))}
        await session.execute(delete(DepartmentDailyStats))
