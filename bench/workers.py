"""Scenarios ``workers`` and ``burst``: what a second worker buys, and a burst of citizens at once.

``workers``: the web chat and the WeChat pipeline (safe-mode XML) on PostgreSQL + Redis, driven by
the closed-loop load generator against ``wenzheng serve --workers 1`` and then ``--workers 2``,
each run on a fresh service; the figure is the ratio 2 workers / 1 worker per channel.

CPU budgets: the load generator is pinned with ``taskset -c`` to ``opts.loadgen_cpus`` and the
service (the supervisor and its workers inherit it) to ``opts.service_cpus`` when they are set.
PostgreSQL, Redis and the fake platforms stay unpinned. On a machine with fewer cores than
workers + 1 the budgets overlap: the rows say what was pinned where, and the ratio is then a
lower bound of what a second core gives.

``burst``: ``opts.burst_wechat`` WeChat citizens and ``opts.burst_webchat`` web chat citizens start
at the same instant (``bench.burst_load``) against ``opts.burst_workers`` workers; WeChat answers
are counted over 4.5 s (the target) and over 5 s (WeChat's limit), with the 503 (retry) answers.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from bench.options import Options
from bench.pipeline import loadgen, offers_note, service, wait_drained
from bench.procs import run_json_child
from bench.report import Row, failed, judge

SCENARIO = "workers"
BURST = "burst"
RATIO_TARGET = 1.6
CHANNELS = ("webchat", "wechat")
LABELS = {"webchat": "web chat JSON", "wechat": "WeChat safe-mode XML"}


def _pinning(opts: Options) -> str:
    cpus = os.cpu_count() or 1
    where = (f"load generator on CPU {opts.loadgen_cpus}" if opts.loadgen_cpus else "load generator unpinned") + (
        f", service on CPU {opts.service_cpus}" if opts.service_cpus else ", service unpinned"
    )
    return f"{where}; PostgreSQL, Redis, fake platforms unpinned; {cpus} CPUs in all"


def _peak(opts: Options, workdir: Path, workers: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with service(workdir, "postgres", platforms=True, workers=workers, cpus=opts.service_cpus) as svc:
        for channel in CHANNELS:
            results[channel] = loadgen(
                svc.base_url,
                workdir,
                f"workers{workers}-{channel}",
                opts,
                mode="closed",
                channel=channel,
                platforms_file=svc.platforms_file,
                cpus=opts.loadgen_cpus,
            )
            wait_drained(svc.fake_url)  # this channel's outbox backlog must not load the next run
    return results


def run(opts: Options, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    measured: dict[int, dict[str, dict[str, Any]]] = {}
    for workers in (1, 2):
        try:
            measured[workers] = _peak(opts, workdir, workers)
        except Exception as exc:  # one broken run must not hide the other's rows
            rows.append(failed(SCENARIO, f"{workers} worker(s)", exc))
    pinning = _pinning(opts)
    for channel in CHANNELS:
        one = measured.get(1, {}).get(channel)
        two = measured.get(2, {}).get(channel)
        for workers, result in ((1, one), (2, two)):
            if result is None:
                continue
            lat = result["latency_ms"]
            rows.append(
                Row(
                    SCENARIO,
                    f"{LABELS[channel]}, PostgreSQL + Redis, {workers} worker(s)",
                    f"peak msgs/s (closed, {opts.concurrency} citizens at once)",
                    result["rate"],
                    "msg/s",
                    note=f"p50 {lat['p50']:.1f} / p99 {lat['p99']:.1f} ms; {result['errors']} errors; "
                    f"{result['filed']} tickets filed; {offers_note(result)}; "
                    f"load generator used {result['client_cpu_share']:.0%} of a core",
                )
            )
        ratio = two["rate"] / one["rate"] if one and two and one["rate"] > 0 else None
        rows.append(
            Row(
                SCENARIO,
                f"{LABELS[channel]}, PostgreSQL + Redis",
                "2 workers / 1 worker (peak msgs/s)",
                ratio,
                "x",
                target=f">= {RATIO_TARGET}x",
                verdict=judge(ratio, at_least=RATIO_TARGET),
                note=pinning,
            )
        )
    return rows


def run_burst(opts: Options, workdir: Path) -> list[Row]:
    workers = opts.burst_workers
    label = f"{opts.burst_wechat} WeChat + {opts.burst_webchat} web chat citizens at once, {workers} worker(s)"
    try:
        with service(workdir, "postgres", platforms=True, workers=workers, cpus=opts.service_cpus) as svc:
            cmd = [
                sys.executable,
                "-m",
                "bench.burst_load",
                "--base-url",
                svc.base_url,
                "--wechat",
                str(opts.burst_wechat),
                "--webchat",
                str(opts.burst_webchat),
                "--duration",
                str(opts.burst_duration_s),
                "--platforms",
                str(svc.platforms_file),
            ]
            if opts.loadgen_cpus:
                cmd = ["taskset", "-c", opts.loadgen_cpus, *cmd]
            result: dict[str, Any] = json.loads(
                run_json_child(cmd, workdir / "burst-load.log", timeout=opts.burst_duration_s + 120)
            )
    except Exception as exc:
        return [failed(BURST, label, exc)]
    wechat = result["channels"].get("wechat")
    webchat = result["channels"].get("webchat")
    rows: list[Row] = []
    cpu_note = f"load generator used {result['client_cpu_share']:.0%} of a core; {_pinning(opts)}"
    if wechat is not None:
        lat = wechat["latency_ms"]
        late = wechat["over_target"]
        rows.append(
            Row(
                BURST,
                label,
                f"WeChat answers over 4.5 s (of {wechat['messages']} in {opts.burst_duration_s:g} s)",
                late,
                "answers",
                target="0",
                verdict=judge(float(late), at_most=0.5),
                note=f"over 5 s: {wechat['over_limit']}; 503 (retry): {wechat['unavailable_503']} "
                f"({wechat['failed_over_limit']} failed answers after 5 s); other failures: "
                f"{wechat['other_failures']}; p50 {lat['p50']:.0f} / p99 {lat['p99']:.0f} / max {lat['max']:.0f} ms; "
                f"{wechat['late']} answered 'success' (reply via the API); {wechat['filed']} tickets filed; "
                f"{offers_note(wechat)}; {cpu_note}",
            )
        )
    if webchat is not None:
        lat = webchat["latency_ms"]
        rows.append(
            Row(
                BURST,
                label,
                f"web chat p99 latency ({webchat['messages']} messages)",
                lat["p99"],
                "ms",
                note=f"p50 {lat['p50']:.0f} / max {lat['max']:.0f} ms; 503 (retry): {webchat['unavailable_503']}; "
                f"other failures: {webchat['other_failures']}; {webchat['filed']} tickets filed; "
                f"{offers_note(webchat)}",
            )
        )
    return rows
