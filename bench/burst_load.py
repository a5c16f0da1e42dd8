"""The burst load generator (``python -m bench.burst_load``): many citizens of two channels start at
the same instant, as after a public notice, and each runs whole conversations back to back for
``--duration`` seconds. Prints one JSON result.

What counts for WeChat is its 5-second rule: per push, how long the HTTP answer took, counted over
4.5 s (our target) and over 5 s (WeChat gives up and retries), and how many answers were 503 (the
service shedding or out of budget: WeChat retries, the message is not lost) or otherwise failed,
and of those how many came after 5 s. A citizen whose message failed starts a new conversation
(WeChat itself would retry the same message up to three times).
Latency is measured from the moment just before the request is built and sent (the client's own
encryption included) to the end of the answer, so time queued in the load generator counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, DummyCookieJar, TCPConnector

from bench.channels import CLIENTS, Platforms
from bench.loadgen import Tally, conversation
from bench.procs import LOOPBACK
from bench.stats import Summary

WECHAT_TARGET_S = 4.5
WECHAT_LIMIT_S = 5.0


@dataclass
class BurstTally(Tally):
    """A tally that also sorts failures by kind: 503 (retry later) and everything else."""

    unavailable: int = 0
    other_failures: int = 0
    failed_over_limit: int = 0  # failures that also came after WeChat's 5 s (it gave up before)

    def error(self, sent: float, what: str) -> None:
        super().error(sent, what)
        if time.monotonic() - sent > WECHAT_LIMIT_S:
            self.failed_over_limit += 1
        if "HTTP 503" in what:
            self.unavailable += 1
        else:
            self.other_failures += 1


def _summary(tally: BurstTally, duration: float) -> dict[str, Any]:
    latencies = tally.latencies_ms
    return {
        "messages": len(latencies),
        "rate": tally.completed_in_window / duration,
        "conversations": tally.conversations,
        "filed": tally.filed,
        "offers": tally.offers,
        "follows": tally.follows,
        "separate": tally.separate,
        "messages_per_conversation": tally.sent / tally.conversations if tally.conversations else 0.0,
        "over_target": sum(1 for ms in latencies if ms > WECHAT_TARGET_S * 1000.0),
        "over_limit": sum(1 for ms in latencies if ms > WECHAT_LIMIT_S * 1000.0),
        "unavailable_503": tally.unavailable,
        "other_failures": tally.other_failures,
        "failed_over_limit": tally.failed_over_limit,
        "error_samples": tally.error_samples,
        "late": tally.late,
        "latency_ms": asdict(Summary.of(latencies)),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.base_url.startswith(f"http://{LOOPBACK}:"):
        raise SystemExit("the load generator only targets 127.0.0.1")
    platforms = Platforms.read(args.platforms) if args.platforms is not None else None
    groups = [(name, count) for name, count in (("wechat", args.wechat), ("webchat", args.webchat)) if count > 0]
    citizens = sum(count for _, count in groups)
    connector = TCPConnector(limit=2 * citizens + 10)
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    async with ClientSession(
        connector=connector, timeout=ClientTimeout(total=args.timeout), cookie_jar=DummyCookieJar()
    ) as http:
        start = time.monotonic()
        stop_at = start + args.duration
        tallies = {name: BurstTally(start, stop_at) for name, _ in groups}
        run_id = uuid.uuid4().hex[:8]
        go = asyncio.Event()

        async def citizen(name: str, first_index: int, step: int) -> None:
            client = CLIENTS[name](platforms)
            await go.wait()  # everyone at the same instant
            index = first_index
            while time.monotonic() < stop_at:
                await conversation(
                    http, args.base_url, client, index, tallies[name], stop_at, run_id, args.reply_timeout
                )
                index += step

        tasks = [asyncio.create_task(citizen(name, n, count)) for name, count in groups for n in range(count)]
        await asyncio.sleep(0)
        go.set()
        _done, late = await asyncio.wait(tasks, timeout=args.duration + args.timeout + 30)
        for task in late:
            task.cancel()
        wall = time.monotonic() - start
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    return {
        "duration_s": args.duration,
        "citizens": {name: count for name, count in groups},
        "channels": {name: _summary(tally, args.duration) for name, tally in tallies.items()},
        "client_cpu_share": cpu / wall if wall > 0 else 0.0,
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.burst_load")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--wechat", type=int, default=500, help="WeChat citizens at once")
    parser.add_argument("--webchat", type=int, default=200, help="web chat citizens at once")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--reply-timeout", type=float, default=30.0)
    parser.add_argument("--platforms", type=Path, help="JSON file with the run's platform credentials")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    json.dump(asyncio.run(run(args)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
