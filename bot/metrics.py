"""Prometheus metrics, in a registry owned by the app (no process-global collectors), so two
apps in one test process never share counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
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
        self.outbox_depth = Gauge("wenzheng_outbox_depth", "Outbox rows by status", ["status"], registry=self.registry)
        # Per department, refreshed every minute (bot.console_ops).
        self.department_open = Gauge(
            "wenzheng_department_open_tickets", "Open tickets by department", ["department"], registry=self.registry
        )
        self.department_overdue = Gauge(
            "wenzheng_department_overdue_tickets",
            "Open tickets past a deadline, by department",
            ["department"],
            registry=self.registry,
        )
        self.department_unstaffed = Gauge(
            "wenzheng_department_unstaffed",
            "1 when a department that owns topics has no active staff",
            ["department"],
            registry=self.registry,
        )
        self.tickets_filed = Counter(
            "wenzheng_tickets_filed", "Tickets filed by channel", ["channel"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
