"""Scenarios 1 and 2: every channel's pipeline against the real service, and the bare ceiling.

The service runs as ``wenzheng serve`` in its own process on a temp config with the web chat and
all three platform channels on (Telegram in webhook mode), their ``api_base_url`` pointing at
``python -m bench.fake_platforms`` (another process). The bare app runs as ``python -m bench.bare``;
the load comes from ``python -m bench.loadgen`` in a further process, speaking each channel's own
wire format (``bench/channels.py``). All on 127.0.0.1. Per channel, the peak comes from a closed
loop; latency is then measured with an open loop offering ``load_fraction`` (70%) of that peak.
The burst run is web chat only.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.appconfig import sqlite_url, write_config
from bench.channels import NOT_BUILT, PLATFORM_CHANNELS, WIRE_FORMATS, Platforms
from bench.dbservers import Unavailable, postgres_server, redis_server
from bench.options import Options
from bench.procs import LOOPBACK, VENV_BIN, child_env, free_port, loopback_server, run_json_child, running, wait_http
from bench.report import Row, failed, judge, pending

SCENARIO = "pipeline"
BARE_SHARE_TARGET = 0.40
P99_TARGET_MS = 50.0
TELEGRAM_LIMIT = "28 msg/s overall, 1.1 s per chat"  # adapters/telegram/limits.py SERVICE_LIMITS
QUIET_S = 1.0  # the outbox counts as drained once the fake got nothing new for this long
DRAIN_LIMIT_S = 90.0  # longest wait for the outbox to drain between two runs


@dataclass(frozen=True, slots=True)
class Service:
    """A running service: its URL, and the fake platforms' URL and credentials file (if any)."""

    base_url: str
    fake_url: str = ""
    platforms_file: Path | None = None


def loadgen(
    base_url: str,
    workdir: Path,
    tag: str,
    opts: Options,
    *,
    mode: str,
    rate: float = 0.0,
    concurrency: int = 0,
    channel: str = "webchat",
    platforms_file: Path | None = None,
    cpus: str | None = None,
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--base-url",
        base_url,
        "--channel",
        channel,
        "--mode",
        mode,
        "--concurrency",
        str(concurrency or opts.concurrency),
        "--duration",
        str(opts.duration_s),
        "--warmup",
        str(opts.warmup_s),
        "--reply-timeout",
        str(opts.reply_timeout_s),
    ]
    if mode == "open":
        cmd += ["--rate", f"{rate:.1f}"]
    if platforms_file is not None:
        cmd += ["--platforms", str(platforms_file)]
    if cpus is not None:  # the load generator on its own CPUs (taskset), apart from the service
        cmd = ["taskset", "-c", cpus, *cmd]
    budget = opts.warmup_s + opts.duration_s + opts.reply_timeout_s + 90
    result: dict[str, Any] = json.loads(run_json_child(cmd, workdir / f"loadgen-{tag}.log", timeout=budget))
    return result


def bare_server(workdir: Path) -> contextlib.AbstractContextManager[str]:
    return loopback_server("bench.bare", "--port", "/healthz", workdir / "bare.log")


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


def fake_platforms(run_dir: Path) -> contextlib.AbstractContextManager[str]:
    """``python -m bench.fake_platforms``: WeChat, Telegram and Weibo APIs for the service."""
    return loopback_server("bench.fake_platforms", "--port", "/_bench/health", run_dir / "fake-platforms.log")


@contextlib.contextmanager
def service(
    workdir: Path, backend: str, *, platforms: bool = False, workers: int = 1, cpus: str | None = None
) -> Iterator[Service]:
    """``wenzheng serve`` on embedded defaults (sqlite) or on throwaway PostgreSQL + Redis; with
    ``platforms``, also the fake platforms process, started first, and every platform channel on.
    ``workers``: ``--workers N`` (PostgreSQL only); ``cpus``: the service pinned there (taskset)."""
    with contextlib.ExitStack() as stack:
        run_dir = workdir / (f"serve-{backend}" if workers == 1 else f"serve-{backend}-{workers}w")
        run_dir.mkdir(parents=True, exist_ok=True)
        fake_url = ""
        platforms_file: Path | None = None
        channels: dict[str, dict[str, Any]] | None = None
        if platforms:
            fake_url = stack.enter_context(fake_platforms(run_dir))
            credentials = Platforms.random(fake_url)
            platforms_file = credentials.write(run_dir / "platforms.json")
            channels = credentials.channels_config()
        if backend == "sqlite":
            config = write_config(run_dir, sqlite_url(run_dir), channels=channels)
        else:
            database_url = stack.enter_context(postgres_server())
            redis_url = stack.enter_context(redis_server(run_dir))
            config = write_config(run_dir, database_url, redis_url, channels=channels)
            _upgrade(config, run_dir / "upgrade.log")
        port = free_port()
        log = run_dir / "serve.log"
        cmd = [str(VENV_BIN / "wenzheng"), "serve", "--config", str(config), "--port", str(port)]
        if workers != 1:
            cmd += ["--workers", str(workers)]
        if cpus is not None:
            cmd = ["taskset", "-c", cpus, *cmd]
        proc = stack.enter_context(running(cmd, log))
        base = f"http://{LOOPBACK}:{port}"
        wait_http(base + "/healthz", proc, log, timeout=90)
        if workers > 1:  # one worker answers /healthz first; the others are still warming up
            wait_ready(log, proc, workers)
        yield Service(base, fake_url, platforms_file)


