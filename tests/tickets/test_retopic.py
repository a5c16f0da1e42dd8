"""改类 (retopic) and 转办 as labels: the staff command on the real app, the ticket re-routed
through an ordinary transfer, the audit entry, and the label ``wenzheng model train`` reads."""

from __future__ import annotations

from sqlalchemy import select

from bot.cli.model import ANSWERED
from storage import corrections
from storage.models import AuditEntry, Ticket, TopicCorrection
from tests.tickets.test_workflow import DESK, World, file, texts, world

__all__ = ["world"]  # the fixture, shared with test_workflow


async def _corrections(world: World) -> list[TopicCorrection]:
    async with world.services.sessions() as session:
        return list((await session.execute(select(TopicCorrection).order_by(TopicCorrection.id))).scalars())


async def test_retopic_changes_the_topic_reroutes_audits_and_keeps_a_label(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    wang = await world.staff("王五")
    number = await file(world, citizen)
    assert (await world.ticket(number)).topic_code == "urban"
    assert "不属于您的部门" in await wang.say(DESK, f"改类 {number} transport")
    assert "没有主题天气" in await zhang.say(DESK, f"改类 {number} 天气")
    assert "已是城市管理" in await zhang.say(DESK, f"改类 {number} urban")
    assert "指令格式不对" in await zhang.say(DESK, f"改类 {number}")
    assert await _corrections(world) == []

    done = await zhang.say(DESK, f"改类 {number} 交通运输 公交站台的灯归公交公司管")
    assert "改类" in done
    ticket = await world.ticket(number)
    assert (ticket.topic_code, ticket.department_code, ticket.status) == ("transport", "transport", "accepted")
    assert "已转至【交通运输局】办理" in texts(await world.inbox(citizen))
    assert f"【新问政】{number}" in texts(await world.inbox(wang))
    async with world.services.sessions() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action).where(AuditEntry.ticket_id == ticket.id, AuditEntry.allowed.is_(True))
            )
        ).scalars()
        assert {"retopic", "transfer"} <= set(actions)
    (label,) = await _corrections(world)
    assert (label.old_topic, label.new_topic, label.source) == ("urban", "transport", "retopic")
    assert label.text == ticket.details and label.type_code == ticket.type_code
    async with world.services.sessions() as session:
        (learned,) = await corrections.labels(session, ANSWERED)
    assert (learned.topic, learned.source) == ("transport", "retopic")


async def test_retopic_within_the_same_department_does_not_transfer(world: World) -> None:
    citizen = await world.citizen()
    zhao = await world.staff("赵六")  # admin: acts on any department
    number = await file(world, citizen)
    await zhao.say(DESK, f"转办 {number} city_service 先由市民中心看看")
    await zhao.say(DESK, f"改类 {number} 政务")  # part of 政务服务, naming no other topic
    ticket = await world.ticket(number)
    assert (ticket.topic_code, ticket.department_code) == ("government_services", "city_service")
    async with world.services.sessions() as session:
        transfers = (
            await session.execute(
                select(AuditEntry.id).where(AuditEntry.ticket_id == ticket.id, AuditEntry.action == "transfer")
            )
        ).all()
    assert len(transfers) == 1  # the one by hand, none for the retopic


async def test_a_transfer_to_a_single_topic_department_is_kept_as_a_label(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    number = await file(world, citizen)
    await zhang.say(DESK, f"转办 {number} environment 其实是夜间施工噪音")
    ticket = await world.ticket(number)
    assert ticket.department_code == "environment" and ticket.topic_code == "urban"
    (label,) = await _corrections(world)
    assert (label.old_topic, label.new_topic, label.source) == ("urban", "environment", "transfer")
    # A department owning several topics says nothing certain about the topic: no label.
    other = await file(world, citizen)
    await zhang.say(DESK, f"转办 {other} hrss 涉及社保")
    assert len(await _corrections(world)) == 1
    async with world.services.sessions() as session:
        assert (await session.get(Ticket, ticket.id)) is not None
