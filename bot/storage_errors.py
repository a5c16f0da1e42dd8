"""Telling a storage outage from a message the database refuses.

Both surface as exceptions from the same ``session.execute``, but they call for opposite answers.
An outage (connection refused, a timeout, the pool exhausted, Redis gone) is answered 503 so the
platform retries: the same message will be stored once the database is back. A *poison* message
(a value the database rejects: text it cannot encode, a NUL PostgreSQL refuses, a number or a
string out of its column's range, a constraint it breaks) fails the same way on every retry, so a
503 would make the platform resend it forever and count it as an outage. It is answered once,
politely, logged and counted instead.
"""

from __future__ import annotations

from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

# What the inbound path treats as "storage is down" unless ``is_poison`` says otherwise.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, RedisError, TimeoutError)
# SQLSTATE classes of errors caused by the data itself: 22 data exception (bad encoding, NUL,
# value too long, numeric out of range), 23 integrity constraint violation.
_DATA_CLASSES = ("22", "23")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (SQLAlchemy's ``orig``, ``raise … from``), once each. Not
    ``__context__``: an outage raised while some unrelated ValueError was being handled is still
    an outage."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 16:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.append(current.__cause__)
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            todo.append(orig)
    return seen


def is_poison(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by the message's data rather than by the database being away.
    Anything that looks like a lost connection or a timeout anywhere in the chain is an outage."""
    chain = _chain(exc)
    if any(isinstance(error, OSError | RedisError) for error in chain):  # TimeoutError is an OSError
        return False
    for error in chain:
        if isinstance(error, DataError | IntegrityError):
            return True
        # A value the driver could not even send: sqlite3 and asyncpg raise UnicodeEncodeError,
        # OverflowError or their own ValueError subclasses (asyncpg's DataError) before the query runs.
        if isinstance(error, ValueError | OverflowError):
            return True
        if isinstance(error, StatementError) and not isinstance(error, DBAPIError):
            return True  # SQLAlchemy failed to bind a parameter: nothing reached the server
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str) and state.startswith(_DATA_CLASSES):
            return True
    return False
