"""Engine and session factory for SQLite (embedded) and PostgreSQL (shared by many workers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_inloop import InLoopConnection, InLoopDBAPI


class StorageUnavailable(Exception):
    """The database cannot be reached or refused the write: the caller answers "retry later"."""


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver would open transactions only right before a write, so reads before it and
    # SAVEPOINTs would escape the transaction; we take over and BEGIN ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets the page's event stream read while the dispatcher writes; the busy timeout turns a
    # momentary lock into a short wait instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    if not isinstance(dbapi_connection, InLoopConnection):  # the in-loop writer waits on the loop instead
        cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # The writer commits with FULL: a COMMIT is on disk (fsync) before the platform hears "stored",
    # so an acknowledged message survives a power cut, not only a killed process. Group commit
    # (storage.group_commit) pays that fsync once per batch: 0.19 ms here against 0.014 ms.
    writer = isinstance(dbapi_connection, InLoopConnection)
    cursor.execute("PRAGMA synchronous=FULL" if writer else "PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "wenzheng_read_only"


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: a transaction that reads and then writes can then
    # never fail with SQLITE_BUSY_SNAPSHOT when another writer committed in between; it waits
    # (busy timeout) instead. Readers (event streams, health checks) say so and begin deferred,
    # so WAL lets them run beside a writer.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# SQLite has one writer at a time. With a pool of one, the others queue in asyncio, in order, and
# each gets the lock the moment it is free; with a bigger pool they poll SQLite's busy handler,
# which sleeps in growing steps and let p99 at 70% load reach 1 s (BENCHMARKS.md: 0.1 s this way).
SQLITE_WRITERS = 1
SQLITE_WRITER_QUEUE_SECONDS = 10.0  # past this a request gets "retry later" (StorageUnavailable)
SQLITE_READERS = 4


def _is_sqlite_file(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """A server database's connection pool (ignored for SQLite)."""

    size: int = 10
    max_overflow: int = 10
    timeout_seconds: float = 5.0


def create_engine(database_url: str, *, echo: bool = False, pool: PoolSettings | None = None) -> AsyncEngine:
    """The engine every transaction that may write goes through (on SQLite: one at a time)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not _is_sqlite_file(url):
            return _sqlite_engine(url, echo=echo)
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(
            url, echo=echo, pool_size=SQLITE_WRITERS, max_overflow=0, pool_timeout=SQLITE_WRITER_QUEUE_SECONDS
        )
    pool = pool or PoolSettings()
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_pre_ping=True,
        pool_timeout=pool.timeout_seconds,
    )


def _sqlite_engine(url: URL, *, in_loop: bool = True, **kwargs: Any) -> AsyncEngine:
    """``in_loop``: the writer calls sqlite3 on the event loop's thread (storage.sqlite_inloop);
    readers keep aiosqlite's thread, so a long read never holds up the loop."""
    if in_loop:
        kwargs["module"] = InLoopDBAPI()
    engine = create_async_engine(url, connect_args={"timeout": 5}, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for work that only reads (no write lock on SQLite)."""
    return engine.execution_options(**{READ_ONLY: True})


def create_reader_engine(database_url: str, writer: AsyncEngine) -> AsyncEngine:
    """An engine for work that only reads (event streams, token checks, health checks).

    On a SQLite file it has its own pool, so readers never wait in the writers' queue of one (WAL
    lets them read beside the writer); dispose it as well as the writer. Elsewhere it is the
    writer's engine and pool, marked read-only."""
    url = make_url(database_url)
    if not _is_sqlite_file(url):
        return read_only(writer)
    return _sqlite_engine(
        url,
        in_loop=False,
        pool_size=SQLITE_READERS,
        max_overflow=SQLITE_READERS * 2,
        pool_timeout=5,
        execution_options={READ_ONLY: True},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
