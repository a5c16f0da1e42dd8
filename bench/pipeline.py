"""Scenarios 1 and 2: the web chat pipeline against the real service, and the bare ceiling.

The service runs as ``wenzheng serve`` in its own process on a temp config; the bare app as
``python -m bench.bare``; the load comes from ``python -m bench.loadgen`` in a third process. All on
127.0.0.1. The peak comes from a closed loop; latency is then measured with an open loop offering
``load_fraction`` (70%) of that peak.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.appconfig import sqlite_url, write_config
from bench.channels import NOT_BUILT
from bench.dbservers import Unavailable, postgres_server, redis_server
from bench.options import Options
from bench.procs import LOOPBACK, VENV_BIN, child_env, free_port, run_json_child, running, wait_http
from bench.report import Row, failed, judge, pending

SCENARIO = "pipeline"
BARE_SHARE_TARGET = 0.40
P99_TARGET_MS = 50.0


def loadgen(
    base_url: str, workdir: Path, tag: str, opts: Options, *, mode: str, rate: float = 0.0, concurrency: int = 0
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--base-url",
        base_url,
        "--mode",
        mode,
        "--concurrency",
        str(concurrency or opts.concurrency),
        "--duration",
        str(opts.duration_s),
        "--warmup",
        str(opts.warmup_s),
    ]
    if mode == "open":
        cmd += ["--rate", f"{rate:.1f}"]
    budget = opts.warmup_s + opts.duration_s + 90
    result: dict[str, Any] = json.loads(run_json_child(cmd, workdir / f"loadgen-{tag}.log", timeout=budget))
    return result


@contextlib.contextmanager
def bare_server(workdir: Path) -> Iterator[str]:
    port = free_port()
    log = workdir / "bare.log"
    with running([sys.executable, "-m", "bench.bare", "--port", str(port)], log) as proc:
        base = f"http://{LOOPBACK}:{port}"
        wait_http(base + "/healthz", proc, log, timeout=30)
        yield base


def _upgrade(config: Path, log: Path) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "wenzheng"), "db", "upgrade", "--config", str(config)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"wenzheng db upgrade failed: {done.stderr.strip()[-400:]}")


@contextlib.contextmanager
def service(workdir: Path, backend: str) -> Iterator[str]:
    """``wenzheng serve`` on embedded defaults (sqlite) or on throwaway PostgreSQL + Redis."""
    with contextlib.ExitStack() as stack:
        run_dir = workdir / f"serve-{backend}"
        run_dir.mkdir(parents=True, exist_ok=True)
        if backend == "sqlite":
            config = write_config(run_dir, sqlite_url(run_dir))
        else:
            database_url = stack.enter_context(postgres_server())
            redis_url = stack.enter_context(redis_server(run_dir))
            config = write_config(run_dir, database_url, redis_url)
            _upgrade(config, run_dir / "upgrade.log")
        port = free_port()
        log = run_dir / "serve.log"
        cmd = [str(VENV_BIN / "wenzheng"), "serve", "--config", str(config), "--port", str(port)]
        proc = stack.enter_context(running(cmd, log))
        base = f"http://{LOOPBACK}:{port}"
        wait_http(base + "/healthz", proc, log, timeout=90)
        yield base


def _errors(result: dict[str, Any]) -> str:
    warm = result.get("errors_in_warmup", 0)
    if not result["errors"] and not warm:
        return "0 errors"
    return f"{result['errors']} errors (+{warm} in warm-up; first: {result['error_samples'][0]})"


def _latency_note(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    note = f"p50 {lat['p50']:.1f} / p95 {lat['p95']:.1f} / max {lat['max']:.1f} ms; {result['messages']} msgs"
    if result["errors"]:
        note += f"; {_errors(result)}"
    if result.get("shed"):
        note += f"; {result['shed']} conversations shed"
    return note


def _variant(backend: str) -> str:
    return "web chat, SQLite + memory" if backend == "sqlite" else "web chat, PostgreSQL + Redis"


def _rows_for(
    backend: str, peak: dict[str, Any], steady: dict[str, Any] | None, bare_rate: float | None, opts: Options
) -> list[Row]:
    variant = _variant(backend)
    ratio = peak["rate"] / bare_rate if bare_rate else None
    lat = peak["latency_ms"]
    rows = [
        Row(
            SCENARIO,
            variant,
            f"peak msgs/s (closed, {opts.concurrency} citizens at once)",
            peak["rate"],
            "msg/s",
            ratio,
            "bare",
            f">= {BARE_SHARE_TARGET:.0%} of bare",
            judge(ratio, at_least=BARE_SHARE_TARGET),
            f"p50 {lat['p50']:.1f} / p95 {lat['p95']:.1f} / p99 {lat['p99']:.1f} ms at peak; "
            f"{peak['filed']} tickets filed; {_errors(peak)}",
        ),
    ]
    if steady is not None:
        p99 = steady["latency_ms"]["p99"]
        ok = judge(p99, at_most=P99_TARGET_MS) if steady["errors"] == 0 else "MISSED"
        rows.append(
            Row(
                SCENARIO,
                variant,
                f"p99 latency at {opts.load_fraction:.0%} of peak ({steady['rate']:.0f} msg/s achieved)",
                p99,
                "ms",
                target=f"< {P99_TARGET_MS:.0f} ms",
                verdict=ok,
                note=_latency_note(steady),
            )
        )
    return rows


def _burst_row(backend: str, burst: dict[str, Any], opts: Options) -> Row:
    total = burst["errors"] + burst.get("errors_in_warmup", 0)
    lat = burst["latency_ms"]
    return Row(
        SCENARIO,
        _variant(backend),
        f"burst: {opts.burst_concurrency} citizens at once, failed requests",
        total,
        "errors",
        target="0 (informational)",
        verdict="",
        note=f"{burst['rate']:.0f} msg/s; p50 {lat['p50']:.0f} / p99 {lat['p99']:.0f} ms; {_errors(burst)}",
    )


def run(opts: Options, workdir: Path) -> list[Row]:
    rows: list[Row] = []
    bare_rate: float | None = None
    try:
        with bare_server(workdir) as base:
            bare = loadgen(base, workdir, "bare", opts, mode="closed")
        bare_rate = float(bare["rate"])
        lat = bare["latency_ms"]
        rows.append(
            Row(
                "ceiling",
                "bare aiohttp, returns 'success'",
                f"peak msgs/s (closed, {opts.concurrency})",
                bare_rate,
                "msg/s",
                note=f"p50 {lat['p50']:.1f} / p99 {lat['p99']:.1f} ms; load generator "
                f"used {bare['client_cpu_share']:.0%} of a core",
            )
        )
    except Exception as exc:
        rows.append(failed("ceiling", "bare aiohttp", exc))
    for backend in opts.backends:
        try:
            with service(workdir, backend) as base:
                peak = loadgen(base, workdir, f"{backend}-peak", opts, mode="closed")
                steady = loadgen(
                    base,
                    workdir,
                    f"{backend}-steady",
                    opts,
                    mode="open",
                    rate=max(1.0, peak["rate"] * opts.load_fraction),
                )
                burst = None
                if opts.burst_concurrency:
                    burst = loadgen(
                        base, workdir, f"{backend}-burst", opts, mode="closed", concurrency=opts.burst_concurrency
                    )
            rows.extend(_rows_for(backend, peak, steady, bare_rate, opts))
            if burst is not None:
                rows.append(_burst_row(backend, burst, opts))
        except Unavailable as exc:
            rows.append(pending(SCENARIO, f"web chat, {backend}", str(exc)))
        except Exception as exc:
            rows.append(failed(SCENARIO, f"web chat, {backend}", exc))
    for name, reason in NOT_BUILT.items():
        rows.append(pending(SCENARIO, name, reason))
    return rows
