"""Engine setup: SQLite runs in WAL mode with a busy timeout; PostgreSQL gets a real pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, is_sqlite, read_only, session_factory
from storage.migrate import upgrade


async def test_sqlite_pragmas_on_every_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'w.db'}")
    try:
        assert is_sqlite(engine)
        # Two connections at once: the pragmas are per connection, so both must have them.
        readers = read_only(engine)  # two writers at once would (rightly) wait for each other
        async with readers.connect() as a, readers.connect() as b:
            for conn in (a, b):
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
                assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
                assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
                assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 1  # NORMAL
        assert (tmp_path / "nested" / "dir" / "w.db").exists()  # parent directories are created
    finally:
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
