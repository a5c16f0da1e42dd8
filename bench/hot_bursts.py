"""Bursts planted in the oversight scenario's seed, so its daily hot-topic run has something to find
and a trap not to fall into.

``bench.seed`` alone is a steady stream (twelve descriptions drawn at random over two years):
nothing in it rises, so the run found 0 topics at 1,000,000 tickets and its clustering, ranking and
output were never exercised at scale. Planted on top, each sized from the seed's weekly volume W
(N tickets over 730 days) so they stand out alike at 3,000 and at 1,000,000 tickets:

- 地铁施工 at night in 市南区 (a few in 崂山区): words the seed never uses, W/100 tickets (at least
  10) in the last 7 days, more each day, after a trickle in the 28 days before: hot city-wide;
- 暖气不热 in 李沧区 and 市北区, the heating season's first complaints, W/150 (at least 8): hot city-wide;
- 井盖丢了 in 黄岛区: one of the seed's own descriptions, W/40 (at least 8) more in the last week:
  four times its usual level in 黄岛区 but a third more city-wide, so only the per-district pass
  finds it (at a few thousand tickets its city-wide level is a handful and the city-wide pass does);
- one angry citizen writing 20 times in the last week about a square-dance loudspeaker, and four
  citizens about a broken bus shelter: rising, but neither is five citizens, so neither is a topic.

Authors are new citizens (ids after the seed's), one in ten writing twice; numbers continue each
day's sequence. Written after ``bench.seed.seed``: the department statistics do not count them (the
scenario reads none).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.seed import CITY_SOUTH, CITY_SPAN, CITY_WEST, HISTORY_DAYS, STREETS, TZ, department_for
from bot.config import AppConfig
from storage.models import Citizen, Identity, Ticket
from storage.upsert import table_of
from tickets.hot_topics import Topic

RECENT_DAYS, BASELINE_DAYS = 7, 28  # the shipped rules' windows


@dataclass(frozen=True, slots=True)
class Matter:
    name: str
    topic: str
    districts: tuple[tuple[str, int], ...]  # where, weighted
    texts: tuple[str, ...]  # how citizens put it ({street} is filled in)
    share: float = 0.0  # tickets in the last 7 days per ticket of the seed's weekly volume
    at_least: int = 0
    trickle: float = 0.0  # tickets in the 28 days before, per ticket of the burst
    authors: int | None = None  # None: about one per ticket (one in ten writes twice)
    hot: bool = True  # the run must find it

    def recent_tickets(self, weekly: float) -> int:
        return max(self.at_least, round(weekly * self.share))


MATTERS = (
    Matter(
        "地铁施工夜间噪音",
        "environment",
        (("市南区", 85), ("崂山区", 15)),
        (
            "{street}地铁施工半夜还在打桩，吵得根本睡不着",
            "地铁工地夜里十一点以后还在作业，围挡里机器轰鸣",
            "家楼下的地铁站施工凌晨还有渣土车进出，孩子没法睡觉",
            "地铁施工夜间扰民，能不能限制一下作业时间",
            "{street}地铁围挡里每天夜里切割钢筋，老人心脏受不了",
            "地铁工地夜间施工没有公示，噪音扰民",
        ),
        share=1 / 100,
        at_least=10,
        trickle=1 / 25,
    ),
    Matter(
        "暖气不热",
        "utilities",
        (("李沧区", 60), ("市北区", 40)),
        (
            "家里暖气不热，室温只有十五度",
            "供暖开始一周了暖气还是凉的，老人冻得受不了",
            "小区暖气不热，供热公司电话打不通",
            "{street}这栋楼暖气不热，孩子感冒了",
            "暖气温度太低，供热不达标，要求退费",
        ),
        share=1 / 150,
        at_least=8,
        trickle=1 / 25,
    ),
    Matter(
        "黄岛区井盖丢失",
        "urban",
        (("黄岛区", 1),),
        ("井盖丢了好几天了，车辆经过很危险",),  # the seed's own words: only the district rises
        share=1 / 40,
        at_least=8,
    ),
    Matter(
        "一位市民的广场舞投诉",
        "environment",
        (("市北区", 1),),
        ("小区广场舞音响声音太大，吵到十点，第{n}次反映了",),
        at_least=20,
        authors=1,
        hot=False,
    ),
    Matter(
        "四位市民的候车亭",
        "transport",
        (("李沧区", 1),),
        ("公交站候车亭的玻璃碎了，一直没人来换",),
        at_least=4,
        authors=4,
        hot=False,
    ),
)
FLOOD = MATTERS[3].name


@dataclass(frozen=True, slots=True)
class Planted:
    numbers: dict[str, frozenset[str]]  # matter -> its tickets' numbers
    hot: frozenset[str]  # the matters the run must find
    tickets: int


@dataclass(frozen=True, slots=True)
class Assessment:
    found: dict[str, list[str]]  # planted hot matter -> where each of its topics is: "city-wide" or a district
    missed: tuple[str, ...]
    wrongly_hot: tuple[str, ...]  # planted matters that must not be topics and are
    others: int  # topics that are none of the planted matters: noise in the steady background

    def describe(self, planted: Planted) -> str:
        found = ", ".join(
            f"{name} ({'; '.join(f'{where} x{n}' if n > 1 else where for where, n in Counter(places).items())})"
            for name, places in self.found.items()
        )
        single = self.found and all(len(places) == 1 for places in self.found.values())
        line = (
            f"{len(self.found)} of {len(planted.hot)} planted bursts found{', each as one topic' if single else ''}: "
        )
        line += found or "none"
        if self.missed:
            line += f"; MISSED {', '.join(self.missed)}"
        cold = [name for name in planted.numbers if name not in planted.hot]
        wrong = set(self.wrongly_hot)
        line += "; " + ", ".join(f"{name} {'WRONGLY A TOPIC' if name in wrong else 'not a topic'}" for name in cold)
        return line + f"; {self.others} other topic(s), from the steady background"


def assess(planted: Planted, topics: Sequence[Topic]) -> Assessment:
    """Which planted matter each topic is: the one most of its tickets are, else the hot matter it
    carries most of (a burst may come out as a few topics, each with some background tickets)."""
    found: dict[str, list[str]] = {}
    wrong: list[str] = []
    others = 0
    for topic in topics:
        mine = set(topic.numbers)
        name = next((n for n, numbers in planted.numbers.items() if len(mine & numbers) * 2 >= len(mine)), None)
        if name is None:
            name = next((n for n in planted.hot if len(mine & planted.numbers[n]) * 2 >= len(planted.numbers[n])), None)
        if name is None:
            others += 1
        elif name not in planted.hot:
            wrong.append(name)
        else:
            found.setdefault(name, []).append(topic.district or "city-wide")
    missed = tuple(n for n in planted.numbers if n in planted.hot and n not in found)
    return Assessment(found, missed, tuple(dict.fromkeys(wrong)), others)


async def plant(engine: AsyncEngine, config: AppConfig, seeded: int, now: datetime, seed: int = 7) -> Planted:
    """Write the bursts for a seed of ``seeded`` tickets ending at ``now``."""
    rng = random.Random(seed)
    weekly = seeded * RECENT_DAYS / HISTORY_DAYS
    owner = department_for(config)
    async with engine.begin() as conn:
        citizen = await _max_id(conn, Citizen)
        identity = await _max_id(conn, Identity)
        sequences = _Sequences(conn)
        citizens: list[dict[str, Any]] = []
        identities: list[dict[str, Any]] = []
        tickets: list[dict[str, Any]] = []
        numbers: dict[str, frozenset[str]] = {}
        for matter in MATTERS:
            pin = (CITY_SOUTH + rng.random() * CITY_SPAN, CITY_WEST + rng.random() * CITY_SPAN)
            recent = matter.recent_tickets(weekly)
            when = [now - _recent_offset(rng) for _ in range(recent)]
            when += [now - _baseline_offset(rng) for _ in range(round(recent * matter.trickle))]
            authors = matter.authors or len(when) - len(when) // 10
            first = citizen + 1
            citizen += authors
            for cid in range(first, citizen + 1):
                identity += 1
                citizens.append({"id": cid, "created_at": now - timedelta(days=60), "locale": "zh"})
                identities.append(
                    {
                        "id": identity,
                        "citizen_id": cid,
                        "channel": "wechat",
                        "account": "bench",
                        "chat_id": f"b{cid:010d}",
                        "reachable": True,
                        "created_at": now - timedelta(days=60),
                        "last_inbound_at": None,
                    }
                )
            by_citizen = {cid: identity - citizen + cid for cid in range(first, citizen + 1)}
            # Everyone writes once, then the rest are second letters from some of them.
            authored = list(range(first, citizen + 1)) + [rng.randint(first, citizen) for _ in when[authors:]]
            districts, weights = zip(*matter.districts, strict=True)
            mine: list[str] = []
            for n, (created, author) in enumerate(zip(sorted(when), authored, strict=True), 1):
                text = rng.choice(matter.texts).format(street=rng.choice(STREETS), n=n)
                number = await sequences.next(created)
                mine.append(number)
                row = _ticket(number, created, now, author, by_citizen[author], matter, text, owner, config, rng)
                row.update(
                    district=rng.choices(districts, weights)[0],
                    lat=round(pin[0] + rng.uniform(-0.004, 0.004), 6),
                    lon=round(pin[1] + rng.uniform(-0.004, 0.004), 6),
                )
                tickets.append(row)
            numbers[matter.name] = frozenset(mine)
        await conn.execute(insert(table_of(Citizen)), citizens)
        await conn.execute(insert(table_of(Identity)), identities)
        await conn.execute(insert(table_of(Ticket)), tickets)
    return Planted(numbers, frozenset(m.name for m in MATTERS if m.hot), len(tickets))


def _recent_offset(rng: random.Random) -> timedelta:
    """Rising: each day of the last week more than the day before."""
    days_ago = rng.choices(range(RECENT_DAYS), weights=range(RECENT_DAYS, 0, -1))[0]
    return timedelta(days=days_ago, seconds=rng.uniform(60, 86_340))


def _baseline_offset(rng: random.Random) -> timedelta:
    return timedelta(days=RECENT_DAYS + rng.uniform(0.1, BASELINE_DAYS - 0.1))


def _ticket(
    number: str,
    created: datetime,
    now: datetime,
    citizen: int,
    identity: int,
    matter: Matter,
    details: str,
    owner: dict[str, str],
    config: AppConfig,
    rng: random.Random,
) -> dict[str, Any]:
    department = owner.get(matter.topic, config.default_department)
    done = now - created > timedelta(days=RECENT_DAYS + 1)  # the trickle before: answered and closed
    answered = created + timedelta(days=3) if done else None
    return {
        "number": number,
        "intake_key": f"burst-{number}",
        "citizen_id": citizen,
        "identity_id": identity,
        "type_code": "complaint",
        "topic_code": matter.topic,
        "province": "山东省",
        "city": "青岛市",
        "address": rng.choice(STREETS),
        "details": details,
        "media": [],
        "phone": None,
        "locale": "zh",
        "status": "closed" if done else "accepted",
        "department_code": department,
        "created_at": created,
        "updated_at": answered or created,
        "respond_due_at": created + timedelta(hours=8),
        "answer_due_at": created + timedelta(days=9),
        "answered_at": answered,
        "closed_at": answered + timedelta(days=2) if answered else None,
        "channel": "wechat",
        "first_department_code": department,
        "first_respond_due_at": created + timedelta(hours=8),
        "first_answer_due_at": created + timedelta(days=9),
    }


async def _max_id(conn: AsyncConnection, model: type[Citizen] | type[Identity]) -> int:
    return int((await conn.execute(select(func.coalesce(func.max(model.id), 0)))).scalar_one())


class _Sequences:
    """Each local day's next ticket number, after the seed's (``WZ<day>-0001`` ... counted once a day)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._last: Counter[str] = Counter()
        self._read: set[str] = set()

    async def next(self, created: datetime) -> str:
        day = created.astimezone(TZ).strftime("%Y%m%d")
        if day not in self._read:
            prefix = f"WZ{day}-"
            # A range on the unique index ('.' sorts right after '-'), not LIKE (a full scan on SQLite).
            stmt = select(func.count()).where(Ticket.number >= prefix, Ticket.number < f"WZ{day}.")
            self._last[day] = int((await self._conn.execute(stmt)).scalar_one())
            self._read.add(day)
        self._last[day] += 1
        return f"WZ{day}-{self._last[day]:04d}"
