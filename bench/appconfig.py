"""A temporary copy of the shipped ``config.yaml`` with storage pointed at throwaway places."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bench.procs import ROOT
from bot.config import AppConfig, load_config


def write_config(
    workdir: Path,
    database_url: str,
    redis_url: str | None = None,
    *,
    log_level: str | None = None,
    channels: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """``workdir/config.yaml``: the shipped config, storage replaced; validated before use.

    ``channels``: settings per channel laid over the shipped ones (e.g. the platform channels
    enabled and pointed at ``bench.fake_platforms``); the file is then readable by our user only,
    since it holds the (made-up) credentials."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    storage = dict(data.get("storage") or {})
    storage.update(database_url=database_url, redis_url=redis_url, media_dir=str(workdir / "media"))
    data["storage"] = storage
    if channels:
        merged = dict(data.get("channels") or {})
        for name, settings in channels.items():
            merged[name] = {**dict(merged.get(name) or {}), **dict(settings)}
        data["channels"] = merged
    if log_level is not None:
        data["log_level"] = log_level
    path = workdir / "config.yaml"
    if channels:
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_config(path, environ={})  # a mistake here is ours: fail before starting anything
    return path


def sqlite_url(workdir: Path, name: str = "wenzheng.db") -> str:
    return f"sqlite+aiosqlite:///{workdir / name}"


def load(path: Path) -> AppConfig:
    return load_config(path, environ={})
