"""``wenzheng demo [--days 30] [--tickets N]``: a lived-in month on the configured database.

For trying the console (``/console``) and the reports without real citizens: it adds a handler and
a supervisor to every department (and an admin), prints their login tokens, and acts out ``N``
tickets over the last ``--days`` days through the real actions (``tickets.console.seeding``):
filings with texts from the classifier's corpus (``dialogs/corpus/raw``), claims (some late, some
never), notes, 转办, 延期, answers (some after the deadline), ratings (some 不满意, then rework),
不予受理, and the timers in between (reminders, 督办 at overdue deadlines, unrated answers closed).
So every figure of the scorecard, every filter of the desk and the failed-pushes list have
something to show, consistently: the data is what the service itself would have written.

It refuses a database that already has tickets (it is for an empty, embedded one). Pushes it
queues for demo citizens on channels that are not enabled end as dead letters when ``serve``
starts: that is what the operators' "failed pushes" list is for.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

import dialogs
from bot.app import build_services, prepare_database
from bot.cli.corpus import read_corpus
from bot.cli.runner import OperatorError, text_table
from bot.config import AppConfig
from bot.services import Services
from storage.models import Ticket, utcnow
from storage.staff import Role, StaffRepository
from tickets.console.seeding import Filing, Script

DISTRICTS = ("市南区", "市北区", "李沧区", "崂山区", "城阳区", "黄岛区", "即墨区", "胶州市")
STREETS = ("香港中路", "延安三路", "辽阳西路", "南京路", "福州路", "重庆中路", "黑龙江中路", "长江中路", "镇平路")
CHANNELS = (("webchat", 70), ("wechat", 15), ("weibo", 8), ("telegram", 7))
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = (
    "建国",
    "丽华",
    "志强",
    "海燕",
    "晓东",
    "秀英",
    "国庆",
    "红梅",
    "伟",
    "静",
    "磊",
    "敏",
    "洋",
    "婷",
    "军",
    "芳",
    "涛",
    "霞",
)
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 10, 12, 12, 12, 11, 10, 10, 11, 12, 10, 7, 3)  # filings by local hour
NOTES = (
    "已电话联系市民，正在核实情况。",
    "已派人到现场查看。",
    "需要协调街道办共同处理。",
    "已转告责任单位，等待反馈。",
)
ANSWERS = (
    "您好，经核查，您反映的问题已责成相关单位处理完毕，感谢您的监督。",
    "您好，工作人员已到现场核实，问题已整改到位，后续将加强日常巡查。",
    "您好，您咨询的事项已电话答复：请携带身份证到政务服务中心窗口办理，也可在“爱山东”App线上办理。",
    "您好，经调查，相关单位已被约谈并限期整改，我们将持续跟踪整改情况。",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser("demo", help="seed a realistic month of tickets and staff (for trying /console)")
    demo.add_argument("--config", default="config.yaml")
    demo.add_argument("--days", type=int, default=30, help="how far back the tickets go (default 30)")
    demo.add_argument("--tickets", type=int, default=300, help="how many tickets (default 300)")
    demo.add_argument("--seed", type=int, default=2026, help="random seed, for the same month again")


@dataclass(frozen=True, slots=True)
class DemoStaff:
    name: str
    department: str
    role: Role
    token: str


def _names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(FAMILY) + rng.choice(GIVEN)
        if name not in names:
            names.append(name)
    return names


async def _add_staff(services: Services, rng: random.Random, now: datetime) -> list[DemoStaff]:
    """A handler and a supervisor per department, one admin (of the default department)."""
    repo = StaffRepository()
    departments = [d.code for d in services.config.departments]
    wanted = [(d, Role.HANDLER) for d in departments] + [(d, Role.SUPERVISOR) for d in departments]
    wanted.append((services.config.default_department, Role.ADMIN))
    people: list[DemoStaff] = []
    async with services.sessions.begin() as session:
        taken = {s.name for s in await repo.all(session)}
        names = [n for n in _names(rng, len(wanted) + len(taken)) if n not in taken]
        for (department, role), name in zip(wanted, names, strict=False):
            member = await repo.add(session, name, department, role.value, now)
            token = await repo.issue_token(session, member.id, now)
            people.append(DemoStaff(name, department, role, token))
    return people


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p for p, _ in pairs], [w for _, w in pairs])[0]


def _filing_time(rng: random.Random, now: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Mostly in the local day and evening, like people write; within the last ``days`` days."""
    day = (now - timedelta(days=rng.random() * days)).astimezone(tz)
    hour = rng.choices(range(24), HOURLY)[0]
    local = day.replace(hour=hour, minute=rng.randrange(60))
    return min(max(local, now - timedelta(days=days)), now - timedelta(minutes=5))


