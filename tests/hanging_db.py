"""A database that really hangs, for the tests of what is acknowledged and when.

Another session takes the lock the service needs, as a stuck writer, a migration or a paused server
would: on SQLite the write lock (``BEGIN IMMEDIATE`` from another connection: the service's own
``BEGIN IMMEDIATE`` then waits in SQLite's busy handler), on PostgreSQL an ``ACCESS EXCLUSIVE`` lock
on a table (every statement touching it waits). Nothing in the service is patched.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine


class Hold:
    """One outside session holding a lock; ``take`` and ``release`` may be called more than once."""

    def __init__(self, database_url: str, table: str) -> None:
        self._url = make_url(database_url)
        self._table = table
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None

    @property
    def is_sqlite(self) -> bool:
        return self._url.get_backend_name() == "sqlite"

    def take_sqlite_now(self) -> None:
        """Synchronously (from an engine event): the write lock, which must be free right now."""
        self._sqlite = sqlite3.connect(str(self._url.database), isolation_level=None, check_same_thread=False)
        self._sqlite.execute("BEGIN IMMEDIATE")

    async def take(self) -> None:
        if self.is_sqlite:
            await asyncio.to_thread(self.take_sqlite_now)
            return
        url = self._url
        self._pg = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
        )
        await self._pg.execute("BEGIN")
        await self._pg.execute(f"LOCK TABLE {self._table} IN ACCESS EXCLUSIVE MODE")

    async def release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.execute("ROLLBACK")
            await self._pg.close()
            self._pg = None


@asynccontextmanager
async def database_hangs(database_url: str, table: str = "inbound_messages") -> AsyncIterator[Hold]:
    """The database hangs for whatever stores a message, until ``release`` (or the block ends)."""
    hold = Hold(database_url, table)
    await hold.take()
    try:
        yield hold
    finally:
        await hold.release()


@asynccontextmanager
async def hangs_after_the_message_is_stored(db: AsyncEngine, database_url: str) -> AsyncIterator[Hold]:
    """The message's transaction commits, then the database hangs for the dialog's transaction.

    SQLite: the write lock is taken the moment the service returns its connection after the first
    commit (the pool's ``checkin``). PostgreSQL: ``tickets`` is locked up front; the first
    transaction never touches it, the dialog answering "我的" reads it."""
    hold = Hold(database_url, "tickets")
    taken = False

    def after_first_commit(*_: Any) -> None:
        nonlocal taken
        if not taken:
            taken = True
            hold.take_sqlite_now()

    if hold.is_sqlite:
        event.listen(db.sync_engine, "checkin", after_first_commit)
    else:
        await hold.take()
    try:
        yield hold
    finally:
        if hold.is_sqlite:
            event.remove(db.sync_engine, "checkin", after_first_commit)
        await hold.release()
