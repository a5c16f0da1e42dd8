"""Bulk-load a realistic ticket history into the real schema (after ``storage.migrate.upgrade``).

SQLAlchemy Core ``insert`` on the models' tables, many rows per statement, explicit ids. The shape:
about four tickets per citizen with a heavy tail (a few citizens file thousands), topics and types
weighted like a city hotline, two years of history, statuses by age (recent tickets open, old ones
closed), six in ten answered tickets rated. The loader bypasses the workflow, so the department
statistics roll-ups are then filled the way migration 0006 back-fills them (``storage.stats.rebuild``),
timed on their own.

The console's columns (migration 0011) are filled as the workflow would: the channel, the first
round's deadlines and department, the claim (some late, some never) and the first answer, a
transfer for one ticket in twenty, the latest rating's score; one handler per department (staff
ids 1..departments, with the departments themselves) holds the tickets it claimed, and three in
ten tickets carry a phone number, so "mine" and the phone search have something to find.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.config import AppConfig
from storage import stats
from storage.models import Citizen, Department, Identity, Rating, Staff, Ticket
from storage.upsert import table_of

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
HISTORY_DAYS = 730
CHUNK = 5_000
CITY_SOUTH, CITY_WEST, CITY_SPAN = 36.05, 120.20, 0.30  # degrees: 青岛's built-up area, roughly
TZ = ZoneInfo("Asia/Shanghai")
DISTRICTS = ("市南区", "市北区", "李沧区", "崂山区", "城阳区", "黄岛区", "即墨区", "胶州市", "平度市", "莱西市")
STREETS = ("香港中路", "松岭路", "长江路", "九水东路", "正阳路", "辽宁路", "鹤山路", "福州路", "山东路", "宁夏路")
TOPIC_WEIGHTS = {
    "urban": 22,
    "transport": 14,
    "environment": 12,
    "housing": 12,
    "market": 9,
    "utilities": 8,
    "employment": 6,
    "social_security": 5,
    "education": 4,
    "health": 3,
    "public_security": 2,
    "government_services": 1,
    "other": 2,
}
TYPE_WEIGHTS = {"complaint": 45, "report": 15, "consultation": 25, "help": 10, "suggestion": 5}
DETAILS = (
    "路灯坏了一个星期了，晚上很危险",
    "井盖丢了好几天了，车辆经过很危险",
    "工地夜里施工打桩，噪音太大，严重影响休息",
    "超市卖过期食品，希望市场监管部门查一查",
    "公交站牌被撞倒了，乘客等车找不到站",
    "小区停水两天了，也没有通知",
    "饭店油烟直排，楼上住户家里全是油烟味",
    "建筑公司拖欠农民工工资三个月了，讨薪无门",
    "请问社保卡补办需要哪些材料",
    "建议在学校门口增设红绿灯",
    "物业不作为，电梯坏了半个月没人修",
    "小区门口占道经营，垃圾遍地",
)
RECENT = (("accepted", 40), ("assigned", 28), ("in_progress", 20), ("answered", 10), ("submitted", 2))
MIDDLE = (("closed", 50), ("answered", 28), ("in_progress", 10), ("reopened", 5), ("withdrawn", 4), ("rejected", 3))
OLD = (("closed", 90), ("withdrawn", 4), ("rejected", 3), ("duplicate", 3))
RATED = frozenset({"closed", "answered", "reopened"})
CHANNELS = (("webchat", 40), ("wechat", 40), ("telegram", 10), ("weibo", 10))


@dataclass(frozen=True, slots=True)
class Seeded:
    tickets: int
    citizens: int
    ratings: int
    seconds: float
    departments: tuple[str, ...]
    rollup_seconds: float = 0.0  # filling the department statistics after the load


def _weighted(pairs: Any) -> tuple[list[str], list[int]]:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return [k for k, _ in items], [w for _, w in items]


def department_for(config: AppConfig) -> dict[str, str]:
    """Topic -> owning department, as routing does when a department lists no districts."""
    owner: dict[str, str] = {}
    for dept in config.departments:
        for topic in dept.topics:
            owner.setdefault(topic, dept.code)
    return owner


class Generator:
    def __init__(self, tickets: int, config: AppConfig, seed: int = 20261122) -> None:
        self.count = tickets
        self.citizens = max(1, tickets // 4)
        self._rng = random.Random(seed)
        self._owner = department_for(config)
        self._default = config.default_department
        self._topics = _weighted(TOPIC_WEIGHTS)
        self._types = _weighted(TYPE_WEIGHTS)
        self._seq: dict[str, int] = {}
        self._geo = random.Random(seed + 1)  # its own stream: the other columns stay as they were
        names, weights = _weighted(CHANNELS)
        self._channels = self._rng.choices(names, weights, k=self.citizens)  # identity i+1's channel
        self.handlers = {d.code: i + 1 for i, d in enumerate(config.departments)}  # staff ids
        self._more = random.Random(seed + 1)  # the console's columns: the older draws stay as they were
        self._departments = config.departments

    def directory_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The departments (as ``seed_directory`` writes them) and one handler each."""
        created = NOW - timedelta(days=HISTORY_DAYS + 30)
        departments = [
            {
                "code": d.code,
                "name_zh": d.name.zh,
                "name_en": d.name.en,
                "topics": list(d.topics),
                "districts": list(d.districts),
                "telegram_chat_id": None,
                "position": i,
                "active": True,
            }
            for i, d in enumerate(self._departments)
        ]
        staff = [
            {"id": sid, "name": f"bench-{code}", "department_code": code, "role": "handler", "active": True,
             "locale": "zh", "created_at": created}
            for code, sid in self.handlers.items()
        ]  # fmt: skip
        return departments, staff

    def sample_citizens(self, k: int, seed: int = 11) -> list[int]:
        """Citizens drawn like the tickets' authors: the active ones are asked about most."""
        rng = random.Random(seed)
        return [1 + int(self.citizens * rng.random() ** 2) for _ in range(k)]

    def citizen_rows(self) -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        start = NOW - timedelta(days=HISTORY_DAYS + 30)
        for cid in range(1, self.citizens + 1):
            chunk.append({"id": cid, "created_at": start + timedelta(minutes=cid % 100_000), "locale": "zh"})
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def identity_rows(self) -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        created = NOW - timedelta(days=HISTORY_DAYS + 30)
        for cid in range(1, self.citizens + 1):
            channel = self._channels[cid - 1]
            chunk.append(
                {
                    "id": cid,
                    "citizen_id": cid,
                    "channel": channel,
                    "account": "bench",
                    "chat_id": f"c{cid:010d}",
                    "reachable": True,
                    "created_at": created,
                    "last_inbound_at": None,
                }
            )
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _status(self, age_days: float) -> str:
        table = RECENT if age_days < 8 else MIDDLE if age_days < 30 else OLD
        names, weights = _weighted(table)
        return self._rng.choices(names, weights)[0]

    def ticket_rows(self) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        """(tickets, ratings) chunks, tickets in creation order with ids 1..N."""
        rng, more = self._rng, self._more
        step = HISTORY_DAYS * 86_400 / self.count
        tickets: list[dict[str, Any]] = []
        ratings: list[dict[str, Any]] = []
        rating_id = 0
        for tid in range(1, self.count + 1):
            created = NOW - timedelta(seconds=(self.count - tid) * step + rng.random() * step)
            age = (NOW - created).total_seconds() / 86_400
            topic = rng.choices(*self._topics)[0]
            kind = rng.choices(*self._types)[0]
            status = self._status(age)
            citizen = 1 + int(self.citizens * rng.random() ** 2)  # heavy tail: low ids file the most
            department = None if status == "submitted" else self._owner.get(topic, self._default)
            day = created.astimezone(TZ).strftime("%Y%m%d")
            self._seq[day] = seq = self._seq.get(day, 0) + 1
            answered = created + timedelta(days=1 + rng.random() * 8) if status in RATED else None
            score = None
            if answered is not None and department is not None and rng.random() < 0.6:
                rating_id += 1
                score = rng.choices((1, 2, 3), (70, 20, 10))[0]
                ratings.append(
                    {
                        "id": rating_id,
                        "ticket_id": tid,
                        "score": score,
                        "comment": "",
                        "department_code": department,
                        "staff_id": None,
                        "round": 0,
                        "created_at": answered + timedelta(days=1),
                    }
                )
            taken = status not in ("submitted", "accepted") or more.random() < 0.3
            claimed = created + timedelta(hours=more.choice((0.5, 1, 2, 3, 5, 7, 10, 20))) if taken else None
            respond_due, answer_due = created + timedelta(hours=8), created + timedelta(days=9)
            tickets.append(
                {
                    "id": tid,
                    "number": f"WZ{day}-{seq:04d}",
                    "intake_key": f"{tid:032x}",
                    "citizen_id": citizen,
                    "identity_id": citizen,
                    "type_code": kind,
                    "topic_code": topic,
                    "province": "山东省",
                    "city": "青岛市",
                    "district": rng.choice(DISTRICTS),
                    "address": rng.choice(STREETS),
                    # A pin somewhere in the city's ~30 x 30 km (the duplicate lookup searches near it).
                    "lat": round(CITY_SOUTH + self._geo.random() * CITY_SPAN, 6),
                    "lon": round(CITY_WEST + self._geo.random() * CITY_SPAN, 6),
                    "details": rng.choice(DETAILS),
                    "media": [],
                    "phone": f"13{more.randrange(10**9):09d}" if more.random() < 0.3 else None,
                    "locale": "zh",
                    "status": status,
                    "department_code": department,
                    "created_at": created,
                    "updated_at": answered or created,
                    "respond_due_at": respond_due,
                    "answer_due_at": answer_due,
                    "responded_at": claimed,
                    "answered_at": answered,
                    "closed_at": answered + timedelta(days=2) if status == "closed" and answered else None,
                    "rework_count": 1 if status == "reopened" else 0,
                    "escalated": claimed is None or claimed > respond_due,
                    "assignee_staff_id": self.handlers.get(department or "") if claimed else None,
                    "answered_by_staff_id": self.handlers.get(department or "") if answered else None,
                    "channel": self._channels[citizen - 1],
                    "first_department_code": department,
                    "first_respond_due_at": respond_due,
                    "first_answer_due_at": answer_due,
                    "claimed_at": claimed,
                    "first_answered_at": answered,
                    "transferred_at": created + timedelta(hours=1) if department and more.random() < 0.05 else None,
                    "latest_score": score,
                }
            )
            if len(tickets) >= CHUNK:
                yield tickets, ratings
                tickets, ratings = [], []
        if tickets:
            yield tickets, ratings


