"""The embedded default's dialog session store: a SQLite file of its own, so drafts survive a restart.

Why a file of its own and not a table in the main database: a session is read before and written
after every message, and the main SQLite database has one writer connection that every dialog
transaction queues for (``storage.database``). An extra commit per message there would lengthen
that queue; here a read is one indexed lookup and a write one upsert on a private connection, done
synchronously (tens of microseconds in WAL mode with ``synchronous=NORMAL``, which survives a killed
process; only an operating-system crash can lose the last writes). Nothing else writes this file,
so a call never waits for a lock held by a transaction that needs the event loop to finish.

Expiry uses the wall clock (a monotonic clock restarts with the process) and is checked on read;
expired rows are swept now and then. Conversation locks are in-process: the embedded default is
one process. Replay keys (``add_once``) are kept here too, so they also outlive a restart.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.sessions import LocalLocks, SessionStore

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS dialog_sessions ("
    " key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS ix_dialog_sessions_expires ON dialog_sessions (expires_at)",
    "CREATE TABLE IF NOT EXISTS seen_keys (key TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS ix_seen_keys_expires ON seen_keys (expires_at)",
)
SWEEP_EVERY_SECONDS = 60.0


def session_file_for(database_url: str, media_dir: str) -> Path | None:
    """Where the embedded default keeps sessions: beside a SQLite database file
    (``data/wenzheng.db`` -> ``data/wenzheng.sessions.db``), else beside the media directory
    (a PostgreSQL database without Redis, one process). None for an in-memory database, which
    does not outlive the process either."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        db = Path(url.database)
        return db.with_name(db.stem + ".sessions.db")
    return Path(media_dir).parent / "sessions.db"


class SessionStoreUnavailable(OSError):
    """The session file cannot be read or written; an ``OSError`` so callers answer "retry later"."""


class SqliteSessionStore:
    """``SessionStore`` on a local SQLite file; one process at a time (the embedded default)."""

    def __init__(self, *, path: Path, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._locks = LocalLocks()
        self._conn: sqlite3.Connection | None = None
        self._next_sweep = 0.0

    def _db(self) -> sqlite3.Connection:
        """Opened on first use, so building the service touches no file."""
        if self._conn is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA busy_timeout=1000")
                for statement in _SCHEMA:
                    conn.execute(statement)
            except (sqlite3.Error, OSError) as exc:
                raise SessionStoreUnavailable(f"session store {self._path}: {exc}") from exc
            self._conn = conn
        return self._conn

    def _run(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._db().execute(sql, params)
        except sqlite3.Error as exc:
            raise SessionStoreUnavailable(f"session store {self._path}: {exc}") from exc

    async def get(self, key: str) -> str | None:
        row = self._run(
            "SELECT value FROM dialog_sessions WHERE key = ? AND expires_at > ?", (key, self._clock())
        ).fetchone()
        return None if row is None else str(row[0])

    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        now = self._clock()
        self._run(
            "INSERT INTO dialog_sessions (key, value, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
            (key, value, now + ttl_seconds),
        )
        self._sweep(now)

    async def delete(self, key: str) -> None:
        self._run("DELETE FROM dialog_sessions WHERE key = ?", (key,))

    def lock(self, key: str, timeout_seconds: float = 30.0) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(key, timeout_seconds)

    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        now = self._clock()
        # Inserted, or an expired entry renewed: one row changed. A live entry: none.
        cursor = self._run(
            "INSERT INTO seen_keys (key, expires_at) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_keys.expires_at <= ?",
            (key, now + ttl_seconds, now),
        )
        self._sweep(now)
        return cursor.rowcount == 1

    def _sweep(self, now: float) -> None:
        """Expired rows go at most once a minute, so the file does not grow with abandoned forms."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_SECONDS
        self._run("DELETE FROM dialog_sessions WHERE expires_at <= ?", (now,))
        self._run("DELETE FROM seen_keys WHERE expires_at <= ?", (now,))

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __len__(self) -> int:
        """Live sessions (for tests and the memory benchmark)."""
        row = self._run("SELECT count(*) FROM dialog_sessions WHERE expires_at > ?", (self._clock(),)).fetchone()
        return int(row[0])


def _conforms(store: SqliteSessionStore) -> SessionStore:
    """Checked by mypy only: the store satisfies the protocol."""
    return store
