"""Issue #15's "Also seen", on the real app: rework and 督办 cards are not headed as new inquiries;
``重复`` links only into an open ticket and never tells a citizen a number they cannot look up; a
department without staff is warned about at start and shown in /metrics with its open and overdue
tickets."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot import console_ops
from storage.models import AuditEntry
from tests.tickets.test_workflow import CHAT, DESK, World, file, texts, world

__all__ = ["world"]


def _with(messages: list[dict[str, Any]], marker: str) -> list[str]:
    return [m["text"] for m in messages if marker in m["text"]]


async def test_rework_and_escalation_cards_are_not_new_inquiries(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    li = await world.staff("李四")
    number = await file(world, citizen)
    await zhang.say(DESK, f"回复 {number} 已安排维修")
    await world.inbox(citizen)
    await citizen.tap(CHAT, f"rate:{number}:3")
    await citizen.say(CHAT, "根本没有修")
    (rework,) = _with(await world.inbox(zhang), "【退回重办】")
    assert rework.startswith(f"【退回重办】{number}") and "【新问政】" not in rework and "答复期限" in rework
    await zhang.say(DESK, f"回复 {number} 已重新维修")
    await world.inbox(citizen)
    await citizen.tap(CHAT, f"rate:{number}:3")
    await citizen.tap(CHAT, "skip")
    (escalated,) = _with(await world.inbox(li), "【督办】")
    assert "【新问政】" not in escalated and "内容：" in escalated
    # A new ticket's card keeps its heading.
    assert _with(await world.inbox(zhang), "【新问政】")[0].startswith(f"【新问政】{number}")


async def test_duplicate_only_into_an_open_ticket(world: World) -> None:
    alice = await world.citizen()
    bob = await world.citizen()
    zhang = await world.staff("张三")
    closed = await file(world, alice)
    await zhang.say(DESK, f"回复 {closed} 已修复")
    await alice.tap(CHAT, f"rate:{closed}:1")
    answered = await file(world, alice)
    await zhang.say(DESK, f"回复 {answered} 已修复")
    number = await file(world, alice)
    for original in (closed, answered):
        refused = await zhang.say(DESK, f"重复 {number} {original}")
        assert "已不在办理中" in refused and original in refused
    assert (await world.ticket(number)).status == "accepted"
    async with world.services.sessions() as session:
        ticket_id = (await world.ticket(number)).id
        whys = (
            await session.execute(
                select(AuditEntry.detail).where(AuditEntry.ticket_id == ticket_id, AuditEntry.allowed.is_(False))
            )
        ).scalars()
        assert [d["why"] for d in whys] == ["staff_duplicate_not_open"] * 2

    theirs = await file(world, bob)  # open, but bob's: alice follows it from now on (tickets.linking)
    await world.inbox(alice)
    assert "已标记重复" in await zhang.say(DESK, f"重复 {number} {theirs}")
    told = texts(await world.inbox(alice))
    assert "已有其他市民反映" in told and f"{theirs}的办理进展和答复会推送给您" in told
    assert (await world.ticket(number)).duplicate_of == theirs
    await zhang.say(DESK, f"接单 {theirs}")
    assert f"【您关注的问政{theirs}】" in texts(await world.inbox(alice))

    own = await file(world, alice)
    again = await file(world, alice)
    await zhang.say(DESK, f"重复 {again} {own}")
    assert f"请关注{own}的进展" in texts(await world.inbox(alice))


async def test_unstaffed_departments_are_warned_about_and_gauged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # The app started in the fixture; start-up's warning is logged again by the check itself.
    with caplog.at_level(logging.WARNING, logger="bot.console_ops"):
        missing = await console_ops.check_staffing(world.services)
    assert "environment" in missing and "urban" not in missing and "transport" not in missing
    assert "city_service" not in missing  # its one member is the admin 赵六: someone is there
    assert any("environment" in r.getMessage() for r in caplog.records)

    citizen = await world.citizen()
    await file(world, citizen)
    world.clock.advance(hours=9)  # past the respond deadline, nobody claimed it
    await file(world, citizen)
    await console_ops.refresh_department_gauges(world.services)
    client = await world.factory(world.server)
    body = await (await client.get("/metrics")).text()
    assert 'wenzheng_department_open_tickets{department="urban"} 2.0' in body
    assert 'wenzheng_department_overdue_tickets{department="urban"} 1.0' in body
    assert 'wenzheng_department_unstaffed{department="environment"} 1.0' in body
    assert 'wenzheng_department_unstaffed{department="urban"} 0.0' in body
