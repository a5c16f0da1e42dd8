"""``python -m bench``: run the scenarios, print one table. Always exits 0 once it has run:
benchmarks report, they never fail a test run (a scenario that breaks gets a "not run" row)."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from bench import machine
from bench.options import BACKENDS, CHANNELS, SCENARIOS, Options
from bench.report import MISSED, Row, failed, markdown_table, text_table

Runner = Callable[[Options, Path], list[Row]]
BUSY_WARNING = 0.2  # share of all CPUs used by others before a scenario that makes its numbers suspect


def _runner(name: str) -> Runner:
    """Imported lazily: a scenario's own dependencies (python-telegram-bot) load only if it runs."""
    if name == "pipeline":
        from bench import pipeline

        return pipeline.run
    if name == "peer":
        from bench import peer

        return peer.run
    if name == "scale":
        from bench import scale

        return scale.run
    if name == "console":
        from bench import console

        return console.run
    if name == "sessions":
        from bench import sessions

        return sessions.run
    if name in ("workers", "burst"):
        from bench import workers

        return workers.run if name == "workers" else workers.run_burst
    if name == "oversight":
        from bench import oversight

        return oversight.run
    from bench import outbox

    return outbox.run


def _csv(choices: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
    def parse(value: str) -> tuple[str, ...]:
        picked = tuple(v.strip() for v in value.split(",") if v.strip())
        unknown = [v for v in picked if v not in choices]
        if unknown or not picked:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return picked

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes and short runs: done within 2 minutes")
    p.add_argument("--scenarios", type=_csv(SCENARIOS), help=f"comma-separated, from: {', '.join(SCENARIOS)}")
    p.add_argument("--backends", type=_csv(BACKENDS), help="for pipeline and scale: sqlite,postgres")
    p.add_argument("--channels", type=_csv(CHANNELS), help=f"for pipeline, from: {', '.join(CHANNELS)}")
    p.add_argument("--tickets", type=int, help="tickets per database in the scale and console scenarios")
    p.add_argument("--sessions", type=int, help="dialog sessions held in the sessions scenario")
    p.add_argument("--duration", type=float, help="seconds of measured load per pipeline run")
    p.add_argument("--concurrency", type=int, help="citizens at once in the closed-loop (peak) run")
    p.add_argument("--burst", type=int, help="citizens at once in the burst run (0: skip; full run: 200)")
    p.add_argument("--peer-conversations", type=int, help="conversations per side in the peer scenario")
    p.add_argument("--loadgen-cpus", help="workers/burst: pin the load generator to these CPUs (taskset list, e.g. 1)")
    p.add_argument("--service-cpus", help="workers/burst: pin the service and its workers to these CPUs (e.g. 0)")
    p.add_argument("--burst-wechat", type=int, help="burst: WeChat citizens at once (full run: 500)")
    p.add_argument("--burst-webchat", type=int, help="burst: web chat citizens at once (full run: 200)")
    p.add_argument("--burst-seconds", type=float, help="burst: seconds the citizens keep writing (full run: 10)")
    p.add_argument(
        "--try-indexes",
        action="store_true",
        help="also time the queries with the indexes proposed in bench/scale.py (scratch database only)",
    )
    p.add_argument("--no-try-indexes", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.add_argument("--workdir", type=Path, help="keep databases and logs here (default: a temp dir, removed)")
    p.add_argument("--json", type=Path, help="also write the rows and the machine as JSON")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each scenario, wait up to SECONDS for other work on the machine to end",
    )
    return p


def options(args: argparse.Namespace) -> Options:
    opts = Options.quick_preset() if args.quick else Options.full()
    changes: dict[str, object] = {}
    for field, value in (
        ("scenarios", args.scenarios),
        ("backends", args.backends),
        ("channels", args.channels),
        ("tickets", args.tickets),
        ("sessions", args.sessions),
        ("duration_s", args.duration),
        ("concurrency", args.concurrency),
        ("burst_concurrency", args.burst),
        ("peer_conversations", args.peer_conversations),
        ("loadgen_cpus", args.loadgen_cpus),
        ("service_cpus", args.service_cpus),
        ("burst_wechat", args.burst_wechat),
        ("burst_webchat", args.burst_webchat),
        ("burst_duration_s", args.burst_seconds),
    ):
        if value is not None:
            changes[field] = value
    if args.backends is not None:  # asked for by name: the pipeline runs on them, even in a quick run
        changes["pipeline_backends"] = args.backends
    if args.try_indexes and not args.no_try_indexes:
        changes["try_indexes"] = True
    return opts.with_(**changes)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every ``with``: servers are stopped


def run(
    opts: Options, workdir: Path, log: Callable[[str], None], wait_quiet: float = 0.0
) -> tuple[list[Row], dict[str, float]]:
    """The rows, and how busy the machine was with other work just before each scenario."""
    rows: list[Row] = []
    busy: dict[str, float] = {}
    for name in SCENARIOS:
        if name not in opts.scenarios:
            continue
        share = machine.wait_until_quiet(wait_quiet, log=log) if wait_quiet > 0 else machine.busy_share(0.5)
        busy[name] = share
        started = time.monotonic()
        log(f"[bench] {name} ... (machine {share:.0%} busy before it)")
        scenario_dir = workdir / name
        scenario_dir.mkdir(parents=True, exist_ok=True)
        try:
            rows.extend(_runner(name)(opts, scenario_dir))
        except Exception as exc:  # one broken scenario must not hide the others' numbers
            rows.append(failed(name, "-", exc))
        log(f"[bench] {name} done in {time.monotonic() - started:.0f} s")
    return rows, busy


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    opts = options(args)
    signal.signal(signal.SIGTERM, _terminate)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wz-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    host = machine.describe()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        rows, busy = run(opts, workdir, log, args.wait_quiet)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    mode = "quick" if opts.quick else "full"
    print(
        f"Wenzheng benchmarks ({mode}), {host['date']}: {host['cpus']} CPUs ({host['cpu']}), {host['memory']}, "
        f"Python {host['python']}, {elapsed:.0f} s"
    )
    print(markdown_table(rows) if args.markdown else text_table(rows))
    noisy = {name: share for name, share in busy.items() if share > BUSY_WARNING}
    if noisy:
        print(
            "\nWARNING: other work was using the machine before "
            + ", ".join(f"{name} ({share:.0%} of all CPUs)" for name, share in noisy.items())
            + ": those numbers are noisy."
        )
    missed = [r for r in rows if r.verdict == MISSED]
    print(
        f"\n{len(missed)} target(s) missed"
        + (": " + "; ".join(f"{r.variant} / {r.metric}" for r in missed) if missed else "")
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": host, "mode": mode, "seconds": elapsed, "rows": [r.as_dict() for r in rows]},
                ensure_ascii=False,
                indent=1,
            )
        )
