"""Scenario 5: outbox drain through the real Telegram channel against a fake Bot API that enforces
Telegram's flood limits (30 messages/s overall, 1 message/s per chat).

The fake (``python -m bench.outbox --fake-port N``, its own process on 127.0.0.1) answers
``sendMessage`` like the Bot API and answers 429 with ``parameters.retry_after`` (whole seconds, as
Telegram does) to any message that would be the 31st accepted within one second, or that would
reach a chat less than 1.000 s after the chat's previous accepted message. It records every
attempt with its arrival time (``CLOCK_MONOTONIC``, shared with this process).

This process builds the real service (``bot.app.build_services`` + ``prepare_database`` on a
temporary SQLite file, the shipped config with ``channels.telegram`` enabled in webhook mode and
pointed at the fake), loads one citizen, Telegram identity and ticket per chat, queues the pushes
with the real ``Outbox.enqueue``, then runs the real ``OutboxWorker.run_forever`` until no row is
pending or sending (bounded in time). Each chat gets the five status pushes of one inquiry's life,
in order: accepted, taken up, answered, rating prompt (three inline buttons), closed. The chats'
pushes are interleaved at random (seeded), like an outbox that filled while the worker was away.

Measured: time to drain, 429s received, messages lost (every row ``sent``; every row's text
arrived exactly once, at the message id the service recorded for it), duplicates, the achieved
rate against 30/s, and the gaps between messages to one chat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import math
import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import yaml
from aiohttp import web
from sqlalchemy import func, insert, select

from bench.appconfig import sqlite_url, write_config
from bench.fake_platforms import telegram_params
from bench.options import Options
from bench.procs import LOOPBACK, loopback_server
from bench.report import Row, failed, judge
from bench.stats import Summary

if TYPE_CHECKING:  # the fake's process never loads the service
    from bot.config import AppConfig
    from bot.services import Services

SCENARIO = "outbox"
TOKEN = "123456789:AAE_bench"
BOT_ID = TOKEN.split(":", 1)[0]
SECRET_TOKEN = "bench_secret_token"
OVERALL_PER_SECOND = 30
PER_CHAT_INTERVAL = 1.0
PUSHES_PER_CHAT = 5
FULL_PUSHES = 10_000
QUICK_PUSHES = 300  # 60 chats x 5: about 12 s at the limit, inside --quick's 2 minutes
FIRST_CHAT = 7_100_000_000  # private chats have positive ids
SEED = 20261122
MONITOR_EVERY = 0.5  # seconds between two looks at the outbox while it drains


# --- the fake Bot API (its own process) ------------------------------------------------------------


@dataclass
class FakeBotAPI:
    """``sendMessage`` with Telegram's flood limits; everything else answers ``ok`` with ``True``."""

    token: str
    overall_per_second: int = OVERALL_PER_SECOND
    per_chat_interval: float = PER_CHAT_INTERVAL
    calls: list[tuple[float, str, int, int, str]] = field(default_factory=list)  # t, chat, status, msg id, text
    refusals: list[tuple[float, str, str, float]] = field(default_factory=list)  # t, chat, which limit, short by
    _accepted: deque[float] = field(default_factory=deque)  # arrival times of accepted messages, last second
    _last: dict[str, float] = field(default_factory=dict)  # chat -> arrival of its last accepted message
    _next_id: dict[str, int] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/_bench/health", self._health)
        app.router.add_get("/_bench/calls", self._calls)
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _calls(self, request: web.Request) -> web.Response:
        return web.json_response({"calls": self.calls, "refusals": self.refusals})

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await telegram_params(request)
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        now = time.monotonic()
        chat = str(params.get("chat_id", ""))
        text = str(params.get("text", ""))
        wait, why = self._wait(chat, now)
        if wait > 0:
            self.calls.append((now, chat, 429, 0, text))
            self.refusals.append((now, chat, why, wait))
            retry_after = max(1, math.ceil(wait))
            return self._error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        self._accepted.append(now)
        self._last[chat] = now
        message_id = self._next_id.get(chat, 0) + 1
        self._next_id[chat] = message_id
        self.calls.append((now, chat, 200, message_id, text))
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "private", "first_name": "市民"},
            "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "问政"},
            "text": text,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return web.json_response({"ok": True, "result": message})

    def _wait(self, chat: str, now: float) -> tuple[float, str]:
        """Seconds until this message would be within both limits (0: send it), and which limit."""
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        wait, why = 0.0, ""
        if len(self._accepted) >= self.overall_per_second:
            wait, why = self._accepted[-self.overall_per_second] + 1.0 - now, "overall"
        last = self._last.get(chat)
        if last is not None and now - last < self.per_chat_interval:
            wait, why = max(wait, last + self.per_chat_interval - now), "chat" if not why else "both"
        return wait, why

    @staticmethod
    def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)


