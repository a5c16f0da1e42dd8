"""What the operator commands (``wenzheng staff``, ``wenzheng report``) share: how they reach the
database and how they fail.

They run against the database the service uses, beside it: an embedded SQLite is upgraded in place
like ``serve`` does, a shared server only by the operator (``wenzheng db upgrade``), because the
workers must not race to migrate it. Every failure an operator can cause is one line on stderr and
exit code 2; a database that cannot be reached is exit code 1. Scripts rely on both.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import AppConfig
from storage.database import create_engine, is_sqlite, session_factory
from storage.migrate import pending, upgrade


class OperatorError(Exception):
    """An operator mistake: reported as one line, exit code 2."""


async def on_database(config: AppConfig, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]]) -> int:
    """Run ``work`` with sessions on the service's database; the command's exit code."""
    engine = create_engine(config.storage.database_url)
    try:
        if is_sqlite(engine):
            await upgrade(engine, timezone=config.server.timezone)
        elif await pending(engine):
            print("wenzheng: run `wenzheng db upgrade` first", file=sys.stderr)
            return 2
        await work(session_factory(engine))
        return 0
    except OperatorError as exc:
        print(f"wenzheng: {exc}", file=sys.stderr)
        return 2
    except (OSError, SQLAlchemyError) as exc:
        print(f"wenzheng: database error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


def _width(text: str) -> int:
    """Columns on a terminal: CJK names take two each, or the table would not line up."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip() for row in rows]
