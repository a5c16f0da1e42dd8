"""``wenzheng apikey``, run as a real process: a key printed once, stored hashed, usable on
Open311 until revoked."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from tests.bot.cli.test_main import run


def _env(db: Path) -> dict[str, str]:
    return {"WENZHENG_STORAGE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}


def test_add_list_revoke(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    added = run("apikey", "add", "partner-app", env=_env(db))
    assert added.returncode == 0, added.stderr
    key = added.stdout.splitlines()[0]
    assert len(key) >= 40
    stored = sqlite3.connect(db).execute("SELECT name, key_hash FROM api_keys").fetchall()
    assert stored == [("partner-app", hashlib.sha256(key.encode()).hexdigest())]  # the key itself is nowhere
    again = run("apikey", "add", "partner-app", env=_env(db))
    assert again.returncode == 2 and "exists" in again.stderr
    assert run("apikey", "add", "bad name!", env=_env(db)).returncode == 2
    listed = run("apikey", "list", env=_env(db))
    assert "partner-app" in listed.stdout and "live" in listed.stdout and key not in listed.stdout
    assert run("apikey", "revoke", "partner-app", env=_env(db)).returncode == 0
    assert "revoked" in run("apikey", "list", env=_env(db)).stdout
    assert run("apikey", "revoke", "partner-app", env=_env(db)).returncode == 2
