"""Scenario 4b driver: ``bench.sessions_rss`` in a child process, in-process store and Redis."""

from __future__ import annotations

import asyncio
import json
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.dbservers import Unavailable, redis_server
from bench.options import Options
from bench.procs import run_json_child
from bench.report import Row, failed, judge, pending

SCENARIO = "sessions"
RSS_TARGET_MB = 300.0
MB = 1024 * 1024


def _child(count: int, workdir: Path, redis_url: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.sessions_rss", "--count", str(count)]
    if redis_url:
        cmd += ["--redis-url", redis_url]
    tag = "redis" if redis_url else "memory"
    result: dict[str, Any] = json.loads(run_json_child(cmd, workdir / f"sessions-{tag}.log", timeout=240))
    return result


async def _used_memory(url: str) -> int:
    client = Redis.from_url(url)
    try:
        info = await client.info("memory")
        return int(info["used_memory"])
    finally:
        await client.aclose()


def run(opts: Options, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    n = opts.sessions
    target = f"< {RSS_TARGET_MB:.0f} MB"
    # The two children measure memory, not speed: they run side by side (half the wall time).
    with ThreadPoolExecutor(max_workers=1) as pool:
        in_process = pool.submit(_child, n, workdir, None)
        rows.extend(_redis_rows(n, workdir, target))
        rows[:0] = _memory_rows(in_process, target)
    return rows


def _memory_rows(in_process: Future[dict[str, Any]], target: str) -> list[Row]:
    try:
        mem = in_process.result()
        rss = mem["rss_after"] / MB
        return [
            Row(
                SCENARIO,
                "embedded default (SqliteSessionStore file)",
                f"service RSS with {mem['sessions']:,} sessions",
                rss,
                "MB",
                target=target,
                verdict=judge(rss, at_most=RSS_TARGET_MB),
                note=f"{mem['rss_baseline'] / MB:.0f} MB before filling (services built, address index "
                f"warm); +{(mem['rss_after'] - mem['rss_baseline']) / MB:.0f} MB for sessions, "
                f"{(mem['rss_after'] - mem['rss_baseline']) / max(mem['sessions'], 1):.0f} B each; "
                f"JSON {mem['avg_json_bytes']:.0f} B each",
            )
        ]
    except Exception as exc:
        return [failed(SCENARIO, "embedded default (SqliteSessionStore file)", exc)]


def _redis_rows(n: int, workdir: Path, target: str) -> list[Row]:
    rows: list[Row] = []
    try:
        with redis_server(workdir) as url:
            before = asyncio.run(_used_memory(url))
            red = _child(n, workdir, url)
            after = asyncio.run(_used_memory(url))
        used = after / MB
        ours = red["rss_after"] / MB
        rows.append(
            Row(
                SCENARIO,
                "Redis session store",
                f"redis used_memory with {red['sessions']:,} sessions",
                used,
                "MB",
                target=target,
                verdict=judge(used, at_most=RSS_TARGET_MB),
                note=f"+{(after - before) / MB:.0f} MB over an empty server; our process RSS {ours:.0f} MB "
                f"(baseline {red['rss_baseline'] / MB:.0f} MB)",
            )
        )
        rows.append(
            Row(
                SCENARIO,
                "Redis session store",
                "service RSS (sessions held in Redis)",
                ours,
                "MB",
                target=target,
                verdict=judge(ours, at_most=RSS_TARGET_MB),
            )
        )
    except Unavailable as exc:
        rows.append(pending(SCENARIO, "Redis session store", str(exc)))
    except Exception as exc:
        rows.append(failed(SCENARIO, "Redis session store", exc))
    return rows