def wait_ready(log: Path, proc: subprocess.Popen[bytes], workers: int, timeout: float = 90.0) -> None:
    """Until the supervisor has logged every worker ready (``worker N (pid P) ready``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"wenzheng serve exited with {proc.returncode}")
        if log.read_text(errors="replace").count(") ready") >= workers:
            return
        time.sleep(0.2)
    raise TimeoutError(f"not all {workers} workers were ready within {timeout:.0f} s")


def fake_stats(fake_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{fake_url}/_bench/stats", timeout=10) as answer:
        data: dict[str, Any] = json.loads(answer.read())
    return data


def _delivered(fake_url: str, platform: str) -> int:
    return int(fake_stats(fake_url)["texts"].get(platform, 0))


def wait_drained(fake_url: str, limit_s: float = DRAIN_LIMIT_S) -> float:
    """Wait until the service's outbox stops delivering (nothing new at the fake for
    ``QUIET_S``), so one run's backlog does not load the next run; the seconds waited."""
    started = time.monotonic()
    last = sum(fake_stats(fake_url)["texts"].values())
    quiet_since = started
    while time.monotonic() - started < limit_s:
        time.sleep(0.25)
        now = sum(fake_stats(fake_url)["texts"].values())
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_S:
            break
    return time.monotonic() - started


def _errors(result: dict[str, Any]) -> str:
    warm = result.get("errors_in_warmup", 0)
    if not result["errors"] and not warm:
        return "0 errors"
    return f"{result['errors']} errors (+{warm} in warm-up; first: {result['error_samples'][0]})"


def offers_note(result: dict[str, Any]) -> str:
    """How often 提交 met 已有人反映 and what the citizens did (an answer is one more message)."""
    per = result.get("messages_per_conversation", 0.0)
    return (
        f"{result.get('offers', 0)} duplicate offers ({result.get('follows', 0)} followed, "
        f"{result.get('separate', 0)} filed anyway); {per:.2f} msgs/conversation"
    )


def _latency_note(result: dict[str, Any]) -> str:
    lat = result["latency_ms"]
    note = f"p50 {lat['p50']:.1f} / p95 {lat['p95']:.1f} / max {lat['max']:.1f} ms; {result['messages']} msgs"
    note += f"; {result['filed']} tickets filed; {offers_note(result)}"
    if result["errors"]:
        note += f"; {_errors(result)}"
    if result.get("shed"):
        note += f"; {result['shed']} conversations shed"
    return note


def _backend_label(backend: str) -> str:
    return "SQLite + memory" if backend == "sqlite" else "PostgreSQL + Redis"


def _variant(backend: str, channel: str = "webchat") -> str:
    return f"{WIRE_FORMATS[channel]}, {_backend_label(backend)}"


def _replies_note(channel: str, result: dict[str, Any], delivered: float | None, *, peak: bool) -> str:
    """What came through the platform API instead of the HTTP answer, and how long it took."""
    parts: list[str] = []
    if channel in ("wechat", "weibo"):
        parts.append(f"{result.get('late', 0)} late replies (answered without a passive reply)")
    waits = result.get("reply_latency_ms", {})
    for turn, what in (("0", "buttons (turn 0)"), ("1", "number (submit turn)")):
        lat = waits.get(turn)
        if lat and lat["count"]:
            parts.append(f"reply latency of the {what} p50 {lat['p50']:.0f} / p99 {lat['p99']:.0f} ms")
    if result.get("reply_missing"):
        parts.append(f"{result['reply_missing']} conversations ended waiting for a reply (not seen in time)")
    if channel == "telegram" and delivered is not None:
        parts.append(f"the outbox delivered {delivered:.1f} msg/s to the fake Bot API (its limits: {TELEGRAM_LIMIT})")
        number = waits.get("1")
        webhook_p50 = result["latency_ms"]["p50"]
        if peak and number and number["count"] and number["p50"] > 5 * webhook_p50:
            parts.append(
                "citizens wait for their buttons and their number, so this closed loop is bounded by outbox "
                "delivery, not by the webhook"
            )
    return "; ".join(parts)


