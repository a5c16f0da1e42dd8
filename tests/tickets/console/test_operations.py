"""Operators' view of pushes that did not reach the citizen: dead and held, supervisors and admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from storage.models import OutboxMessage, Staff
from tests.tickets.test_workflow import CHAT, DESK, World, file, world
from tickets.console.operations import undelivered
from tickets.context import Refused

__all__ = ["world"]


async def test_dead_and_held_pushes_for_supervisors_of_the_department(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    number = await file(world, citizen)
    await zhang.say(DESK, f"接单 {number}")
    await citizen.say(CHAT, "谢谢")
    async with world.services.sessions.begin() as session:
        pushed = (
            (await session.execute(select(OutboxMessage.id).where(OutboxMessage.channel == "webchat")))
            .scalars()
            .first()
        )
        assert pushed is not None
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == pushed).values(status="dead", last_error="HTTP 500")
        )
    async with world.services.sessions() as session:

        async def staff(name: str) -> Staff:
            return (await session.execute(select(Staff).where(Staff.name == name))).scalar_one()

        flow = world.services.workflow
        (row,) = await undelivered(flow, session, viewer=await staff("李四"))
        assert (row.number, row.channel, row.status, row.last_error) == (number, "webchat", "dead", "HTTP 500")
        assert [r.number for r in await undelivered(flow, session, viewer=await staff("赵六"))] == [number]
        with pytest.raises(Refused):
            await undelivered(flow, session, viewer=await staff("张三"))
