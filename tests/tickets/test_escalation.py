"""督办 that climbs, on the real app with an injected clock: reminder, 黄牌 at the deadline, 红牌
N working days later (across the National Day holiday), a citizen's 催办, a second 不满意,
督办列表 and 解除督办, each step recorded and counted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import ConfigError, load_config
from storage.models import AuditEntry, EscalationStep, Timer
from tests.bot.test_config import shipped, write
from tests.tickets.test_workflow import CHAT, DESK, Person, World, file, texts, world
from tickets.deadlines import WorkingCalendar
from tickets.escalation import RED_TIMER
from tickets.ladder import Ladder
from tickets.timers import TimerKind

__all__ = ["world"]  # the fixture, shared with the workflow tests

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


async def steps(world: World, number: str) -> list[tuple[str, int, str]]:
    ticket = await world.ticket(number)
    async with world.services.sessions() as session:
        rows = await world.services.workflow.escalations.steps(session, ticket.id)
    return [(r.step, r.level, r.cause) for r in rows]


async def pending(world: World, number: str, kind: str) -> list[datetime]:
    ticket = await world.ticket(number)
    async with world.services.sessions() as session:
        stmt = select(Timer.due_at).where(Timer.ticket_id == ticket.id, Timer.kind == kind, Timer.status == "pending")
        return list((await session.execute(stmt)).scalars())


async def signed_in_again(world: World, name: str, before: Person) -> Person:
    """A new /staff session after the clock jumped days (sessions expire); message ids go on."""
    person = await world.staff(name)
    person.counter = before.counter
    return person


def test_the_red_card_counts_working_days_across_the_national_day_holiday() -> None:
    ladder = Ladder(red_after_working_days=2, calendar=WorkingCalendar())
    # Due Tuesday 29 September 2026; 30 September is one working day, 1-7 October are the
    # holiday, Thursday 8 October is the second.
    assert ladder.red_due(local(2026, 9, 29, 23, 59, 59), SHANGHAI) == local(2026, 10, 8, 23, 59, 59)
    # A made-up calendar where only Mondays work: the rule is the calendar's, not Monday-Friday.
    mondays = Ladder(red_after_working_days=1, calendar=WorkingCalendar(lambda d: d.weekday() == 0))
    assert mondays.red_due(local(2026, 12, 1, 18, 0), SHANGHAI).date() == date(2026, 12, 7)
    assert TimerKind.RED_CARD.value == RED_TIMER


async def test_reminder_then_yellow_at_the_deadline_then_red_after_the_holiday(world: World) -> None:
    world.clock.now = local(2026, 9, 18, 10, 0).astimezone(UTC)  # Friday before the 20 Sept make-up Sunday
    citizen = await world.citizen()
    zhang, li, zhao = await world.staff("张三"), await world.staff("李四"), await world.staff("赵六")
    number = await file(world, citizen)
    await zhang.say(DESK, f"接单 {number}")
    ticket = await world.ticket(number)
    # 7 working days after Friday 18 Sept: 20 (make-up Sunday), 21, 22, 23, 24, 28, 29 (25 is Mid-Autumn).
    assert ticket.answer_due_at == local(2026, 9, 29, 23, 59, 59)
    worker = world.services.timer_worker

    world.clock.now = local(2026, 9, 29, 18, 0).astimezone(UTC)  # the reminder, kept inside office hours
    assert await worker.run_once() == 1
    assert "【提醒】" in texts(await world.inbox(zhang))

    world.clock.now = ticket.answer_due_at + timedelta(seconds=1)
    assert await worker.run_once() == 1
    assert "已超过答复期限" in texts(await world.inbox(li))  # 黄牌 to the department's supervisor
    assert "【红牌督办】" not in texts(await world.inbox(zhao))
    assert await pending(world, number, RED_TIMER) == [local(2026, 10, 8, 23, 59, 59)]
    assert (await world.ticket(number)).escalation_level == 1

    world.clock.now = local(2026, 10, 7, 23, 59, 59).astimezone(UTC)  # the holiday's last day: nothing yet
    assert await worker.run_once() == 0
    world.clock.now = local(2026, 10, 8, 23, 59, 59).astimezone(UTC)
    assert await worker.run_once() == 1
    red = texts(await world.inbox(zhao))  # the admin, and the default department's supervisors
    assert "【红牌督办】" in red and number in red and "城市管理" in red
    ticket = await world.ticket(number)
    assert ticket.escalation_level == 2 and ticket.escalated
    assert await steps(world, number) == [
        ("remind", 0, "remind_answer"),
        ("yellow", 1, "overdue_answer"),
        ("red", 2, "still_unanswered"),
    ]
    async with world.services.sessions() as session:
        counted = await world.services.workflow.escalations.counts(
            session, local(2026, 9, 1, 0, 0), local(2026, 11, 1, 0, 0)
        )
        audited = list(
            (await session.execute(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id))).scalars()
        )
    assert counted == {("urban", "remind"): 1, ("urban", "yellow"): 1, ("urban", "red"): 1}
    assert {"supervision_remind", "supervision_yellow", "supervision_red"} <= set(audited)


async def test_an_answer_before_the_red_card_stops_it(world: World) -> None:
    world.clock.now = local(2026, 12, 1, 10, 0).astimezone(UTC)
    citizen = await world.citizen()
    zhang, zhao = await world.staff("张三"), await world.staff("赵六")
    number = await file(world, citizen)
    await zhang.say(DESK, f"接单 {number}")
    ticket = await world.ticket(number)
    world.clock.now = ticket.answer_due_at + timedelta(seconds=1)
    await world.services.timer_worker.run_once()
    zhang = await signed_in_again(world, "张三", zhang)
    assert "已答复" in await zhang.say(DESK, f"回复 {number} 已修复")
    world.clock.now = ticket.answer_due_at + timedelta(days=5)
    await world.services.timer_worker.run_once()
    assert "【红牌督办】" not in texts(await world.inbox(zhao))
    assert (await world.ticket(number)).escalation_level == 1


async def test_a_citizen_urges_before_and_after_the_deadline(world: World) -> None:
    world.clock.now = local(2026, 12, 1, 10, 0).astimezone(UTC)
    citizen, other = await world.citizen(), await world.citizen()
    zhang, li = await world.staff("张三"), await world.staff("李四")
    number = await file(world, citizen)
    await zhang.say(DESK, f"接单 {number}")

    assert "已提醒承办人员" in await citizen.say(CHAT, f"催办 {number}")
    assert "【市民催办】" in texts(await world.inbox(zhang))
    assert "已经催办过" in await citizen.say(CHAT, f"催办 {number}")  # once a day counts
    assert "没有找到" in await other.say(CHAT, f"催办 {number}")  # someone else's: unknown
    assert "编号" in await citizen.say(CHAT, "催办")
    assert (await world.ticket(number)).escalation_level == 0

    ticket = await world.ticket(number)
    world.clock.now = ticket.answer_due_at + timedelta(hours=1)  # past the deadline; no timer has run
    assert "已升级督办" in await citizen.say(CHAT, f"urge {number}")
    assert "【黄牌督办】" in texts(await world.inbox(li)) and "市民超期催办" in texts(await world.inbox(li))
    assert (await world.ticket(number)).escalation_level == 1
    # The deadline timer comes after: the ticket is already on a rung, so no second card.
    before = len(await world.inbox(li))
    await world.services.timer_worker.run_once()
    assert len(await world.inbox(li)) == before

    world.clock.now += timedelta(hours=25)
    assert "已升级督办" in await citizen.say(CHAT, f"催办 {number}")
    assert (await world.ticket(number)).escalation_level == 2
    assert [s for s, _, _ in await steps(world, number)] == ["urge", "yellow", "remind", "red"]


async def test_a_second_unsatisfied_climbs_and_the_console_can_list_it(world: World) -> None:
    citizen = await world.citizen()
    zhang, li = await world.staff("张三"), await world.staff("李四")
    number = await file(world, citizen)
    for attempt in ("已安排维修", "已重新维修"):
        await zhang.say(DESK, f"回复 {number} {attempt}")
        await world.inbox(citizen)
        await citizen.tap(CHAT, f"rate:{number}:3")
        await citizen.tap(CHAT, "skip")
    ticket = await world.ticket(number)
    assert ticket.rework_count == 2 and ticket.escalation_level == 1
    assert "【督办】" in texts(await world.inbox(li))  # the rework card is the 黄牌's notice
    assert await steps(world, number) == [("yellow", 1, "unsatisfied_twice")]
    assert len(await pending(world, number, RED_TIMER)) == 1


async def test_supervisors_list_and_clear_with_a_reason(world: World) -> None:
    world.clock.now = local(2026, 12, 1, 10, 0).astimezone(UTC)
    citizen = await world.citizen()
    number = await file(world, citizen)
    quiet = await file(world, citizen)
    ticket = await world.ticket(number)
    world.clock.now = ticket.respond_due_at + timedelta(seconds=1)  # nobody took either up: both 黄牌
    await world.services.timer_worker.run_once()
    assert (await world.ticket(number)).escalation_level == 1
    zhang, li = await world.staff("张三"), await world.staff("李四")
    wang = await world.staff("王五")

    listed = await li.say(DESK, "督办列表")
    assert "督办中的问政（2件" in listed and number in listed and quiet in listed and "黄牌" in listed
    assert "只有主管" in await zhang.say(DESK, "督办列表")
    assert "只有主管和管理员可以解除督办" in await zhang.say(DESK, f"解除督办 {number} 我来处理")
    assert "不属于您的部门" in await wang.say(DESK, f"解除督办 {number} 不归我管")
    assert "格式不对" in await li.say(DESK, f"解除督办 {number}")  # a reason is required

    assert "已解除督办" in await li.say(DESK, f"解除督办 {number} 已电话协调，本周内修复")
    ticket = await world.ticket(number)
    assert ticket.escalation_level == 0 and not ticket.escalated
    assert await pending(world, number, RED_TIMER) == []
    assert "不在督办中" in await li.say(DESK, f"解除督办 {number} 再来一次")
    listed = await li.say(DESK, "supervised")
    assert number not in listed and quiet in listed
    async with world.services.sessions() as session:
        cleared = (await session.execute(select(EscalationStep).where(EscalationStep.step == "cleared"))).scalar_one()
    assert cleared.reason == "已电话协调，本周内修复" and cleared.actor.startswith("staff:")


@pytest.mark.parametrize(
    ("escalation", "expected"),
    [
        ({"red_after_working_days": 0}, "workflow.escalation.red_after_working_days"),
        ({"urge_interval_hours": -1}, "workflow.escalation.urge_interval_hours"),
        ({"red_after": 2}, "workflow.escalation.red_after"),
    ],
)
def test_the_ladder_config_is_validated(tmp_path: Path, escalation: dict[str, object], expected: str) -> None:
    data: dict[str, Any] = shipped()
    data["workflow"]["escalation"] = escalation
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        load_config(write(tmp_path, data), environ={})