def _rows_for(
    backend: str,
    peak: dict[str, Any],
    steady: dict[str, Any] | None,
    bare_rate: float | None,
    opts: Options,
    channel: str = "webchat",
    delivered: tuple[float | None, float | None] = (None, None),
    skipped_steady: str = "",
) -> list[Row]:
    variant = _variant(backend, channel)
    ratio = peak["rate"] / bare_rate if bare_rate else None
    lat = peak["latency_ms"]
    peak_note = (
        f"p50 {lat['p50']:.1f} / p95 {lat['p95']:.1f} / p99 {lat['p99']:.1f} ms at peak; "
        f"{peak['filed']} tickets filed; {offers_note(peak)}; {_errors(peak)}"
    )
    extra = _replies_note(channel, peak, delivered[0], peak=True)
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
            peak_note + (f"; {extra}" if extra else "") + (f"; {skipped_steady}" if skipped_steady else ""),
        ),
    ]
    if steady is not None:
        p99 = steady["latency_ms"]["p99"]
        ok = judge(p99, at_most=P99_TARGET_MS) if steady["errors"] == 0 else "MISSED"
        extra = _replies_note(channel, steady, delivered[1], peak=False)
        rows.append(
            Row(
                SCENARIO,
                variant,
                f"p99 latency at {opts.load_fraction:.0%} of peak ({steady['rate']:.0f} msg/s achieved)",
                p99,
                "ms",
                target=f"< {P99_TARGET_MS:.0f} ms",
                verdict=ok,
                note=_latency_note(steady) + (f"; {extra}" if extra else ""),
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
        note=f"{burst['rate']:.0f} msg/s; p50 {lat['p50']:.0f} / p99 {lat['p99']:.0f} ms; "
        f"{burst['filed']} tickets filed; {offers_note(burst)}; {_errors(burst)}",
    )


def _measured(
    svc: Service, workdir: Path, tag: str, opts: Options, channel: str, *, mode: str, rate: float = 0.0
) -> tuple[dict[str, Any], float | None]:
    """One load-generator run on ``channel``; with it, the rate at which the fake platform got
    that channel's messages during the run (None for the web chat)."""
    before = _delivered(svc.fake_url, channel) if channel in PLATFORM_CHANNELS else 0
    started = time.monotonic()
    result = loadgen(
        svc.base_url, workdir, tag, opts, mode=mode, rate=rate, channel=channel, platforms_file=svc.platforms_file
    )
    if channel not in PLATFORM_CHANNELS:
        return result, None
    delivered = (_delivered(svc.fake_url, channel) - before) / max(1e-9, time.monotonic() - started)
    return result, delivered


def _channel_rows(
    svc: Service, workdir: Path, backend: str, channel: str, bare_rate: float | None, opts: Options
) -> list[Row]:
    steady_too = channel == "webchat" or opts.platform_steady
    peak, peak_delivered = _measured(svc, workdir, f"{backend}-{channel}-peak", opts, channel, mode="closed")
    steady, steady_delivered = None, None
    if steady_too:
        if channel in PLATFORM_CHANNELS:
            wait_drained(svc.fake_url)
        steady, steady_delivered = _measured(
            svc,
            workdir,
            f"{backend}-{channel}-steady",
            opts,
            channel,
            mode="open",
            rate=max(1.0, peak["rate"] * opts.load_fraction),
        )
    skipped = "" if steady_too else "quick run: peak only, no 70% latency run"
    return _rows_for(backend, peak, steady, bare_rate, opts, channel, (peak_delivered, steady_delivered), skipped)


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
        if backend not in opts.pipeline_backends:
            rows.append(
                Row(SCENARIO, _backend_label(backend), "-", verdict="not run", note="quick run: the full run has it")
            )
            continue
        platform_channels = [c for c in opts.channels if c in PLATFORM_CHANNELS]
        on_backend = platform_channels if backend in opts.platform_backends else []
        channels = [c for c in opts.channels if c == "webchat"] + on_backend
        try:
            with service(workdir, backend, platforms=bool(on_backend)) as svc:
                for channel in channels:
                    try:
                        rows.extend(_channel_rows(svc, workdir, backend, channel, bare_rate, opts))
                    except Exception as exc:  # one channel's failure must not hide the others' rows
                        rows.append(failed(SCENARIO, _variant(backend, channel), exc))
                    if channel in PLATFORM_CHANNELS and channel != channels[-1]:
                        wait_drained(svc.fake_url)  # this channel's backlog must not load the next one
                if opts.burst_concurrency and "webchat" in channels:
                    burst = loadgen(
                        svc.base_url,
                        workdir,
                        f"{backend}-burst",
                        opts,
                        mode="closed",
                        concurrency=opts.burst_concurrency,
                    )
                    rows.append(_burst_row(backend, burst, opts))
        except Unavailable as exc:
            rows.extend(pending(SCENARIO, _variant(backend, c), str(exc)) for c in channels)
        except Exception as exc:
            rows.append(failed(SCENARIO, f"{', '.join(channels)}; {_backend_label(backend)}", exc))
        for channel in platform_channels:
            if channel not in on_backend:
                rows.append(
                    Row(
                        SCENARIO,
                        _variant(backend, channel),
                        "-",
                        verdict="not run",
                        note="quick run: the platform channels run on SQLite only",
                    )
                )
    for name, reason in NOT_BUILT.items():
        rows.append(pending(SCENARIO, name, reason))
    return rows
