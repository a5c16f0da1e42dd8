"""Prometheus metrics, in a registry owned by the app (no process-global collectors), so two
apps in one test process never share counts.

With several workers (``wenzheng serve --workers N``) a scrape of ``/metrics`` reaches any one of
them, so each would report only its own share. The supervisor then gives the workers a shared
directory (``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's multiprocess mode): every worker writes
its values there and ``render`` adds up all of them, the counts of workers that died included.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    def __init__(self, multiprocess_dir: str | None = None) -> None:
        # Set by the supervisor for its workers (bot/cli/workers.py); absent for one process.
        self._shared_dir = multiprocess_dir or os.environ.get(MULTIPROCESS_ENV) or None
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages_in = Counter(
            "wenzheng_messages_in",
            "Inbound messages by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.messages_out = Counter(
            "wenzheng_messages_out",
            "Outbound messages by channel and result",
            ["channel", "result"],
            registry=self.registry,
        )
        self.dialog_seconds = Histogram(
            "wenzheng_dialog_seconds",
            "Time from receipt to replies, per inbound message",
            ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "wenzheng_outbox_depth",
            "Outbox rows by status",
            ["status"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",  # every worker reads the same table: the latest reading
        )
        # Per department, refreshed every minute (bot.console_ops); like the outbox depth, every
        # worker reads the same tables, so the latest reading is the figure.
        self.department_open = Gauge(
            "wenzheng_department_open_tickets",
            "Open tickets by department",
            ["department"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.department_overdue = Gauge(
            "wenzheng_department_overdue_tickets",
            "Open tickets past a deadline, by department",
            ["department"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.department_unstaffed = Gauge(
            "wenzheng_department_unstaffed",
            "1 when a department that owns topics has no active staff",
            ["department"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.tickets_filed = Counter(
            "wenzheng_tickets_filed", "Tickets filed by channel", ["channel"], registry=self.registry
        )

    def render(self) -> bytes:
        if self._shared_dir is None:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=self._shared_dir)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)