def serve_fake(port: int) -> None:
    web.run_app(FakeBotAPI(TOKEN).app(), host=LOOPBACK, port=port, print=None, access_log=None)


# --- what is queued ---------------------------------------------------------------------------------

ANSWERS = (
    "经现场核查，您反映的路灯故障已于今日修复，今后我们将加强巡查，感谢您的监督。",
    "您反映的施工噪音问题，执法人员已到现场调查，责令施工单位夜间22时后停止高噪声作业，并将持续跟踪。",
    "经查，该超市确有部分过期食品在售，市场监管部门已依法立案查处，相关商品已下架销毁。",
    "您所在小区停水系管网抢修所致，供水已于昨日18时恢复，我们已要求供水企业今后提前发布停水通知。",
)


@dataclass(frozen=True, slots=True)
class Push:
    chat: int  # index, 0-based
    step: int  # 0..PUSHES_PER_CHAT-1, the order the chat must receive them in
    text: str
    choices: tuple[tuple[str, str], ...] = ()


def chat_id(index: int) -> str:
    return str(FIRST_CHAT + index)


def ticket_number(index: int) -> str:
    return f"WZ20261122-{index + 1:05d}"


def lifecycle(index: int, department: str) -> list[Push]:
    """One inquiry's status pushes, as ``tickets/notices.py`` words them (the texts' catalogue)."""
    from dialogs.texts import text

    number = ticket_number(index)
    return [
        Push(index, 0, text("push_accepted", "zh", number=number, department=department, answer_due="12月3日")),
        Push(index, 1, text("push_assigned", "zh", number=number, department=department)),
        Push(
            index,
            2,
            text("push_answered", "zh", department=department, answer=ANSWERS[index % len(ANSWERS)], number=number),
        ),
        Push(
            index,
            3,
            text("rating_prompt", "zh", number=number),
            tuple((f"rate:{number}:{n}", text(f"rate_{n}", "zh")) for n in (1, 2, 3)),
        ),
        Push(index, 4, text("push_closed", "zh", number=number)),
    ]


def interleave(chats: int, departments: list[str], seed: int = SEED) -> list[Push]:
    """Every chat's pushes in its own order, the chats shuffled together (seeded)."""
    queues = [deque(lifecycle(i, departments[i % len(departments)])) for i in range(chats)]
    turns = [i for i in range(chats) for _ in range(PUSHES_PER_CHAT)]
    random.Random(seed).shuffle(turns)
    return [queues[i].popleft() for i in turns]


# --- the drain (this process) -------------------------------------------------------------------------


@dataclass
class Drain:
    pushes: int
    chats: int
    enqueue_s: float = math.nan
    finished: bool = False  # every row left pending/sending before the time limit
    statuses: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[float, str, int, int, str]] = field(default_factory=list)
    refusals: list[tuple[float, str, str, float]] = field(default_factory=list)
    progress: list[tuple[float, float, float, float]] = field(default_factory=list)  # t, sent, deferred, retried
    started_at: float = 0.0  # monotonic, the worker's start
    expected: dict[int, tuple[str, str, int]] = field(default_factory=dict)  # row id -> chat, text, step
    platform_ids: dict[int, str] = field(default_factory=dict)  # row id -> message id the service recorded
    metrics: dict[str, float] = field(default_factory=dict)
    warnings: int = 0
    first_warning: str = ""


