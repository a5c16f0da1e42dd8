"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def describe() -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": f"{_memory_gib():.1f} GiB",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def load_average() -> float:
    try:
        with open("/proc/loadavg", encoding="ascii") as info:
            return float(info.read().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_share(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over the next ``seconds`` (0..1): other people's work on the machine."""
    try:
        busy0, total0 = _cpu_times()
        time.sleep(seconds)
        busy1, total1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return float("nan")
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_until_quiet(max_seconds: float, threshold: float = 0.15, log: Callable[[str], None] = print) -> float:
    """Wait (at most ``max_seconds``) until the CPUs are less than ``threshold`` busy; the last share seen."""
    deadline = time.monotonic() + max_seconds
    share = busy_share()
    while share > threshold and time.monotonic() < deadline:
        log(f"[bench] machine {share:.0%} busy with other work; waiting")
        time.sleep(4.0)
        share = busy_share()
    return share
