"""分派: assign a ticket to a colleague, one action for the chat command and the console (which
sends the same ``StaffCommand`` through ``StaffDesk.perform``), with its rules and audit."""

from __future__ import annotations

from sqlalchemy import select

from dialogs.staff_commands import Malformed, StaffCommand, Verb, parse_staff_command
from storage.models import AuditEntry, Staff
from tests.dialogs.test_staff_commands import typed
from tests.tickets.test_workflow import CHAT, DESK, World, file, texts, world

__all__ = ["world"]


def test_the_command_parses_with_a_name_or_an_id() -> None:
    assert parse_staff_command(typed("分派 WZ20261122-0007 张三")) == StaffCommand(
        Verb.ASSIGN, "WZ20261122-0007", "张三", ""
    )
    assert parse_staff_command(typed("assign WZ20261122-0007 12")) == StaffCommand(
        Verb.ASSIGN, "WZ20261122-0007", "12", ""
    )
    found = parse_staff_command(typed("分派 WZ20261122-0007"))
    assert isinstance(found, Malformed) and "同事姓名" in found.usage


async def test_a_supervisor_assigns_the_colleague_hears_and_the_citizen_once(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    li = await world.staff("李四")
    wang = await world.staff("王五")
    number = await file(world, citizen)
    await world.inbox(zhang)

    assert "不是" in await li.say(DESK, f"分派 {number} 王五")  # another department's
    assert "不是" in await li.say(DESK, f"分派 {number} 无名氏")
    assert "已分派" not in texts(await world.inbox(wang))

    assert await li.say(DESK, f"分派 {number} 张三") == f"已分派：{number}（当前状态：已接单）"
    ticket = await world.ticket(number)
    async with world.services.sessions() as session:
        zhang_id = (await session.execute(select(Staff.id).where(Staff.name == "张三"))).scalar_one()
        audited = (
            await session.execute(
                select(AuditEntry.detail).where(
                    AuditEntry.ticket_id == ticket.id, AuditEntry.action == "assign", AuditEntry.allowed.is_(True)
                )
            )
        ).scalar_one()
    assert (ticket.status, ticket.assignee_staff_id, ticket.claimed_at) == ("assigned", zhang_id, world.clock())
    assert audited["staff"] == "张三" and audited["by"] == "李四"
    (card,) = [m["text"] for m in await world.inbox(zhang) if "【分派】" in m["text"]]
    assert card.startswith(f"【分派】{number} 由李四分派给您办理") and "【新问政】" not in card
    assert texts(await world.inbox(citizen)).count("工作人员已接单") == 1

    # A handler cannot take a colleague's ticket away; the supervisor can move it again.
    await li.say(DESK, f"分派 {number} 李四")
    refused = await zhang.say(DESK, f"分派 {number} 张三")
    assert "由李四办理" in refused
    assert texts(await world.inbox(citizen)).count("工作人员已接单") == 1  # no second "taken up" push
    assert (await world.ticket(number)).claimed_at == ticket.claimed_at  # the first take-up counts
    await citizen.say(CHAT, "谢谢")  # the citizen's chat is untouched by all this
