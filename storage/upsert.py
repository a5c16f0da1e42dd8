"""``INSERT … ON CONFLICT`` for both backends: the database, not a read-then-write race, decides
who was first (a redelivered message, a double tap, two workers)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def table_of(model: type[DeclarativeBase]) -> Table:
    return cast(Table, model.__table__)


def _insert(session: AsyncSession, table: Table) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


async def insert_ignore(session: AsyncSession, table: Table, values: dict[str, Any], conflict: list[str]) -> int | None:
    """Insert unless the unique key exists; the new id, or None when the row was already there."""
    stmt = _insert(session, table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(stmt.returning(table.c.id))
    row = result.first()
    return None if row is None else int(row[0])


async def insert_ignore_key(session: AsyncSession, table: Table, values: dict[str, Any], conflict: list[str]) -> bool:
    """``insert_ignore`` for a table keyed by its own columns (no ``id``): True when inserted."""
    stmt = _insert(session, table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(stmt.returning(table.c[conflict[0]]))
    return result.first() is not None


async def increment_counter(session: AsyncSession, table: Table, key_col: str, key: str, col: str) -> int:
    """Atomically bump a per-key counter and return the new value (creating it at 1)."""
    stmt = _insert(session, table).values({key_col: key, col: 1})
    stmt = stmt.on_conflict_do_update(index_elements=[key_col], set_={col: table.c[col] + 1})
    result = await session.execute(stmt.returning(table.c[col]))
    return int(result.scalar_one())


async def add_to_counters(session: AsyncSession, table: Table, key: dict[str, Any], deltas: dict[str, int]) -> None:
    """Add ``deltas`` to the counters of the row at ``key``, creating it with ``deltas`` as its
    values. One statement, so two transactions adding to the same row never lose an update."""
    stmt = _insert(session, table).values({**key, **deltas})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={col: table.c[col] + stmt.excluded[col] for col in deltas}
    )
    await session.execute(stmt)
