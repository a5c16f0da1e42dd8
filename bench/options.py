"""What a run does and how long it may take: the full run and ``--quick`` as presets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

SCENARIOS = ("pipeline", "peer", "scale", "sessions", "outbox")
BACKENDS = ("sqlite", "postgres")


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
    # peer
    peer_conversations: int = 1_000
    # scale
    tickets: int = 1_000_000
    query_samples: int = 200
    try_indexes: bool = True
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
            burst_concurrency=0,
            warmup_s=1.0,
            duration_s=5.0,
            peer_conversations=150,
            tickets=50_000,
            query_samples=60,
            sessions=100_000,
        )

    def with_(self, **changes: object) -> Options:
        return replace(self, **changes)  # type: ignore[arg-type]