class _Counting(logging.Handler):
    """Counts the service's warnings during the drain (and keeps them in the scenario's log)."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = ""
        self._file = logging.FileHandler(path, encoding="utf-8")
        self._file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if not self.first:
            self.first = record.getMessage()[:120]
        self._file.emit(record)

    def close(self) -> None:
        self._file.close()
        super().close()


@contextlib.contextmanager
def _counting_warnings(path: Path) -> Iterator[_Counting]:
    handler = _Counting(path)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        handler.close()


def _config(workdir: Path, api_base_url: str) -> AppConfig:
    """The shipped config on a temp SQLite file, with Telegram enabled (webhook mode) on the fake."""
    from bot.config import load_config

    for stale in ("outbox.db", "outbox.db-wal", "outbox.db-shm"):  # a kept --workdir from an earlier run
        (workdir / stale).unlink(missing_ok=True)
    path = write_config(workdir, sqlite_url(workdir, "outbox.db"))
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    channels = dict(data.get("channels") or {})
    channels["telegram"] = {
        "enabled": True,
        "token": TOKEN,
        "secret_token": SECRET_TOKEN,
        "api_base_url": api_base_url,
        "mode": "webhook",
    }
    data["channels"] = channels
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path, environ={})


async def _seed(services: Services, chats: int, now: datetime) -> dict[int, int]:
    """One citizen, Telegram identity (wrote to us two hours ago) and open ticket per chat: the
    state the pushes are about. Bulk-inserted; the ticket id per chat index."""
    from storage.models import Citizen, Identity, Ticket
    from storage.upsert import table_of

    departments = [d.code for d in services.config.departments]
    wrote = now - timedelta(hours=2)
    citizens = [{"created_at": wrote, "locale": "zh"} for _ in range(chats)]
    async with services.db.begin() as conn:
        first_citizen = int((await conn.execute(select(func.coalesce(func.max(Citizen.id), 0)))).scalar_one()) + 1
        await conn.execute(insert(table_of(Citizen)), citizens)
        identities = [
            {
                "citizen_id": first_citizen + i,
                "channel": "telegram",
                "account": BOT_ID,
                "chat_id": chat_id(i),
                "reachable": True,
                "created_at": wrote,
                "last_inbound_at": wrote,
            }
            for i in range(chats)
        ]
        await conn.execute(insert(table_of(Identity)), identities)
        found = await conn.execute(select(Identity.chat_id, Identity.id).where(Identity.channel == "telegram"))
        identity_of = {str(c): int(i) for c, i in found.all()}
        tickets: list[dict[str, Any]] = [
            {
                "number": ticket_number(i),
                "intake_key": f"bench-outbox-{i:08d}",
                "citizen_id": first_citizen + i,
                "identity_id": identity_of[chat_id(i)],
                "type_code": "complaint",
                "topic_code": "urban",
                "province": "山东省",
                "city": "青岛市",
                "district": "市南区",
                "address": "香港中路",
                "lat": None,
                "lon": None,
                "details": "路灯坏了一个星期了，晚上很危险",
                "media": [],
                "phone": None,
                "locale": "zh",
                "status": "accepted",
                "department_code": departments[i % len(departments)],
                "created_at": wrote,
                "updated_at": wrote,
                "respond_due_at": wrote + timedelta(hours=8),
                "answer_due_at": wrote + timedelta(days=9),
                "responded_at": None,
                "answered_at": None,
                "closed_at": None,
                "rework_count": 0,
                "escalated": False,
            }
            for i in range(chats)
        ]
        await conn.execute(insert(table_of(Ticket)), tickets)
        numbered = await conn.execute(select(Ticket.number, Ticket.id).where(Ticket.intake_key.like("bench-outbox-%")))
        ticket_of = {str(n): int(i) for n, i in numbered.all()}
    return {i: ticket_of[ticket_number(i)] for i in range(chats)}


async def _enqueue(services: Services, pushes: list[Push], tickets: dict[int, int], result: Drain) -> None:
    """``Outbox.enqueue`` for every push, 100 per transaction (in the service each push is written
    by the transaction that caused it; the rows are the same)."""
    from adapters.base import Choice, ConversationRef, Outbound, Purpose

    started = time.monotonic()
    for start in range(0, len(pushes), 100):
        async with services.sessions.begin() as session:
            now = services.clock()
            for push in pushes[start : start + 100]:
                ref = ConversationRef("telegram", BOT_ID, chat_id(push.chat))
                message = Outbound(
                    push.text,
                    choices=tuple(Choice(c, label) for c, label in push.choices),
                    purpose=Purpose.RATING if push.choices else Purpose.STATUS,
                    ticket_number=ticket_number(push.chat),
                )
                row_id = await services.outbox.enqueue(session, ref, message, now, ticket_id=tickets[push.chat])
                result.expected[row_id] = (chat_id(push.chat), push.text, push.step)
    result.enqueue_s = time.monotonic() - started


async def _unfinished(services: Services) -> int:
    from storage.models import OutboxMessage

    async with services.sessions() as session:
        stmt = select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
        return int((await session.execute(stmt)).scalar_one())


async def _drain(services: Services, limit_s: float, result: Drain) -> None:
    """The service's own worker loop until nothing is pending or sending, or ``limit_s`` passed."""
    stop = asyncio.Event()
    result.started_at = time.monotonic()
    task = asyncio.create_task(services.worker.run_forever(stop, services.config.outbox.poll_seconds))
    deadline = result.started_at + limit_s
    try:
        registry = services.metrics.registry
        while time.monotonic() < deadline and not task.done():
            await asyncio.sleep(MONITOR_EVERY)
            sent, deferred, retried = (
                registry.get_sample_value("wenzheng_messages_out_total", {"channel": "telegram", "result": r}) or 0.0
                for r in ("sent", "deferred", "retry")
            )
            result.progress.append((time.monotonic() - result.started_at, sent, deferred, retried))
            if await _unfinished(services) == 0:
                result.finished = True
                break
    finally:
        stop.set()
        services.outbox.wake()
        try:
            await asyncio.wait_for(task, 30.0)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _collect(services: Services, result: Drain) -> None:
    from storage.models import OutboxMessage, SentMessage

    async with services.sessions() as session:
        by_status = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        result.statuses = {str(s): int(n) for s, n in by_status.all()}
        sent = await session.execute(select(SentMessage.outbox_id, SentMessage.platform_id))
        result.platform_ids = {int(o): str(p) for o, p in sent.all()}
    registry = services.metrics.registry
    for outcome in ("sent", "deferred", "retry", "dead", "held"):
        value = registry.get_sample_value("wenzheng_messages_out_total", {"channel": "telegram", "result": outcome})
        result.metrics[outcome] = float(value or 0.0)


