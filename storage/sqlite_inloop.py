"""SQLite for the writer, called on the event loop's own thread instead of aiosqlite's.

Why: aiosqlite runs every call (execute, fetchall, commit) on a helper thread and wakes the event
loop to hand back the result: two thread switches and a loop iteration per call, about 30 calls per
message. On a busy loop each of them also waits behind every other ready callback. A statement on
the embedded database takes microseconds and does no network I/O, so the writer connection calls
``sqlite3`` directly from SQLAlchemy's greenlet: no thread, no loop round trip (BENCHMARKS.md, #14).

Two things could block the loop. The commit waits for the disk (the writer fsyncs: acknowledged
means on disk), so it alone runs on a helper thread: one hop per transaction, which group commit
makes one per batch. And waiting for the write lock: SQLite's own busy handler
would sleep inside the call, freezing every other request; so the connection is opened with a busy
timeout of 0 and a ``SQLITE_BUSY`` is retried here with ``asyncio.sleep`` (from the greenlet, via
SQLAlchemy's ``await_``), up to the same 5 s the busy handler used. A process holding the lock
(a migration, ``wenzheng staff add``, a stuck writer in the tests) then delays only the requests
that need it, and the per-request budgets keep working.

Only for the writer engine; readers (event streams, health checks) keep aiosqlite, so a long read
never runs on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.util.concurrency import await_

BUSY_TIMEOUT_SECONDS = 5.0
_FIRST_BACKOFF = 0.001
_MAX_BACKOFF = 0.05
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


async def _nothing() -> None:
    """Awaited once per statement: SQLAlchemy's ``AsyncConnection`` checks that a driver call went
    through the event loop side (two greenlet switches, no loop iteration, ~2 µs)."""


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _BUSY


def _retry_busy(call: Callable[[], Any], timeout: float) -> Any:
    """Run ``call``; while SQLite answers "busy", sleep on the event loop (not in SQLite) and retry."""
    deadline = time.monotonic() + timeout
    backoff = _FIRST_BACKOFF
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        await_(asyncio.sleep(backoff))
        backoff = min(backoff * 2, _MAX_BACKOFF)


class InLoopCursor:
    """A DB-API cursor over ``sqlite3``'s, retrying "busy" without blocking the loop. Rows are read
    at once, as SQLAlchemy's async adapters do, so no statement stays open past its execute."""

    __slots__ = ("_cursor", "_rows", "_timeout")

    def __init__(self, cursor: sqlite3.Cursor, timeout: float) -> None:
        self._cursor = cursor
        self._timeout = timeout
        self._rows: deque[Any] = deque()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def execute(self, operation: str, parameters: Any = ()) -> InLoopCursor:
        def run() -> None:
            self._cursor.execute(operation, parameters)
            self._rows = deque(self._cursor.fetchall()) if self._cursor.description else deque()

        _retry_busy(run, self._timeout)
        await_(_nothing())
        return self

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> InLoopCursor:
        _retry_busy(lambda: self._cursor.executemany(operation, seq_of_parameters), self._timeout)
        self._rows = deque()
        await_(_nothing())
        return self

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self._cursor.arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async results call this before handing rows back; they are already read."""

    def setinputsizes(self, *sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.popleft()


class InLoopConnection(AdaptedConnection):
    """What SQLAlchemy's async SQLite dialect expects of a connection, answered synchronously."""

    __slots__ = ("_sqlite", "_timeout", "dbapi")

    def __init__(self, dbapi: InLoopDBAPI, connection: sqlite3.Connection, timeout: float) -> None:
        self.dbapi = dbapi
        self._sqlite = connection
        self._connection = connection  # type: ignore[assignment]  # what ``driver_connection`` returns
        self._timeout = timeout

    def cursor(self, server_side: bool = False) -> InLoopCursor:
        return InLoopCursor(self._sqlite.cursor(), self._timeout)

    def execute(self, operation: str, parameters: Any = ()) -> InLoopCursor:
        return self.cursor().execute(operation, parameters)

    @property
    def isolation_level(self) -> str | None:
        return self._sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None) -> None:
        self._sqlite.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._sqlite.create_function(*args, **kwargs)

    def commit(self) -> None:
        """On a helper thread: with ``synchronous=FULL`` the commit waits for the disk (fsync),
        which must not stall the loop; the greenlet waits, so nothing else uses the connection.
        One thread hop per transaction, and group commit makes that one per batch."""
        try:
            await_(asyncio.to_thread(self._sqlite.commit))
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            _retry_busy(self._sqlite.commit, self._timeout)

    def rollback(self) -> None:
        self._sqlite.rollback()

    def close(self) -> None:
        self._sqlite.close()


class InLoopDBAPI:
    """Passed as ``module=`` to ``create_async_engine`` with the ``sqlite+aiosqlite`` URL: the
    dialect (SQL, types, pooling) stays SQLAlchemy's; only the connections are ours."""

    paramstyle = "qmark"
    has_stop = False  # no aiosqlite thread to stop: the dialect then does not offer "terminate"
    sqlite = sqlite3
    Binary = sqlite3.Binary
    PARSE_COLNAMES = sqlite3.PARSE_COLNAMES
    PARSE_DECLTYPES = sqlite3.PARSE_DECLTYPES
    DatabaseError = sqlite3.DatabaseError
    Error = sqlite3.Error
    IntegrityError = sqlite3.IntegrityError
    NotSupportedError = sqlite3.NotSupportedError
    OperationalError = sqlite3.OperationalError
    ProgrammingError = sqlite3.ProgrammingError
    InterfaceError = sqlite3.InterfaceError
    DataError = sqlite3.DataError
    InternalError = sqlite3.InternalError
    Warning = sqlite3.Warning
    sqlite_version = sqlite3.sqlite_version
    sqlite_version_info = sqlite3.sqlite_version_info

    class aiosqlite:  # the dialect reads the driver version from here
        __version__ = "0.0.0-inloop"

    def __init__(self, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self._busy_timeout = busy_timeout

    def connect(self, database: str, **kwargs: Any) -> InLoopConnection:
        kwargs.pop("timeout", None)  # SQLite's own busy handler would sleep on the loop: ours waits instead
        kwargs["check_same_thread"] = False  # the pool may close it from another thread at exit
        connection = sqlite3.connect(database, timeout=0, **kwargs)
        return InLoopConnection(self, connection, self._busy_timeout)
