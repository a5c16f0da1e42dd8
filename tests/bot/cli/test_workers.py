"""``wenzheng serve --workers N`` as real processes: refused where the state is one process's,
supervised on PostgreSQL + Redis (a killed worker is replaced, SIGTERM stops all, workers that
cannot start end the service with exit code 1)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, DummyCookieJar, TCPConnector

from bench.appconfig import sqlite_url, write_config
from bench.channels import Shown, WebchatClient
from bench.conversation import Turn
from bench.procs import child_env, free_port, tail, wait_http
from storage.database import create_engine
from storage.migrate import upgrade
from tests.app_helpers import ROOT

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, env=child_env()
    )


def test_several_workers_on_sqlite_are_refused_with_one_clear_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, sqlite_url(tmp_path))
    result = run("serve", "--config", str(config), "--workers", "2", "--port", str(free_port()))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("wenzheng: --workers 2 needs a database server")
    assert "SQLite" in result.stderr


@pytest.mark.parametrize("database_url", [POSTGRES], indirect=True)
def test_several_workers_without_redis_are_refused(tmp_path: Path, database_url: str) -> None:
    config = write_config(tmp_path, database_url)
    result = run("serve", "--config", str(config), "--workers", "3", "--port", str(free_port()))
    assert result.returncode == 2
    assert "needs storage.redis_url" in result.stderr


async def write_to_web_chat(base: str, messages: int) -> int:
    """``messages`` citizens write once each, every request on a new connection (so on any worker)."""
    client = WebchatClient()
    async with ClientSession(connector=TCPConnector(force_close=True), cookie_jar=DummyCookieJar()) as http:
        for n in range(messages):
            citizen = await client.open(http, base, n)
            await client.send(http, base, citizen, Turn(text="帮助"), uuid.uuid4().hex, Shown())
    return messages


async def messages_counted(base: str) -> int:
    """``wenzheng_messages_in_total`` for the web chat, as one scrape of /metrics shows it."""
    async with (
        ClientSession(connector=TCPConnector(force_close=True)) as http,
        http.get(f"{base}/metrics") as answer,
    ):
        assert answer.status == 200
        text = await answer.text()
    found = re.search(r'^wenzheng_messages_in_total\{channel="webchat",outcome="processed"\} (\S+)$', text, re.M)
    return int(float(found.group(1))) if found else 0


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start(config: Path, port: int, log_path: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bot", "serve", "--config", str(config)]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [*cmd, "--workers", str(workers), "--port", str(port)],
            cwd=ROOT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def cleanup() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def migrated(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.mark.redis
@pytest.mark.parametrize("database_url", [POSTGRES], indirect=True)
async def test_two_workers_serve_one_port_a_killed_one_is_replaced_and_sigterm_stops_all(
    tmp_path: Path, database_url: str, redis_url: str, cleanup: list[subprocess.Popen[bytes]]
) -> None:
    await migrated(database_url)
    config = write_config(tmp_path, database_url, redis_url)
    port, log_path = free_port(), tmp_path / "serve.log"
    parent = start(config, port, log_path)
    cleanup.append(parent)
    wait_http(f"http://127.0.0.1:{port}/healthz", parent, log_path, timeout=60)
    wait_for(lambda: len(children(parent.pid)) == 2, 60, "two workers")
    wait_for(lambda: log_path.read_text().count(" ready") >= 2, 60, f"both ready:\n{tail(log_path)}")
    first = children(parent.pid)
    base = f"http://127.0.0.1:{port}"
    assert await messages_counted(base) == 0
    sent = await write_to_web_chat(base, messages=12)
    for _ in range(6):  # whichever worker answers the scrape counts every worker's messages
        assert await messages_counted(base) == sent

    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(children(parent.pid) - first) == 1 and len(children(parent.pid)) == 2, 60, "a replacement")
    assert victim not in children(parent.pid)
    wait_for(lambda: log_path.read_text().count(" ready") >= 3, 60, f"the replacement ready:\n{tail(log_path)}")
    assert "was killed by SIGKILL; starting another" in log_path.read_text()
    wait_http(f"http://127.0.0.1:{port}/healthz", parent, log_path, timeout=10)
    assert await messages_counted(base) == sent, "a dead worker's counts stay in the total"

    workers = children(parent.pid)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=40) == 0, tail(log_path)
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.redis
@pytest.mark.parametrize("database_url", [POSTGRES], indirect=True)
def test_workers_that_cannot_start_end_the_service_with_exit_code_1(
    tmp_path: Path, database_url: str, redis_url: str, cleanup: list[subprocess.Popen[bytes]]
) -> None:
    config = write_config(tmp_path, database_url, redis_url)  # never migrated: every worker refuses to start
    log_path = tmp_path / "serve.log"
    parent = start(config, free_port(), log_path)
    cleanup.append(parent)
    assert parent.wait(timeout=120) == 1, tail(log_path)
    log = log_path.read_text()
    assert "run `wenzheng db upgrade` first" in log
    assert "workers failed to start 3 times in a row; stopping" in log
