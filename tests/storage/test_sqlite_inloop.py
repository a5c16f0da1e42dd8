"""The writer's in-loop SQLite connection: fast because it skips aiosqlite's thread, and never
freezing the event loop while another connection holds the write lock."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.database import create_engine
from storage.sqlite_inloop import InLoopConnection


async def _ticks_while(awaitable: object, interval: float = 0.01) -> tuple[int, object]:
    """How many times a 10 ms ticker ran while ``awaitable`` was pending (0: the loop was frozen)."""
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(interval)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        result = await awaitable  # type: ignore[misc]
    finally:
        done.set()
        await task
    return ticks, result


async def test_waiting_for_the_write_lock_keeps_the_loop_running(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    engine = create_engine(url)
    outside = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        outside.execute("BEGIN IMMEDIATE")  # a stuck writer in another connection

        async def write() -> int:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
                return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())

        async def release_soon() -> None:
            await asyncio.sleep(0.3)
            outside.execute("ROLLBACK")

        releaser = asyncio.create_task(release_soon())
        started = time.monotonic()
        ticks, count = await _ticks_while(write())
        await releaser
        assert count == 1
        assert time.monotonic() - started >= 0.3  # it did wait for the lock...
        assert ticks >= 10  # ...while the loop ran the ticker (a blocking busy handler: 0 ticks)
    finally:
        outside.close()
        await engine.dispose()


async def test_a_lock_held_past_the_busy_timeout_is_database_is_locked(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    outside = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.dbapi_connection, InLoopConnection)
            raw.dbapi_connection._timeout = 0.2  # this connection only: the default is 5 s
        outside.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT 1"))
        assert 0.2 <= time.monotonic() - started < 2.0
    finally:
        outside.execute("ROLLBACK")
        outside.close()
        await engine.dispose()


async def test_rows_are_read_at_execute_and_survive_the_next_statement(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (2), (3)"))
            first = await conn.execute(text("SELECT x FROM t ORDER BY x"))
            await conn.execute(text("INSERT INTO t VALUES (4)"))
            assert [r.x for r in first] == [1, 2, 3]
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 4
    finally:
        await engine.dispose()
