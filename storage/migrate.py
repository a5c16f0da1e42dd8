"""Schema migrations (Alembic), callable from the CLI and from ``serve`` on an embedded SQLite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import ONLY_ON
from storage.stats import DEFAULT_TIMEZONE

MIGRATIONS = Path(__file__).with_name("migrations")


def include_object_on(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """For Alembic's comparisons: a model object meant for other databases only (``ONLY_ON``)
    is not expected on this one."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        only = getattr(obj, "info", {}).get(ONLY_ON) if not reflected else None
        return only is None or dialect in only

    return include


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head", *, timezone: str = DEFAULT_TIMEZONE) -> None:
    """``timezone``: the service's (``server.timezone``); revisions that back-fill per-day figures
    (0006, the department statistics) count days in it, as the running service does."""
    ZoneInfo(timezone)  # an unknown zone fails here, before anything is changed

    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        cfg.attributes["timezone"] = timezone
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def pending(engine: AsyncEngine) -> bool:
    """True when the database is behind the code; ``serve`` refuses to start on a stale server DB."""

    def check(connection: Connection) -> bool:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        return current != head

    async with engine.connect() as conn:
        return await conn.run_sync(check)


async def autogenerate(engine: AsyncEngine, message: str) -> None:
    """For developers: write a new revision from the difference between models and database."""

    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)

    async with engine.begin() as conn:
        await conn.run_sync(run)