async def _fetch_calls(base_url: str, result: Drain) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url}/_bench/calls", timeout=aiohttp.ClientTimeout(total=60)) as answer,
    ):
        data = await answer.json()
    result.calls = [(float(t), str(c), int(s), int(m), str(x)) for t, c, s, m, x in data["calls"]]
    result.refusals = [(float(t), str(c), str(w), float(by)) for t, c, w, by in data["refusals"]]


async def _measure(base_url: str, workdir: Path, pushes: int, result: Drain, log: _Counting) -> None:
    from bot.app import build_services, prepare_database, utcnow

    config = _config(workdir, base_url)
    services = build_services(config, utcnow)
    try:
        await prepare_database(services)
        departments = [d.name.zh for d in config.departments]
        plan = interleave(result.chats, departments)
        tickets = await _seed(services, result.chats, utcnow())
        await _enqueue(services, plan, tickets, result)
        limit_s = 3.0 * pushes / OVERALL_PER_SECOND + 60.0
        await _drain(services, limit_s, result)
        await _collect(services, result)
    finally:
        for platform in services.platforms.values():
            close = getattr(platform, "close", None)
            if close is not None:
                await close()
        if services.webchat is not None:
            await services.webchat.close()
        await services.staffweb.close()
        await services.store.close()
        await services.dispose_databases()
    await _fetch_calls(base_url, result)
    result.warnings, result.first_warning = log.count, log.first


def fake_api(workdir: Path) -> contextlib.AbstractContextManager[str]:
    return loopback_server("bench.outbox", "--fake-port", "/_bench/health", workdir / "fake-telegram.log")


