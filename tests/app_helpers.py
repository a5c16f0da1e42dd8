"""Building the real service for tests: the shipped config, a temporary database, a settable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import AppConfig, load_config

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Clock:
    """Injected into the app instead of the wall clock, so deadlines and expiry are testable."""

    now: datetime = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_config(tmp_path: Path, database_url: str | None = None, **storage: Any) -> AppConfig:
    base = load_config(ROOT / "config.yaml", environ={})
    store = base.storage.model_copy(
        update={
            "database_url": database_url or f"sqlite+aiosqlite:///{tmp_path}/wenzheng.db",
            "media_dir": str(tmp_path / "media"),
            **storage,
        }
    )
    return base.model_copy(update={"storage": store})
