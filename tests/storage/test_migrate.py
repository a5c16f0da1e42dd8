"""The Alembic migration: it builds the schema the models describe, and knows when it is behind."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, session_factory
from storage.migrate import alembic_config, include_object_on, pending, upgrade
from storage.models import Base
from tests.storage.test_stats import assert_rollups_match, boundary_moments, bulk_load, ticket_truth

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

EXPECTED_TABLES = {
    "citizens",
    "identities",
    "inbound_messages",
    "seen_request_nonces",
    "tickets",
    "ticket_events",
    "ticket_sequences",
    "outbox",
    "webchat_mailbox",
    "departments",
    "staff",
    "staff_identities",
    "staff_tokens",
    "staff_sessions",
    "outbox_workers",
    "audit_log",
    "timers",
    "ratings",
    "sent_messages",
    "department_daily_stats",
    "department_daily_ratings",
    "topic_corrections",
    "escalation_steps",
    "hot_topics",
    "hot_topic_runs",
    "hot_topic_subscriptions",
    "ticket_followers",
    "ticket_links",
    "repeat_requests",
    "api_keys",
    "console_views",
    "scorecard_snapshots",
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
        opts = {"compare_type": True, "include_object": include_object_on(connection.dialect.name)}
        context = MigrationContext.configure(connection, opts=opts)
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


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin"])
async def test_0006_back_fills_department_statistics_from_existing_tickets(database_url: str, zone: str) -> None:
    """An existing database (at 0005, tickets and ratings around local midnights, month ends and
    clock changes) gets roll-ups equal to a GROUP BY by local day in the service's time zone."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0005")
        sessions = session_factory(engine)
        await bulk_load(sessions, boundary_moments())

        await upgrade(engine, timezone=zone)

        await assert_rollups_match(sessions, ZoneInfo(zone))
        async with sessions() as session:
            assert sum((await ticket_truth(session)).values()) == len(boundary_moments())
    finally:
        await engine.dispose()


async def test_0006_on_an_empty_database_and_unknown_time_zone(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(ZoneInfoNotFoundError):
            await upgrade(engine, timezone="Mars/Olympus_Mons")
        assert await _tables(engine) == set()
        await upgrade(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM department_daily_stats"))).scalar_one() == 0
    finally:
        await engine.dispose()


async def test_sqlite_has_no_open_queue_index_and_its_queue_uses_the_status_index(engine: AsyncEngine) -> None:
    """0007: on SQLite the PostgreSQL-only index made the staff queue read every closed ticket."""

    def read(connection: Connection) -> tuple[set[str], str]:
        names = {i["name"] for i in inspect(connection).get_indexes("tickets")}
        plan = ""
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE status IN ('accepted', 'submitted')"
                " AND department_code = 'urban' ORDER BY answer_due_at, id LIMIT 20"
            ).all()
            plan = " ".join(str(r[-1]) for r in rows)
        return {str(n) for n in names}, plan

    async with engine.connect() as conn:
        names, plan = await conn.run_sync(read)
    if engine.dialect.name == "sqlite":
        assert "ix_tickets_open_queue" not in names
        assert "ix_tickets_department_due" in plan
    else:
        assert "ix_tickets_open_queue" in names
