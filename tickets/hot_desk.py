"""Staff commands for hot topics: 热点 (the latest stored result), 订阅热点 / 退订热点 (the daily
digest). Supervisors and admins only: a digest names every district's problems."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Outbound
from dialogs.staff_commands import Verb
from dialogs.texts import text
from storage.models import Staff
from tickets import hot_run, staff_actions

if TYPE_CHECKING:
    from tickets.context import Workflow

VERBS = frozenset({Verb.HOT, Verb.SUBSCRIBE_HOT, Verb.UNSUBSCRIBE_HOT})


async def handle(
    flow: Workflow, session: AsyncSession, staff: Staff, verb: Verb, now: datetime, *, locale: str | None = None
) -> Outbound:
    """``locale``: the console's chosen language, else the person's own (as ``StaffDesk.perform``)."""
    loc = locale or staff.locale
    if not staff_actions.supervises(staff):
        await staff_actions.refuse(flow, session, staff, verb.value, None, "supervisors only", now)
        return Outbound(text("staff_forbidden_list", loc))
    await staff_actions.listed(flow, session, staff, verb.value, now)
    repo = flow.hot_topics
    if verb is Verb.SUBSCRIBE_HOT:
        done = await repo.subscribe(session, staff.id, now)
        return Outbound(text("hot_subscribed" if done else "hot_already_subscribed", loc))
    if verb is Verb.UNSUBSCRIBE_HOT:
        done = await repo.unsubscribe(session, staff.id)
        return Outbound(text("hot_unsubscribed" if done else "hot_not_subscribed", loc))
    day, stored = await repo.latest(session)
    if day is None:
        return Outbound(text("hot_latest_none", loc))
    return Outbound(hot_run.digest(stored, day, loc, flow.hot_rules))
