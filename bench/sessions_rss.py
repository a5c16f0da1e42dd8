"""Scenario 4b: memory of the service holding N active dialog sessions.

Run as its own process (``python -m bench.sessions_rss``) so the numbers are one service's: it
builds the service the way ``wenzheng serve`` does (``build_services`` + the address index warm-up),
reads its RSS, fills the session store with N realistic mid-form ``SessionState`` JSON documents
through the store's own ``put``, and reads RSS again. With ``--redis-url`` the store is Redis and
the parent reads the server's ``used_memory`` before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base import MediaRef
from bench.appconfig import load, sqlite_url, write_config
from bench.conversation import RICH_FIRST_MESSAGES
from bench.seed import DISTRICTS, STREETS
from bot.app import build_services
from dialogs.ports import Place
from dialogs.state import IntakeDraft, SessionState

TTL_SECONDS = 30 * 24 * 3600
BATCH = 50  # concurrent puts: below redis-py's default pool of 100 connections


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def session_state(i: int, rng: random.Random, now: datetime) -> SessionState:
    """A citizen mid-form: described, place guessed, at the summary or one slot before it."""
    district = rng.choice(DISTRICTS)
    street = rng.choice(STREETS)
    details = RICH_FIRST_MESSAGES[i % len(RICH_FIRST_MESSAGES)] + "。" * rng.randint(0, 40)
    place = Place("山东省", "青岛市", district, f"青岛市{district}{street}{rng.randint(1, 300)}号")
    media = tuple(
        MediaRef("image", f"webchat:{uuid.UUID(int=rng.getrandbits(128)).hex}.jpg")
        for _ in range(rng.choice((0, 0, 0, 1, 2)))
    )
    draft = IntakeDraft(
        type_code=rng.choice(("complaint", "report", "help")),
        topic_code="urban",
        place=place,
        details=details,
        media=media,
        phone=rng.choice((None, None, "13812345678")),
        guessed=frozenset({"type", "topic", "location"}),
    )
    return SessionState(
        locale="zh",
        updated_at=now - timedelta(seconds=rng.randint(0, 1500)),
        form="intake",
        step=rng.choice(("confirm", "confirm", "confirm", "phone")),
        draft=draft,
        history=("details",),
        intake_key=uuid.UUID(int=rng.getrandbits(128)).hex,
    )


async def fill(count: int, redis_url: str | None, budget_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wz-rss-") as tmp:
        return await _fill(Path(tmp), count, redis_url, budget_s)


async def _fill(workdir: Path, count: int, redis_url: str | None, budget_s: float) -> dict[str, Any]:
    config = load(write_config(workdir, sqlite_url(workdir), redis_url))
    services = build_services(config)
    services.addresses.warm_up()
    gc.collect()
    baseline = rss_bytes()
    rng = random.Random(3)
    now = datetime.now(UTC)
    stop_at = time.monotonic() + budget_s
    written = 0
    json_bytes = 0
    try:
        while written < count and time.monotonic() < stop_at:
            batch = []
            for i in range(written, min(count, written + BATCH)):
                raw = session_state(i, rng, now).to_json()
                json_bytes += len(raw.encode())
                batch.append((f"webchat:web:{i:040x}", raw))
            await asyncio.gather(*(services.store.put(key, raw, TTL_SECONDS) for key, raw in batch))
            written += len(batch)
        gc.collect()
        return {
            "store": "redis" if redis_url else "memory",
            "sessions": written,
            "rss_baseline": baseline,
            "rss_after": rss_bytes(),
            "avg_json_bytes": json_bytes / max(written, 1),
        }
    finally:
        await services.store.close()
        await services.dispose_databases()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sessions_rss")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--redis-url")
    parser.add_argument("--budget", type=float, default=120.0)
    args = parser.parse_args(argv)
    json.dump(asyncio.run(fill(args.count, args.redis_url, args.budget)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