def plan(
    script: Script, services: Services, staff: list[DemoStaff], *, tickets: int, days: int, now: datetime,
    rng: random.Random,
) -> None:  # fmt: skip
    """Each ticket's story, drawn at random with a city hotline's proportions; a step that would
    fall after ``now`` is not written (the story is still going on)."""
    corpus = [e for e in read_corpus(Path(dialogs.__file__).parent / "corpus" / "raw") if e.type]
    directory = services.workflow.directory
    handler = {s.department: s.name for s in staff if s.role is Role.HANDLER}
    supervisor = {s.department: s.name for s in staff if s.role is Role.SUPERVISOR}
    codes = [d.code for d in directory.departments]
    citizens = max(1, int(tickets * 0.8))  # some citizens write twice
    for i in range(tickets):
        key = f"d{i}"
        example = rng.choice(corpus)
        topic = example.topic[0]
        t0 = _filing_time(rng, now, days, services.workflow.tz)
        district = rng.choice(DISTRICTS)
        script.file(
            key,
            t0,
            Filing(
                citizen=f"demo-{rng.randrange(citizens):05d}",
                channel=_weighted(rng, CHANNELS),
                type_code=example.type or "complaint",
                topic_code=topic,
                city="青岛市",
                district=district,
                address=rng.choice(STREETS) + f"{rng.randrange(1, 300)}号",
                details=example.text,
                phone=f"13{rng.randrange(10**9):09d}" if rng.random() < 0.3 else None,
            ),
        )
        dept = directory.route(topic, district)
        t = t0 + timedelta(hours=rng.uniform(0.3, 3))
        if t >= now:
            continue
        if rng.random() < 0.02:
            script.reject(key, handler[dept], t)
            continue
        moved_at = t0
        if rng.random() < 0.06:
            target = rng.choice([c for c in codes if c != dept])
            script.transfer(key, handler[dept], t, target)
            dept, moved_at = target, t
        lateness = rng.random()
        if lateness < 0.08:
            continue  # nobody takes it up: overdue, 督办
        t = t0 + timedelta(hours=rng.uniform(0.2, 6) if lateness < 0.83 else rng.uniform(9, 30))
        t = max(t, moved_at + timedelta(minutes=30))  # the new department takes it up after the 转办
        if t >= now:
            continue
        script.claim(key, handler[dept], t)
        if rng.random() < 0.2 and t + timedelta(hours=2) < now:
            script.note(key, handler[dept], t + timedelta(hours=2), rng.choice(NOTES))
        if rng.random() < 0.05 and t + timedelta(days=1) < now:
            script.extend(key, supervisor[dept], t + timedelta(days=1), (t0 + timedelta(days=16)).date())
        speed = rng.random()
        t += timedelta(
            days=rng.uniform(0.3, 3) if speed < 0.6 else rng.uniform(3, 9) if speed < 0.9 else rng.uniform(9, 16)
        )
        if t >= now:
            continue
        script.reply(key, handler[dept], t, rng.choice(ANSWERS))
        if rng.random() >= 0.65:
            continue  # never rated: closed as unrated by its timer
        t += timedelta(hours=rng.uniform(1, 36))
        score = rng.choices((1, 2, 3), (70, 18, 12))[0]
        if t >= now:
            continue
        script.rate(key, t, score, "问题没有解决，还是老样子" if score == 3 else "")
        if score != 3:
            continue
        t += timedelta(days=rng.uniform(1, 4))  # 退回重办: answered again
        if t >= now:
            continue
        script.reply(key, handler[dept], t, "您好，已重新安排处理，现场已整改完毕。")
        t += timedelta(hours=rng.uniform(2, 30))
        if rng.random() < 0.6 and t < now:
            script.rate(key, t, rng.choices((1, 2, 3), (50, 30, 20))[0])


async def seed(
    services: Services, *, days: int, tickets: int, seed_value: int, now: datetime
) -> tuple[list[DemoStaff], Script]:
    """Staff and a month of tickets on ``services``' (empty) database."""
    async with services.sessions() as session:
        existing = int((await session.execute(select(func.count()).select_from(Ticket))).scalar_one())
    if existing:
        raise OperatorError(f"the database already has {existing} tickets; the demo seeds an empty one")
    rng = random.Random(seed_value)
    staff = await _add_staff(services, rng, now - timedelta(days=days + 1))
    script = Script(flow=services.workflow, sessions=services.sessions, strict=False)
    plan(script, services, staff, tickets=tickets, days=days, now=now, rng=rng)
    await script.run(now)
    return staff, script


async def run(args: argparse.Namespace, config: AppConfig, *, clock: Callable[[], datetime] = utcnow) -> int:
    if args.days < 1 or args.tickets < 1:
        print("wenzheng: --days and --tickets must be at least 1", file=sys.stderr)
        return 2
    services = build_services(config, clock)
    try:
        try:
            await prepare_database(services)
        except RuntimeError as exc:
            raise OperatorError(str(exc)) from exc
        staff, script = await seed(services, days=args.days, tickets=args.tickets, seed_value=args.seed, now=clock())
    except OperatorError as exc:
        print(f"wenzheng: {exc}", file=sys.stderr)
        return 2
    finally:
        await services.dispose_databases()
    skipped = f" ({script.skipped} scripted steps the rules did not allow were skipped)" if script.skipped else ""
    print(f"seeded {len(script.numbers)} tickets over {args.days} days{skipped}")
    print("staff (sign in at /console with the token):")
    rows = [["NAME", "DEPARTMENT", "ROLE", "TOKEN"], *([s.name, s.department, s.role.value, s.token] for s in staff)]
    print("\n".join(text_table(rows)))
    server = config.server
    print(f"now run `scripts/serve` (or `wenzheng serve`) and open http://{server.host}:{server.port}/console")
    return 0