# --- analysis ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Findings:
    accepted: int
    throttled: int  # 429 answers
    lost: int  # rows never delivered (not sent, or their text never accepted by the fake)
    duplicates: int  # accepted copies beyond the first
    mismatched: int  # the service recorded a message id whose text is another row's
    unexpected: int  # accepted messages that match no row
    out_of_order: int  # chats whose pushes arrived in another order than queued
    drain_s: float  # from the worker's start to the last message accepted by the fake
    rate: float  # accepted messages per second over the drain
    peak_1s: int  # most messages accepted within any one second
    steady: float  # median accepted per second over full 10-second windows
    gaps: Summary  # seconds between consecutive messages to one chat
    min_gap: float
    per_chat_s: Summary  # first to last message of a chat


def analyse(result: Drain) -> Findings:
    calls = [c for c in result.calls if c[0] >= result.started_at]
    accepted = [c for c in calls if c[2] == 200]
    throttled = sum(1 for c in calls if c[2] == 429)
    copies = Counter((chat, text) for _, chat, _, _, text in accepted)
    by_message = {(chat, str(mid)): text for _, chat, _, mid, text in accepted}
    expected_keys = {(chat, text) for chat, text, _ in result.expected.values()}
    lost = mismatched = 0
    for row_id, (chat, text, _) in result.expected.items():
        if copies[(chat, text)] == 0:
            lost += 1
            continue
        recorded = result.platform_ids.get(row_id)
        if recorded is None or by_message.get((chat, recorded)) != text:
            mismatched += 1
    not_sent = result.pushes - result.statuses.get("sent", 0)
    lost = max(lost, not_sent)
    duplicates = sum(n - 1 for n in copies.values() if n > 1)
    unexpected = sum(n for key, n in copies.items() if key not in expected_keys)
    step_of = {(chat, text): step for chat, text, step in result.expected.values()}
    arrivals: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for t, chat, _, _, text in accepted:
        arrivals[chat].append((t, step_of.get((chat, text), -1)))
    gaps: list[float] = []
    spans: list[float] = []
    out_of_order = 0
    for seen in arrivals.values():
        seen.sort()
        steps = [s for _, s in seen]
        if steps != sorted(steps):
            out_of_order += 1
        gaps += [b[0] - a[0] for a, b in itertools.pairwise(seen)]
        spans.append(seen[-1][0] - seen[0][0])
    times = sorted(c[0] for c in accepted)
    peak = 0
    low = 0
    for high, t in enumerate(times):
        while times[low] <= t - 1.0:
            low += 1
        peak = max(peak, high - low + 1)
    drain_s = (times[-1] - result.started_at) if times else math.nan
    windows = Counter(int((t - result.started_at) // 10) for t in times)
    full = sorted(windows[w] / 10.0 for w in range(int(drain_s // 10))) if times else []
    steady = full[len(full) // 2] if full else math.nan
    return Findings(
        accepted=len(accepted),
        throttled=throttled,
        lost=lost,
        duplicates=duplicates,
        mismatched=mismatched,
        unexpected=unexpected,
        out_of_order=out_of_order,
        drain_s=drain_s,
        rate=len(accepted) / drain_s if times and drain_s > 0 else math.nan,
        peak_1s=peak,
        steady=steady,
        gaps=Summary.of(gaps),
        min_gap=min(gaps) if gaps else math.nan,
        per_chat_s=Summary.of(spans),
    )


def rows(result: Drain, found: Findings) -> list[Row]:
    n = result.pushes
    variant = (
        f"drain {n:,} pushes ({result.chats:,} chats x {PUSHES_PER_CHAT}), SQLite, "
        "fake Telegram API (30/s, 1/s per chat)"
    )
    minimum = n / OVERALL_PER_SECOND
    metrics = result.metrics
    worker = (
        f"worker: {metrics.get('sent', 0):.0f} sent, {metrics.get('deferred', 0):.0f} deferred by our limiter, "
        f"{metrics.get('retry', 0):.0f} retried, {metrics.get('dead', 0):.0f} dead"
    )
    timed_out = "" if result.finished else "; STOPPED at the time limit with rows left"
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(result.statuses.items()))
    return [
        Row(
            SCENARIO,
            variant,
            "achieved msgs/s (limit 30/s overall)",
            found.rate,
            "msg/s",
            ratio=found.rate / OVERALL_PER_SECOND,
            baseline="30/s limit",
            note=f"peak {found.peak_1s} in any 1 s, median 10-s window {found.steady:.1f}/s; {worker}{timed_out}",
        ),
        Row(
            SCENARIO,
            variant,
            "time to drain",
            found.drain_s,
            "s",
            ratio=minimum / found.drain_s if found.drain_s > 0 else None,
            baseline=f"{minimum:.0f} s at 30/s",
            note=f"queued in {result.enqueue_s:.1f} s with Outbox.enqueue; a chat's 5 pushes took "
            f"p50 {found.per_chat_s.p50:.0f} / max {found.per_chat_s.max:.0f} s first to last",
        ),
        Row(
            SCENARIO,
            variant,
            "429s received",
            float(found.throttled),
            "",
            target="0",
            verdict=judge(float(found.throttled), at_most=1.0),
            note=f"{found.accepted:,} messages accepted; {result.warnings} service warnings"
            + (f" (first: {result.first_warning})" if result.first_warning else ""),
        ),
        Row(
            SCENARIO,
            variant,
            "messages lost",
            float(found.lost),
            "",
            target="0 (must)",
            verdict=judge(float(found.lost + found.mismatched), at_most=1.0),
            note=f"outbox rows: {statuses}; {found.mismatched} recorded message ids not matching their text; "
            f"{found.unexpected} unexpected messages",
        ),
        Row(
            SCENARIO,
            variant,
            "duplicates",
            float(found.duplicates),
            "",
            target="0 (must)",
            verdict=judge(float(found.duplicates), at_most=1.0),
        ),
        Row(
            SCENARIO,
            variant,
            "chats that got their pushes out of order",
            float(found.out_of_order),
            "",
            target="0",
            verdict=judge(float(found.out_of_order), at_most=1.0),
            note=f"of {result.chats:,} chats; order = the order the pushes were queued in (accepted, taken up, "
            "answered, rating prompt, closed)",
        ),
        Row(
            SCENARIO,
            variant,
            "gap between messages to one chat, min",
            found.min_gap,
            "s",
            target=">= 1 s",
            verdict=judge(found.min_gap, at_least=PER_CHAT_INTERVAL),
            note=f"p50 {found.gaps.p50:.1f} / p95 {found.gaps.p95:.1f} / max {found.gaps.max:.1f} s "
            f"over {found.gaps.count:,} gaps (arrival at the fake)",
        ),
    ]


def run(opts: Options, workdir: Path) -> list[Row]:
    pushes = QUICK_PUSHES if opts.quick else FULL_PUSHES
    result = Drain(pushes=pushes, chats=pushes // PUSHES_PER_CHAT)
    variant = f"drain {pushes:,} pushes, fake Telegram API (30/s, 1/s per chat)"
    try:
        with fake_api(workdir) as base, _counting_warnings(workdir / "service-warnings.log") as log:
            asyncio.run(_measure(base, workdir, pushes, result, log))
        found = analyse(result)
    except Exception as exc:
        return [failed(SCENARIO, variant, exc)]
    started = result.started_at
    (workdir / "outbox-result.json").write_text(
        json.dumps(
            {
                "pushes": pushes,
                "chats": result.chats,
                "drain_s": found.drain_s,
                "enqueue_s": result.enqueue_s,
                "statuses": result.statuses,
                "metrics": result.metrics,
                "findings": {k: getattr(found, k) for k in ("accepted", "throttled", "lost", "duplicates", "rate")},
                "accepted_per_second": sorted(
                    Counter(int(c[0] - started) for c in result.calls if c[2] == 200).items()
                ),
                "refusals": [(round(t - started, 4), chat, why, round(by, 4)) for t, chat, why, by in result.refusals],
                "progress": result.progress,
                "calls": [(round(t - started, 4), chat, status, mid) for t, chat, status, mid, _ in result.calls],
            },
            ensure_ascii=False,
        )
    )
    return rows(result, found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description="the fake Telegram Bot API")
    parser.add_argument("--fake-port", type=int, required=True)
    args = parser.parse_args(argv)
    serve_fake(args.fake_port)


if __name__ == "__main__":
    main()
