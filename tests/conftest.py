"""Shared fixtures: throwaway Redis and PostgreSQL servers, and a migrated database per test.

The servers are real (``redis-server``, ``initdb``/``pg_ctl``), started once per session on free
loopback ports in temporary directories and stopped at the end. When a binary is missing the tests
that need it are skipped, except under ``CI=true``, where they fail: CI must run both paths.

PostgreSQL refuses to run as root. As root (CI), the cluster belongs to the ``postgres`` user and
``initdb``/``pg_ctl`` run through ``runuser -u postgres --`` (or ``su``) in a directory it owns.

Fixture names are a contract with the rest of the suite: ``redis_url``, ``postgres_url``,
``database_url`` (parametrized ``sqlite``/``postgres``), ``engine`` (migrated with the real Alembic
revisions), ``sessions`` and ``redis_store``.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NoReturn, TypeVar

import aiohttp.web_app as aiohttp_web_app
import asyncpg  # type: ignore[import-untyped]
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from storage.sessions import RedisSessionStore

T = TypeVar("T")

PG_USER = "postgres"  # initdb -U: the superuser name, whoever runs the cluster
PG_DATABASE = "wenzheng"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need a server carry its marker (``-m "not postgres"``). The parametrized
    ``database_url`` marks its ``postgres`` case itself; this covers direct users of the URLs."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)
        if "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)


# --------------------------------------------------------------------------------------- helpers


def _unavailable(message: str) -> NoReturn:
    """Skip locally; fail under CI, which installs the servers and must test both paths."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: .ci/run must install it; refusing to skip)", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even when called inside a running loop
    (a sync fixture requested lazily from an async one): it gets a thread and a loop of its own."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")],
    )
    return candidates[-1] if candidates else None


# ----------------------------------------------------------------------------------------- Redis


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _aiohttp_forgets_finished_apps() -> Iterator[None]:
    """aiohttp caches each app's middleware chain (``web_app._cached_build_middleware``, up to 1,024
    entries), and the cache keeps every finished test's app alive: with its jieba dictionary and
    models, about 90 MB each, a full run reached 24 GB and was OOM-killed. A service runs one app
    per process; tests run hundreds, so the cache is emptied after each."""
    yield
    cached = getattr(aiohttp_web_app, "_cached_build_middleware", None)
    if cached is not None:
        cached.cache_clear()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port: ``redis://127.0.0.1:N/0``."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server is not on PATH (apt-get install redis-server)")
    workdir = Path(tempfile.mkdtemp(prefix="wz-redis-"))
    log_path = workdir / "redis.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):
            port = _free_port()
            cmd = [binary, "--save", "", "--appendonly", "no", "--port", str(port), "--bind", "127.0.0.1"]
            cmd += ["--dir", str(workdir), "--daemonize", "no", "--logfile", str(log_path)]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None and not _redis_answers(port):
                time.sleep(0.05)
            if proc.poll() is None and _redis_answers(port):
                break
            proc.kill()
            proc.wait()
            proc = None
        if proc is None:
            pytest.fail(f"redis-server did not start:\n{_tail(log_path)}", pytrace=False)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisSessionStore]:
    """A ``RedisSessionStore`` on a freshly flushed database."""
    raw = Redis.from_url(redis_url)
    try:
        await raw.flushdb()
    finally:
        await raw.aclose()
    store = RedisSessionStore.from_url(redis_url)
    try:
        yield store
    finally:
        await store.close()


# ------------------------------------------------------------------------------------ PostgreSQL


class _PgRunner:
    """Runs cluster commands as the ``postgres`` user when we are root, else as ourselves."""

    def __init__(self) -> None:
        self.as_root = os.geteuid() == 0
        self.uid: int | None = None
        self.gid: int | None = None
        self.prefix: list[str] = []
        self.via_su = False
        if self.as_root:
            try:
                entry = pwd.getpwnam(PG_USER)
            except KeyError:
                _unavailable(f"running as root and there is no '{PG_USER}' user to own a PostgreSQL cluster")
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
            runuser = shutil.which("runuser")
            if runuser:
                self.prefix = [runuser, "-u", PG_USER, "--"]
            elif shutil.which("su"):
                self.via_su = True
            else:
                _unavailable("running as root and neither runuser nor su is available")

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def run(self, cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        full = ["su", PG_USER, "-s", "/bin/sh", "-c", shlex.join(cmd)] if self.via_su else self.prefix + cmd
        return subprocess.run(
            full, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
        )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port, with an empty ``wenzheng`` database:
    ``postgresql+asyncpg://postgres@127.0.0.1:N/wenzheng``."""
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found (apt-get install postgresql)")
    runner = _PgRunner()
    workdir = Path(tempfile.mkdtemp(prefix="wz-pg-"))
    runner.own(workdir)
    data, log_path = workdir / "data", workdir / "postgres.log"
    started = False
    try:
        done = runner.run(
            [initdb, "-D", str(data), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], workdir
        )
        if done.returncode != 0:
            pytest.fail(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False)
        port = 0
        for _attempt in range(3):
            port = _free_port()
            options = (
                f"-p {port} -c listen_addresses=127.0.0.1 -k {workdir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            done = runner.run(
                [pg_ctl, "-D", str(data), "-l", str(log_path), "-w", "-t", "60", "-o", options, "start"], workdir
            )
            if done.returncode == 0:
                started = True
                break
        if not started:
            pytest.fail(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{_tail(log_path)}", pytrace=False)

        async def create() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=port, user=PG_USER, database="postgres")
            try:
                await conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
            finally:
                await conn.close()

        _run_async(create)
        yield f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/{PG_DATABASE}"
    finally:
        if started:
            runner.run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], workdir, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------------ databases


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file in ``tmp_path``, or a fresh PostgreSQL
    database (``t_<uuid>``) on the throwaway server, so tests never see each other's rows."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
        return
    base = make_url(request.getfixturevalue("postgres_url"))
    name = f"t_{uuid.uuid4().hex}"
    admin = {"host": base.host, "port": base.port, "user": base.username, "database": "postgres"}

    async def admin_execute(sql: str) -> None:
        conn = await asyncpg.connect(**admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _run_async(lambda: admin_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        _run_async(lambda: admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``database_url``, migrated to head by the real Alembic revisions."""
    eng = create_engine(database_url)
    try:
        await upgrade(eng)
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
