"""What a run does and how long it may take: the full run and ``--quick`` as presets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

SCENARIOS = ("pipeline", "peer", "scale", "console", "sessions", "outbox", "workers", "burst", "oversight")
BACKENDS = ("sqlite", "postgres")
CHANNELS = ("webchat", "wechat", "weibo", "telegram")  # Telegram last: its outbox backlog drains slowest


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: tuple[str, ...] = SCENARIOS
    backends: tuple[str, ...] = BACKENDS
    quick: bool = False
    workdir: Path | None = None
    # pipeline
    concurrency: int = 50
    warmup_s: float = 3.0
    duration_s: float = 20.0
    load_fraction: float = 0.7  # the latency target is judged at this share of the peak rate
    burst_concurrency: int = 200  # a closed-loop run with this many citizens at once (0: skip)
    pipeline_backends: tuple[str, ...] = BACKENDS  # of ``backends``: where the pipeline runs at all
    channels: tuple[str, ...] = CHANNELS  # driven through their own endpoints (the burst: web chat only)
    platform_backends: tuple[str, ...] = BACKENDS  # backends the platform channels run on (of ``backends``)
    platform_steady: bool = True  # also the latency run at 70% of peak for the platform channels
    reply_timeout_s: float = 30.0  # longest a citizen waits for a reply that comes through a platform API
    # workers and burst (bench/workers.py): PostgreSQL + Redis, ``wenzheng serve --workers N``
    loadgen_cpus: str | None = None  # taskset CPU list for the load generator (e.g. "1"); None: unpinned
    service_cpus: str | None = None  # taskset CPU list for the service and its workers; None: unpinned
    burst_wechat: int = 500
    burst_webchat: int = 200
    burst_duration_s: float = 10.0
    burst_workers: int = 2
    # peer
    peer_conversations: int = 1_000
    # scale
    tickets: int = 1_000_000
    query_samples: int = 200
    try_indexes: bool = False  # the indexes it proposed are in the product since migration 0004
    # sessions
    sessions: int = 100_000

    @staticmethod
    def full() -> Options:
        return Options()

    @staticmethod
    def quick_preset() -> Options:
        """Finishes within 2 minutes on the 2-core machine (measured: see BENCHMARKS.md)."""
        return Options(
            quick=True,
            scenarios=SCENARIOS[:5],  # workers and burst start PostgreSQL several times: by name only
            burst_duration_s=5.0,
            burst_concurrency=0,
            pipeline_backends=("sqlite",),  # PostgreSQL + Redis in the full run: within the 2 minutes
            platform_backends=("sqlite",),  # and peak only
            platform_steady=False,
            warmup_s=1.0,
            duration_s=4.0,
            peer_conversations=100,
            tickets=50_000,
            query_samples=60,
            sessions=100_000,
        )

    def with_(self, **changes: object) -> Options:
        return replace(self, **changes)  # type: ignore[arg-type]
