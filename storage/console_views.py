"""Saved desk views: plain functions over the caller's session (see ``storage.models.ConsoleView``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConsoleView

MAX_VIEWS = 30  # per person: a list to pick from, not a store


async def views_of(session: AsyncSession, staff_id: int) -> list[ConsoleView]:
    stmt = select(ConsoleView).where(ConsoleView.staff_id == staff_id).order_by(ConsoleView.name).limit(MAX_VIEWS)
    return list((await session.execute(stmt)).scalars())


async def save_view(session: AsyncSession, staff_id: int, name: str, query: str, now: datetime) -> bool:
    """Saves (or replaces, by name) a view; False when the person already has ``MAX_VIEWS`` others."""
    await session.execute(delete(ConsoleView).where(ConsoleView.staff_id == staff_id, ConsoleView.name == name))
    if len(await views_of(session, staff_id)) >= MAX_VIEWS:
        return False
    session.add(ConsoleView(staff_id=staff_id, name=name, query=query, created_at=now))
    await session.flush()
    return True


async def delete_view(session: AsyncSession, staff_id: int, view_id: int) -> None:
    """Only the owner's view goes: another person's id deletes nothing."""
    await session.execute(delete(ConsoleView).where(ConsoleView.id == view_id, ConsoleView.staff_id == staff_id))
