"""Engine setup: SQLite runs in WAL mode with a busy timeout; PostgreSQL gets a real pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import (
    PoolSettings,
    create_engine,
    create_reader_engine,
    is_sqlite,
    session_factory,
)
from storage.migrate import upgrade


async def test_sqlite_pragmas_on_every_connection(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'w.db'}"
    engine = create_engine(url)
    readers = create_reader_engine(url, engine)
    try:
        assert is_sqlite(engine)
        # Three connections at once: the pragmas are per connection, so all must have them.
        async with engine.connect() as writer, readers.connect() as a, readers.connect() as b:
            for conn in (writer, a, b):
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
                # Readers let SQLite's busy handler wait; the writer runs on the event loop and must
                # never sleep inside SQLite: it retries "busy" with asyncio.sleep (storage.sqlite_inloop).
                busy_ms = 0 if conn is writer else 5000
                assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == busy_ms
                assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
                # The writer fsyncs every commit (FULL, 2): acknowledged means on disk.
                assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == (2 if conn is writer else 1)
        assert (tmp_path / "nested" / "dir" / "w.db").exists()  # parent directories are created
    finally:
        await readers.dispose()
        await engine.dispose()


async def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}")
    try:
        await upgrade(engine)
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO identities (citizen_id, channel, account, chat_id, reachable, created_at)"
                        " VALUES (424242, 'telegram', 'bot', '1', 1, '2026-11-22 00:00:00.000000')"
                    )
                )
    finally:
        await engine.dispose()


async def test_engine_kind_and_sessions(engine: AsyncEngine, database_url: str) -> None:
    assert is_sqlite(engine) == database_url.startswith("sqlite")
    sessions = session_factory(engine)
    async with sessions() as session:
        assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    assert sessions.kw["expire_on_commit"] is False


async def test_sqlite_writers_queue_in_order_and_readers_do_not_wait(tmp_path: Path) -> None:
    """Writers take turns through one connection (no SQLITE_BUSY, no busy-handler sleeps), in the
    order they asked; a reader runs while a writer holds the lock."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"
    engine = create_engine(url)
    readers = create_reader_engine(url, engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE log (n INTEGER)"))
        sessions = session_factory(engine)
        inside = asyncio.Event()
        release = asyncio.Event()
        order: list[int] = []

        async def holder() -> None:
            async with sessions.begin() as session:
                await session.execute(text("INSERT INTO log VALUES (0)"))
                inside.set()
                await release.wait()
            order.append(0)

        async def writer(n: int) -> None:
            async with sessions.begin() as session:
                await session.execute(text("INSERT INTO log VALUES (:n)"), {"n": n})
            order.append(n)

        first = asyncio.create_task(holder())
        await inside.wait()
        waiting = [asyncio.create_task(writer(n)) for n in (1, 2, 3)]
        await asyncio.sleep(0.05)
        assert order == []  # queued behind the holder, not failed
        async with readers.connect() as conn:  # the reader is not in that queue
            assert (await conn.execute(text("SELECT count(*) FROM log"))).scalar_one() == 0
        release.set()
        await asyncio.wait_for(asyncio.gather(first, *waiting), timeout=5)
        assert order == [0, 1, 2, 3]
        async with readers.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM log"))).scalar_one() == 4
    finally:
        await readers.dispose()
        await engine.dispose()


def test_reader_engine_shares_the_pool_off_sqlite_files() -> None:
    engine = create_engine("sqlite+aiosqlite://")  # in memory: one database per connection
    assert create_reader_engine("sqlite+aiosqlite://", engine).sync_engine.pool is engine.sync_engine.pool


async def test_postgres_pool_is_sized_by_its_settings_and_a_full_pool_times_out(postgres_url: str) -> None:
    """Past size + overflow a request waits ``timeout_seconds`` for a connection, then fails
    (the dispatcher answers "retry later"), instead of opening connections without end."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    engine = create_engine(postgres_url, pool=PoolSettings(size=2, max_overflow=0, timeout_seconds=0.2))
    try:
        assert engine.sync_engine.pool.size() == 2  # type: ignore[attr-defined]
        async with engine.connect() as a, engine.connect() as b:
            for conn in (a, b):
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
            with pytest.raises(PoolTimeout):
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
