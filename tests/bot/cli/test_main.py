"""The command line, run as a real process: clear errors and exit codes an operator can script."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.app_helpers import ROOT


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_check_config_accepts_the_shipped_config() -> None:
    result = run("check-config")
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_invalid_config_stops_serve_with_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace("port: 8080", "port: eighty"))
    result = run("serve", "--config", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "wenzheng: config key server.port: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_bad_environment_override_is_reported_by_key() -> None:
    result = run("check-config", env={"WENZHENG_SERVER_PORT": "-1"})
    assert result.returncode == 2 and "server.port" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = run("db", "upgrade", env={"WENZHENG_STORAGE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tickets", "ticket_events", "outbox", "inbound_messages", "citizens", "identities"} <= tables


def test_a_misspelt_time_zone_fails_check_config_and_serve_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "timezone: Asia/Shanghai" in shipped
    bad.write_text(shipped.replace("timezone: Asia/Shanghai", "timezone: Asia/Shangai"), encoding="utf-8")
    expected = [
        "wenzheng: config key server.timezone: Value error, unknown time zone 'Asia/Shangai' "
        "(an IANA name such as Asia/Shanghai)"
    ]
    for command in ("check-config", "serve"):
        result = run(command, "--config", str(bad))
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == expected
