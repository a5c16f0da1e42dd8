"""``INSERT … ON CONFLICT`` for both backends: the database, not a read-then-write race, decides
who was first (a redelivered message, a double tap, two workers)."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def table_of(model: type[DeclarativeBase]) -> Table:
    return cast(Table, model.__table__)


def _insert(dialect: str, table: Table) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


# The statements below are built once per shape (``cache``): a statement object is reused with new
# parameters, so neither its construction nor its cache key is paid again per message.


@cache
def _insert_ignoring(dialect: str, table: Table, conflict: tuple[str, ...], returning: str) -> Any:
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c[returning])


async def insert_ignore(session: AsyncSession, table: Table, values: dict[str, Any], conflict: list[str]) -> int | None:
    """Insert unless the unique key exists; the new id, or None when the row was already there.
    Core on the session's connection: this is on every message's path (the ORM layer cost 4x)."""
    conn = await session.connection()
    stmt = _insert_ignoring(conn.dialect.name, table, tuple(conflict), "id")
    row = (await conn.execute(stmt, values)).first()
    return None if row is None else int(row[0])


async def insert_ignore_key(session: AsyncSession, table: Table, values: dict[str, Any], conflict: list[str]) -> bool:
    """``insert_ignore`` for a table keyed by its own columns (no ``id``): True when inserted."""
    conn = await session.connection()
    stmt = _insert_ignoring(conn.dialect.name, table, tuple(conflict), conflict[0])
    return (await conn.execute(stmt, values)).first() is not None


@cache
def _incrementing(dialect: str, table: Table, key_col: str, col: str) -> Any:
    stmt = _insert(dialect, table).on_conflict_do_update(index_elements=[key_col], set_={col: table.c[col] + 1})
    return stmt.returning(table.c[col])


async def increment_counter(session: AsyncSession, table: Table, key_col: str, key: str, col: str) -> int:
    """Atomically bump a per-key counter and return the new value (creating it at 1)."""
    conn = await session.connection()
    stmt = _incrementing(conn.dialect.name, table, key_col, col)
    return int((await conn.execute(stmt, {key_col: key, col: 1})).scalar_one())


@cache
def _adding(dialect: str, table: Table, key: tuple[str, ...], counters: tuple[str, ...]) -> Any:
    """Building ``ON CONFLICT … DO UPDATE`` with its ``excluded`` columns anew for every change was
    the biggest single cost of filing a ticket (BENCHMARKS.md, #14)."""
    base = _insert(dialect, table)
    return base.on_conflict_do_update(
        index_elements=list(key), set_={col: table.c[col] + base.excluded[col] for col in counters}
    )


async def add_to_counters(session: AsyncSession, table: Table, key: dict[str, Any], deltas: dict[str, int]) -> None:
    """Add ``deltas`` to the counters of the row at ``key``, creating it with ``deltas`` as its
    values. One statement, so two transactions adding to the same row never lose an update."""
    conn = await session.connection()
    stmt = _adding(conn.dialect.name, table, tuple(key), tuple(deltas))
    await conn.execute(stmt, {**key, **deltas})
