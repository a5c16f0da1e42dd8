"""The scorecard's counts of issue #16 (重复诉求 and the 督办 ladder's steps) and 督办 that survives
解除督办, on a December 2026 acted out through the real actions and timers, counted by hand.

Deadlines (Asia/Shanghai): filed Tuesday 12-01 09:00, respond by 17:00 (the reminder at 13:00, 4 h
before, inside office hours), answer by Thursday 12-10 23:59:59 (the reminder at 18:00 that day, the
last office moment before 19:59:59); 红牌 two working days after the 黄牌's deadline. Urban's
staff are 张三, 孙七 (handlers) and 李四 (supervisor); transport's is 王五; 赵六 is an admin.

  A   c-a, urban: claimed 09:30, answered the next day. No step.
  B   c-b, urban: never claimed: reminder 13:00, 黄牌 17:00, 红牌 12-03 17:00, answer reminder 12-10.
  C   c-c, urban: claimed; the citizen's 催办 on 12-02, before the deadline (a 催办, no card); answered.
  D   c-d, transport: claimed, not answered by 12-10: reminder, 黄牌; 赵六 clears it (解除督办) on
      12-11, then it is answered. Still 督办 in the figure.
  E   c-e, urban: claimed, not answered: reminder, 黄牌; the citizen's 催办 on 12-11, after the
      deadline: 红牌 (a 催办 too).
  F   c-f, urban: never claimed: reminder, 黄牌; then linked to B (a 重复件): left out of everything.
  G   c-a again on 12-07, the same lamp: 重复诉求, urban's; claimed and answered at once.
  H   c-d again on 12-08, the same bus stop: 重复诉求, transport's; claimed and answered at once.
  I   c-b again on 12-04: 重复诉求, but linked to B within the hour: a 重复件, not counted.
  J   c-j, urban: never claimed: reminder, 黄牌 in urban; transferred to transport on 12-02,
      claimed and answered there. Its steps stay urban's; its ticket is transport's now.

Counts, by department (where each step happened or each repeat was filed):
  urban      提醒 B B E J = 4, 黄牌 B E J = 3, 红牌 B E = 2, 催办 C E = 2, 重复诉求 G = 1
  transport  提醒 D = 1, 黄牌 D = 1, 红牌 0, 催办 0, 重复诉求 H = 1
督办 (answer-due in December: A B C D E G H J; the ticket's current department):
  urban B E of A B C E G = 2/5; transport D J of D H J = 2/3 (D's card was cleared).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import report as report_cli
from bot.services import Services
from storage.database import session_factory
from storage.models import Ticket
from storage.scorecard_snapshots import ScorecardSnapshotRepository
from tests.bot.cli.test_report import parse
from tests.tickets.console.month import month_config, open_services
from tickets.console.export import Names, scorecard_csv, scorecard_xlsx
from tickets.console.scorecard import GroupBy, Kpi, Part, ScoreRow, Tally, scorecard, tally_behind, tickets_behind
from tickets.console.seeding import Filing, Script
from tickets.console.snapshots import Month, Snapshots, decode, encode

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 12, 1), date(2026, 12, 31)
UNTIL = datetime(2027, 1, 1, 0, 0, tzinfo=TZ)
LAMP = "香港中路的路灯坏了一个星期了，晚上很危险"
BUS = "香港中路公交站的站牌被撞歪了，等车的人看不到线路"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


@dataclass
class December:
    services: Services
    numbers: dict[str, str]


def write_december(script: Script) -> None:
    def lamp(citizen: str, details: str = LAMP) -> Filing:
        return Filing(citizen=citizen, district="市南区", address="香港中路", topic_code="urban", details=details)

    def bus(citizen: str) -> Filing:
        return Filing(citizen=citizen, district="市南区", address="香港中路", topic_code="transport", details=BUS)

    script.file("A", at(1, 9), lamp("c-a"))
    script.claim("A", "张三", at(1, 9, 30))
    script.reply("A", "张三", at(2, 10))
    script.rate("A", at(2, 11), 1)
    script.file("B", at(1, 9), lamp("c-b", "香港中路的井盖丢了好几天，车辆经过很危险"))
    script.file("C", at(1, 9), lamp("c-c", "市南区政府门口的垃圾桶满了没人清理，气味很大"))
    script.claim("C", "张三", at(1, 10))
    script.urge("C", at(2, 10))
    script.reply("C", "张三", at(3, 10))
    script.file("D", at(1, 9), bus("c-d"))
    script.claim("D", "王五", at(1, 9, 10))
    script.clear_supervision("D", "赵六", at(11, 10), "已约谈，今天答复")
    script.reply("D", "王五", at(11, 11))
    script.file("E", at(1, 9), lamp("c-e", "香港中路人行道砖松动，老人差点摔倒"))
    script.claim("E", "孙七", at(1, 9, 5))
    script.urge("E", at(11, 9))
    script.file("F", at(1, 9), lamp("c-f", "香港中路的井盖丢了好几天，车辆经过很危险"))
    script.mark_duplicate("F", "张三", at(2, 9), "B")
    script.file("G", at(7, 10), lamp("c-a"))
    script.claim("G", "张三", at(7, 10, 30))
    script.reply("G", "张三", at(8, 10))
    script.file("H", at(8, 10), bus("c-d"))
    script.claim("H", "王五", at(8, 10, 10))
    script.reply("H", "王五", at(9, 10))
    script.file("I", at(4, 10), lamp("c-b", "香港中路的井盖丢了好几天，车辆经过很危险"))
    script.mark_duplicate("I", "张三", at(4, 11), "B")
    script.file("J", at(1, 9), lamp("c-j", "香港中路有辆车占用公交站停了三天"))
    script.transfer("J", "张三", at(2, 9), "transport", "占用公交站属于交通运输局")
    script.claim("J", "王五", at(2, 10))
    script.reply("J", "王五", at(3, 10))


@pytest.fixture
async def december(tmp_path: Path, database_url: str) -> AsyncIterator[December]:
    services = await open_services(month_config(tmp_path, database_url))
    try:
        script = Script(flow=services.workflow, sessions=services.sessions)
        write_december(script)
        yield December(services, await script.run(UNTIL))
    finally:
        await services.dispose_databases()


def _tallies(row: ScoreRow) -> dict[Tally, int]:
    return dict(row.tallies)


async def test_the_counts_by_department_match_the_hand_count(december: December) -> None:
    async with december.services.sessions() as session:
        card = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, now=UNTIL)
    rows = {r.key: r for r in card.rows}
    assert set(rows) == {"urban", "transport"}
    assert _tallies(rows["urban"]) == {
        Tally.REPEAT_REQUESTS: 1,
        Tally.REMINDERS: 4,
        Tally.YELLOW_CARDS: 3,
        Tally.RED_CARDS: 2,
        Tally.URGES: 2,
    }
    assert _tallies(rows["transport"]) == {
        Tally.REPEAT_REQUESTS: 1,
        Tally.REMINDERS: 1,
        Tally.YELLOW_CARDS: 1,
        Tally.RED_CARDS: 0,
        Tally.URGES: 0,
    }
    assert _tallies(card.total) == {
        Tally.REPEAT_REQUESTS: 2,
        Tally.REMINDERS: 5,
        Tally.YELLOW_CARDS: 4,
        Tally.RED_CARDS: 2,
        Tally.URGES: 2,
    }
    escalations = {k: r.figures[Kpi.ESCALATIONS] for k, r in rows.items()}
    assert {k: (f.numerator, f.denominator) for k, f in escalations.items()} == {"urban": (2, 5), "transport": (2, 3)}


async def test_a_cleared_card_still_counts_and_the_tickets_behind_each_count(december: December) -> None:
    n = december.numbers
    services = december.services
    async with services.sessions() as session:
        d = (await session.execute(select(Ticket).where(Ticket.number == n["D"]))).scalar_one()
        assert (d.escalation_level, d.escalated) == (0, False)  # 解除督办 took it off the ladder

        async def behind(tally: Tally, key: str | None = None) -> set[str]:
            found = await tally_behind(
                session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, key=key, tally=tally, whole=key is None,
                now=UNTIL,
            )  # fmt: skip
            return set(found)

        escalated = await tickets_behind(
            session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, key=None, kpi=Kpi.ESCALATIONS,
            part=Part.NUMERATOR, whole=True, now=UNTIL,
        )  # fmt: skip
        assert set(escalated) == {n[k] for k in ("B", "D", "E", "J")}
        assert await behind(Tally.REPEAT_REQUESTS) == {n["G"], n["H"]}  # I is a 重复件
        assert await behind(Tally.REPEAT_REQUESTS, "transport") == {n["H"]}
        assert await behind(Tally.YELLOW_CARDS, "urban") == {n[k] for k in ("B", "E", "J")}  # J left urban later
        assert await behind(Tally.REMINDERS, "transport") == {n["D"]}
        assert await behind(Tally.URGES) == {n["C"], n["E"]}
        assert await behind(Tally.RED_CARDS, "transport") == set()
        # Only the period's steps: the first week holds the respond-deadline ones alone.
        first_week = await tally_behind(
            session, start=START, end=date(2026, 12, 7), tz=TZ, by=GroupBy.DEPARTMENT, key=None,
            tally=Tally.YELLOW_CARDS, whole=True,
        )  # fmt: skip
        assert set(first_week) == {n["B"], n["J"]}  # F's is a 重复件's; D and E came on 12-10


async def test_other_groupings_count_by_the_ticket(december: December) -> None:
    services = december.services
    async with services.sessions() as session:
        by_topic = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.TOPIC, now=UNTIL)
        by_handler = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.HANDLER, now=UNTIL)
    topics = {r.key: _tallies(r) for r in by_topic.rows}
    # By topic, J's card goes with its topic (urban), wherever the ticket is now.
    assert topics["transport"][Tally.YELLOW_CARDS] == 1 and topics["urban"][Tally.YELLOW_CARDS] == 3
    assert topics["transport"][Tally.REPEAT_REQUESTS] == 1 and topics["urban"][Tally.REPEAT_REQUESTS] == 1
    handlers = {r.label: _tallies(r) for r in by_handler.rows}
    assert handlers[None][Tally.RED_CARDS] == 1  # B: nobody took it
    assert handlers["孙七"][Tally.URGES] == 1 and handlers["孙七"][Tally.RED_CARDS] == 1  # E
    assert sum(t[Tally.REMINDERS] for t in handlers.values()) == 5


async def test_the_counts_reach_the_snapshot_the_exports_and_the_report(
    december: December, capsys: pytest.CaptureFixture[str]
) -> None:
    services = december.services
    snapshots = Snapshots(tz=TZ)
    readers = session_factory(services.reader_db)
    made = await snapshots.refresh(readers, services.sessions, start=START, end=END, by=GroupBy.DEPARTMENT, now=UNTIL)
    async with readers() as session:
        stored = await snapshots.stored(session, start=START, end=END, by=GroupBy.DEPARTMENT)
    assert stored is not None and stored.card == made.card and decode(encode(made.card)) == made.card
    assert _tallies(stored.card.total)[Tally.YELLOW_CARDS] == 4
    flow = services.workflow
    names = Names(taxonomy=flow.taxonomy, directory=flow.directory)
    rows = list(csv.reader(io.StringIO(scorecard_csv(made.card, names=names).decode("utf-8-sig"))))
    header, urban, total = rows[0], rows[2], rows[-1]
    assert urban[0] == "城市管理局"
    assert [urban[header.index(h)] for h in ("重复诉求", "提醒", "黄牌", "红牌", "催办")] == ["1", "4", "3", "2", "2"]
    assert [total[header.index(h)] for h in ("重复诉求", "提醒", "黄牌", "红牌", "催办")] == ["2", "5", "4", "2", "2"]
    book = load_workbook(io.BytesIO(scorecard_xlsx(made.card, names=names, locale="en")), read_only=True)
    notes = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    assert book.sheetnames[1] == "Definitions"
    assert any(r[0] == "Repeat requests" and "same matter again" in str(r[1]) for r in notes)

    code = await report_cli.run(parse("month", "--month", "2026-12"), services.config, clock=lambda: UNTIL)
    out = capsys.readouterr().out
    assert code == 0
    table = out.split("\n\n")[0].splitlines()
    assert table[1].split()[-8:] == ["督办", "逾期", "重复诉求", "提醒", "黄牌", "红牌", "催办", "时长中位(h)"]
    urban_line = next(line.split() for line in table if line.startswith("urban"))
    assert urban_line[-8:-1] == ["2", "2", "1", "4", "3", "2", "2"]  # 督办, 逾期 (B, E), then the counts
    assert "重复诉求：" in out and "Repeat requests:" in out  # the definitions, in both languages


async def test_a_snapshot_stored_before_the_counts_is_counted_again(december: December) -> None:
    """A row in the format before #16 (no ``version``, no counts; from before the upgrade, or from
    a worker not yet upgraded) is neither shown nor left to age: it is due at once."""
    services = december.services
    snapshots = Snapshots(tz=TZ)
    readers = session_factory(services.reader_db)
    made = await snapshots.refresh(readers, services.sessions, start=START, end=END, by=GroupBy.DEPARTMENT, now=UNTIL)
    old = encode(made.card)
    del old["version"]
    for row in (*old["rows"], old["total"]):
        del row["tallies"]
    async with services.sessions.begin() as session:
        await ScorecardSnapshotRepository().put(
            session, start=START, end=END, grouping="department", computed_at=UNTIL, body=old
        )
    async with readers() as session:
        assert await snapshots.stored(session, start=START, end=END, by=GroupBy.DEPARTMENT) is None
        due = await snapshots.due(session, UNTIL)
    assert (Month(START, END), GroupBy.DEPARTMENT) in due
    await snapshots.refresh_due(readers, services.sessions, UNTIL)
    async with readers() as session:
        again = await snapshots.stored(session, start=START, end=END, by=GroupBy.DEPARTMENT)
    assert again is not None and _tallies(again.card.total)[Tally.REMINDERS] == 5
