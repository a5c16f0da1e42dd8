"""The Alembic migration: it builds the schema the models describe, and knows when it is behind."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.migrate import alembic_config, pending, upgrade
from storage.models import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

EXPECTED_TABLES = {
    "citizens",
    "identities",
    "inbound_messages",
    "tickets",
    "ticket_events",
    "ticket_sequences",
    "outbox",
    "webchat_mailbox",
    "departments",
    "staff",
    "staff_identities",
    "staff_tokens",
    "audit_log",
    "timers",
    "ratings",
    "sent_messages",
}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_model_declares_the_expected_tables() -> None:
    assert set(Base.metadata.tables) == EXPECTED_TABLES


async def test_upgrade_creates_every_table_and_clears_pending(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await _tables(engine) == set()
        assert await pending(engine) is True

        await upgrade(engine)

        assert await _tables(engine) == EXPECTED_TABLES | {"alembic_version"}
        assert await pending(engine) is False
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert version == HEAD
    finally:
        await engine.dispose()


async def test_upgrade_twice_is_a_noop(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO ticket_sequences (day, last) VALUES (:day, :last)"), {"day": "20261122", "last": 7}
        )

    await upgrade(engine)

    assert await pending(engine) is False
    assert await _tables(engine) == EXPECTED_TABLES | {"alembic_version"}
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT day, last FROM ticket_sequences"))).all()
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert [tuple(r) for r in rows] == [("20261122", 7)]
    assert versions == [HEAD]


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    """A model change without a migration shows up here (what ``autogenerate`` would write)."""

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_expected_unique_constraints_exist(engine: AsyncEngine) -> None:
    def uniques(connection: Connection) -> dict[str, set[tuple[str, ...]]]:
        insp = inspect(connection)
        found: dict[str, set[tuple[str, ...]]] = {}
        for table in EXPECTED_TABLES:
            cols = {tuple(str(c) for c in u["column_names"]) for u in insp.get_unique_constraints(table)}
            cols |= {tuple(str(c) for c in i["column_names"]) for i in insp.get_indexes(table) if i["unique"]}
            found[table] = cols
        return found

    async with engine.connect() as conn:
        found = await conn.run_sync(uniques)
    assert ("channel", "account", "chat_id") in found["identities"]
    assert ("channel", "message_key") in found["inbound_messages"]
    assert ("intake_key",) in found["tickets"]
    assert ("number",) in found["tickets"]
    assert ("outbox_id",) in found["webchat_mailbox"]