async def _insert(engine: AsyncEngine, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        async with engine.begin() as conn:
            await conn.execute(insert(table), rows)


async def _fix_sequences(engine: AsyncEngine, tables: tuple[str, ...]) -> None:
    """Explicit ids leave PostgreSQL's sequences at 1: move them past the data."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.begin() as conn:
        for name in tables:
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT coalesce(max(id), 1) FROM {name}))"
                )
            )


async def analyze(engine: AsyncEngine) -> None:
    """What autovacuum does on PostgreSQL after a bulk load. SQLite is left as the service leaves
    it (the service never runs ANALYZE), so its plans are the ones production would get."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def seed(engine: AsyncEngine, config: AppConfig, tickets: int, deadline: float) -> Seeded:
    """Load ``tickets`` tickets (and their citizens, identities and ratings); stop at ``deadline``
    (``time.monotonic()``) with what is loaded, so a slow machine cannot run away with the run."""
    started = time.monotonic()
    gen = Generator(tickets, config)
    department_rows, staff_rows = gen.directory_rows()
    await _insert(engine, table_of(Department), department_rows)
    await _insert(engine, table_of(Staff), staff_rows)
    for chunk in gen.citizen_rows():
        await _insert(engine, table_of(Citizen), chunk)
    for chunk in gen.identity_rows():
        await _insert(engine, table_of(Identity), chunk)
    loaded = rated = 0
    for ticket_chunk, rating_chunk in gen.ticket_rows():
        await _insert(engine, table_of(Ticket), ticket_chunk)
        await _insert(engine, table_of(Rating), rating_chunk)
        loaded += len(ticket_chunk)
        rated += len(rating_chunk)
        if time.monotonic() > deadline:
            break
    await _fix_sequences(engine, ("citizens", "identities", "tickets", "ratings", "staff"))
    loaded_at = time.monotonic()
    async with AsyncSession(engine) as session, session.begin():
        await stats.rebuild(session, ZoneInfo(config.server.timezone))
    rollup_seconds = time.monotonic() - loaded_at
    await analyze(engine)
    departments = tuple(sorted({d.code for d in config.departments}))
    seconds = time.monotonic() - started - rollup_seconds
    return Seeded(loaded, gen.citizens, rated, seconds, departments, rollup_seconds)
