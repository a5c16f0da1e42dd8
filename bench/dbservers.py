"""Throwaway Redis and PostgreSQL servers on loopback, in temporary directories, always stopped.

The same recipe as the test suite (tests/conftest.py): PostgreSQL refuses to run as root, so as
root the cluster belongs to the ``postgres`` user and its commands run through ``runuser``.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from bench.procs import LOOPBACK, free_port, running, tail

PG_USER = "postgres"
PG_DATABASE = "wenzheng"


class Unavailable(RuntimeError):
    """The server binary (or a user to run it) is not on this machine."""


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """``redis://127.0.0.1:N/0`` on a fresh, persistence-free ``redis-server``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    cmd = [binary, "--save", "", "--appendonly", "no", "--port", str(port), "--bind", LOOPBACK]
    cmd += ["--dir", str(workdir), "--daemonize", "no"]
    log_path = workdir / "redis.log"
    with running(cmd, log_path) as proc:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None and not _redis_answers(port):
            time.sleep(0.05)
        if not _redis_answers(port):
            raise RuntimeError(f"redis-server did not start:\n{tail(log_path)}")
        yield f"redis://{LOOPBACK}:{port}/0"


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres(cmd: list[str]) -> tuple[list[str], int | None, int | None]:
    if os.geteuid() != 0:
        return cmd, None, None
    try:
        entry = pwd.getpwnam(PG_USER)
    except KeyError as exc:
        raise Unavailable(f"running as root and there is no '{PG_USER}' user to own a cluster") from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root and runuser is not available")
    return [runuser, "-u", PG_USER, "--", *cmd], entry.pw_uid, entry.pw_gid


def _pg_run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full, _, _ = _as_postgres(cmd)
    return subprocess.run(
        full, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
    )


async def _create_database(port: int, name: str) -> None:
    conn = await asyncpg.connect(host=LOOPBACK, port=port, user=PG_USER, database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway cluster with an empty ``wenzheng`` database:
    ``postgresql+asyncpg://postgres@127.0.0.1:N/wenzheng``. Tuned like the tests' cluster
    (fsync off), which flatters write latency; said so in BENCHMARKS.md. Its directory is a new
    one in the system temp dir: the ``postgres`` user cannot enter our private work directory."""
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found (apt-get install postgresql)")
    _, uid, gid = _as_postgres([])
    base = Path(tempfile.mkdtemp(prefix="wz-bench-pg-"))
    if uid is not None and gid is not None:
        os.chown(base, uid, gid)
    data, log_path = base / "data", base / "postgres.log"
    started = False
    try:
        done = _pg_run(
            [initdb, "-D", str(data), "-U", PG_USER, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], base
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-400:]}")
        port = free_port()
        options = (
            f"-p {port} -c listen_addresses={LOOPBACK} -k {base} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
        )
        done = _pg_run([pg_ctl, "-D", str(data), "-l", str(log_path), "-w", "-t", "60", "-o", options, "start"], base)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-400:]}\n{tail(log_path)}")
        started = True
        asyncio.run(_create_database(port, PG_DATABASE))
        yield f"postgresql+asyncpg://{PG_USER}@{LOOPBACK}:{port}/{PG_DATABASE}"
    finally:
        if started:
            _pg_run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], base, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
