"""Scenario 3: our dispatcher + dialog engine against python-telegram-bot's ConversationHandler,
in process, on the same conversations (``bench.conversation``), one update at a time.

Three timings, each over the same citizens and turns, with inputs built before the clock starts:

* PTB: ``Application.process_update`` with the handlers in ``bench.ptb_intake`` (in-memory state).
* ours, full path: ``services.dispatcher.handle(Inbound)`` on the embedded defaults (SQLite file,
  in-memory session store): dedupe, store, dialog, ticket, history, replies, all committed.
* ours, engine only: ``DialogEngine.step`` with the state round-tripped through the in-memory
  session store as JSON and an in-memory ``IntakePort`` (``bench.peer_desk``): what PTB does.

Citizens share eight first messages, so 提交 often meets 已有人反映 (the same matter from another
citizen) on every side: the service's search on the full path, the same text similarity over the
in-memory desk on the other two (each side its own desk). Every side's citizens answer "2"
(file anyway, typed), one more update, so each side files every conversation and the sides
process the same updates; the offers each side made are counted and shown.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.base import ConversationRef, Inbound, MessageKind, Outbound
from bench.appconfig import load, sqlite_url, write_config
from bench.conversation import FOLLOW, TURNS, Turn, find_number, turn
from bench.options import Options
from bench.peer_desk import MemoryDesk, MemoryPort, deadline_clock
from bench.report import Row, judge
from bot.app import build_services, prepare_database
from bot.services import Services
from dialogs.classifier import load_newest
from dialogs.extraction import Extractor
from dialogs.state import SessionState
from storage.sessions import MemorySessionStore

SCENARIO = "peer"
RATIO_TARGET = 2.0  # the engine alone (#7)
DISPATCHER_RATIO_TARGET = 1.0  # dispatcher + engine, storing durably (#14)
CONCURRENT = 50  # the second run: as many citizens in flight as the pipeline's closed loop
MAX_SECONDS = 300.0  # a hard stop for one timing, whatever the count


@dataclass(frozen=True, slots=True)
class Timing:
    updates: int
    seconds: float
    filed: int = 0  # conversations whose 提交 got a number back: proof the side did the work
    replies: int = 0

    rounds: tuple[float, ...] = ()  # the rate of each interleaved round
    cpu_seconds: float = 0.0  # process CPU time over the same spans: robust on a busy machine
    offered: int = 0  # conversations whose first message met 已有人反映 (answered "2": one more update)

    @property
    def cpu_rate(self) -> float:
        return self.updates / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def __add__(self, other: Timing) -> Timing:
        return Timing(
            self.updates + other.updates,
            self.seconds + other.seconds,
            self.filed + other.filed,
            self.replies + other.replies,
            (*self.rounds, other.rate),
            self.cpu_seconds + other.cpu_seconds,
            self.offered + other.offered,
        )


ANSWER_OFFER = TURNS  # the step index of the answer to 已有人反映, between turns 0 and 1
FILE_ANYWAY = "2"  # typed, as on a text channel: the offer's second choice, 仍要单独提交 (the summary)


@dataclass(frozen=True, slots=True)
class Answer:
    """What one update got back: the texts, and the ids of the choices they offered."""

    texts: list[str]
    choices: tuple[str, ...] = ()


def step(citizen: int, index: int, number: str | None) -> Turn:
    """Turn ``index`` of the conversation, or (``ANSWER_OFFER``) the answer to 已有人反映."""
    return Turn(text=FILE_ANYWAY) if index == ANSWER_OFFER else turn(citizen, index, number)


# A side processes one turn for many citizens: given (citizen, step index, number), it returns a
# prepared input; ``run`` processes it and returns what came back.
Prepare = Callable[[int, int, str | None], Any]
Process = Callable[[Any], Awaitable[Answer]]


async def _timed(conversations: int, offset: int, prepare: Prepare, process: Process, concurrency: int = 1) -> Timing:
    """All citizens' turn 0, then the answers of those offered 已有人反映 (before the summary), then
    all citizens' turn 1 (提交), turn 2, ...; only ``process`` is timed. ``concurrency``: how many citizens'
    updates are in flight at once (1: one after another)."""
    numbers: dict[int, str | None] = dict.fromkeys(range(offset, offset + conversations))
    offered: set[int] = set()
    elapsed = cpu = 0.0
    updates = replies_seen = 0
    hard_stop = time.monotonic() + MAX_SECONDS
    for index in (0, ANSWER_OFFER, *range(1, TURNS)):
        citizens = sorted(offered) if index == ANSWER_OFFER else list(numbers)
        inputs = [(c, prepare(c, index, numbers[c])) for c in citizens]
        done = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        gate = asyncio.Semaphore(concurrency)

        async def one(citizen: int, prepared: Any, index: int = index, gate: asyncio.Semaphore = gate) -> None:
            nonlocal done, replies_seen
            if time.monotonic() > hard_stop:
                return
            async with gate:
                answer = await process(prepared)
            replies_seen += len(answer.texts)
            done += 1
            if index == 0 and FOLLOW in answer.choices:
                offered.add(citizen)  # the number shown is the other citizen's: 提交 brings ours
            elif index == 1:
                numbers[citizen] = find_number(answer.texts)

        if concurrency == 1:
            for citizen, prepared in inputs:
                await one(citizen, prepared)
        else:
            await asyncio.gather(*(one(citizen, prepared) for citizen, prepared in inputs))
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        updates += done
        if time.monotonic() > hard_stop:
            break
    filed = len({n for n in numbers.values() if n is not None})  # each its own: never the offered one
    return Timing(updates, elapsed, filed, replies_seen, (), cpu, len(offered))


def _inbound(citizen: int, index: int, number: str | None, prefix: str) -> Inbound:
    said = step(citizen, index, number)
    return Inbound(
        channel="webchat",
        conversation=ConversationRef("webchat", "web", f"{prefix}{citizen:012d}"),
        message_key=f"{prefix}{citizen}:{index}",
        kind=MessageKind.CHOICE if said.choice else MessageKind.TEXT,
        received_at=datetime.now(UTC),
        text=said.text or "",
        choice_id=said.choice,
    )


def _answer(replies: Sequence[Outbound]) -> Answer:
    return Answer([r.text for r in replies], tuple(c.id for r in replies for c in r.choices))


async def _ours_dispatcher(
    services: Services, conversations: int, offset: int, prefix: str, concurrency: int = 1
) -> Timing:
    async def process(inbound: Inbound) -> Answer:
        handled = await services.dispatcher.handle(inbound)
        return _answer(handled.replies)

    return await _timed(conversations, offset, lambda c, i, n: _inbound(c, i, n, prefix), process, concurrency)


async def _ours_engine(
    services: Services, desk: MemoryDesk, conversations: int, offset: int, concurrency: int = 1
) -> Timing:
    store = MemorySessionStore()
    engine = services.engine

    async def process(inbound: Inbound) -> Answer:
        key = inbound.conversation.key()
        raw = await store.get(key)
        state = SessionState.from_json(raw) if raw is not None else None
        now = datetime.now(UTC)
        result = await engine.step(state, inbound, MemoryPort(desk, inbound.conversation.chat_id, now), now)
        await store.put(key, result.state.to_json(), 3600)
        return _answer(result.replies)

    return await _timed(conversations, offset, lambda c, i, n: _inbound(c, i, n, "e"), process, concurrency)


async def _ptb(services: Services, desk: MemoryDesk, conversations: int, offset: int, concurrency: int = 1) -> Timing:
    from telegram import Update  # optional dependency: imported only when the scenario runs

    from bench.ptb_intake import FakeBotApi, PtbIntake, build_application, callback_update, message_update

    config = services.config
    taxonomy = config.taxonomy.build()
    # The same extractor as ours, classifier included, so both sides do the same domain work.
    extractor = Extractor(taxonomy, services.addresses, load_newest(Path(config.storage.model_dir)))
    intake = PtbIntake(extractor, taxonomy, desk, ZoneInfo(config.server.timezone))
    api = FakeBotApi()
    app = build_application(intake, api)
    await app.initialize()
    update_ids = iter(range(1, 10_000_000))

    def prepare(citizen: int, index: int, number: str | None) -> Update:
        said, uid = step(citizen, index, number), next(update_ids)
        chat = 10_000_000 + citizen
        data = callback_update(uid, chat, said.choice) if said.choice else message_update(uid, chat, said.text or "")
        return Update.de_json(data, app.bot)

    async def process(update: Update) -> Answer:
        before = len(api.sent)
        await app.process_update(update)
        return Answer(api.sent[before:], tuple(c for b in api.buttons[before:] for c in b))

    try:
        return await _timed(conversations, offset, prepare, process, concurrency)
    finally:
        await app.shutdown()


async def measure(
    conversations: int, workdir: Path, warmup: int = 20, rounds: int = 0, concurrency: int = 1
) -> dict[str, Timing]:
    """The three sides in interleaved rounds (order rotating), so a busy machine slows them alike.
    ``concurrency``: citizens in flight at once on every side (1: one update after another; a
    server sees many at once, which is where group commit batches)."""
    config = load(write_config(workdir, sqlite_url(workdir, "peer.db")))
    services = build_services(config)
    rounds = rounds or max(1, min(10, conversations // 50))
    size = max(1, conversations // rounds)
    try:
        await prepare_database(services)
        await asyncio.to_thread(services.addresses.warm_up)
        if services.segmenter is not None:
            await asyncio.to_thread(services.segmenter.warm_up)

        def desk() -> MemoryDesk:  # one per side: a side's offers come from its own tickets only
            tz = ZoneInfo(config.server.timezone)
            return MemoryDesk(deadline_clock(config), services.workflow.directory, tz, services.workflow.duplicates)

        ptb_desk, engine_desk = desk(), desk()
        sides: dict[str, Callable[[int, int], Awaitable[Timing]]] = {
            "ptb": lambda n, offset: _ptb(services, ptb_desk, n, offset, concurrency),
            "engine": lambda n, offset: _ours_engine(services, engine_desk, n, offset, concurrency),
            "dispatcher": lambda n, offset: _ours_dispatcher(services, n, offset, f"d{concurrency}-", concurrency),
        }
        totals = dict.fromkeys(sides, Timing(0, 0.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB warns about per_message settings we chose on purpose
            for side in sides.values():
                await side(warmup, 0)
            order = list(sides)
            for r in range(rounds):
                offset = warmup + r * size
                for name in order:
                    totals[name] = totals[name] + await sides[name](size, offset)
                order = order[1:] + order[:1]
        return totals
    finally:
        await services.store.close()
        await services.dispose_databases()


def rows(results: dict[str, Timing], concurrency: int = 1) -> list[Row]:
    at_once = "one at a time" if concurrency == 1 else f"{concurrency} citizens at once"
    ptb = results.get("ptb")
    base = ptb.rate if ptb else None
    out: list[Row] = []
    if ptb is not None:
        out.append(
            Row(
                SCENARIO,
                "python-telegram-bot 22 ConversationHandler",
                f"updates/s (in process, {at_once})",
                ptb.rate,
                "upd/s",
                note=f"{ptb.updates} updates, {ptb.filed} filed ({ptb.offered} after 已有人反映, answered 2), "
                f"{ptb.replies} replies in {len(ptb.rounds)} "
                "interleaved rounds; in-memory state; replies via Bot to an in-process fake API",
            )
        )
    labels = {
        "dispatcher": "ours: Dispatcher + DialogEngine, SQLite (fsync per commit) + memory",
        "engine": "ours: DialogEngine only, in-memory port",
    }
    targets = {"dispatcher": DISPATCHER_RATIO_TARGET, "engine": RATIO_TARGET}
    for key in ("dispatcher", "engine"):
        timing = results.get(key)
        if timing is None:
            continue
        ratio = timing.rate / base if base else None
        per_round = (
            [mine / theirs for mine, theirs in zip(timing.rounds, ptb.rounds, strict=False) if theirs] if ptb else []
        )
        spread = f"; rounds {min(per_round):.2f}-{max(per_round):.2f}x" if len(per_round) > 1 else ""
        if ptb is not None and ptb.cpu_rate:
            spread += f"; by CPU time {timing.cpu_rate / ptb.cpu_rate:.2f}x"
        out.append(
            Row(
                SCENARIO,
                labels[key],
                f"updates/s (in process, {at_once})",
                timing.rate,
                "upd/s",
                ratio,
                "PTB",
                f">= {targets[key]:g}x PTB",
                judge(ratio, at_least=targets[key]),
                f"{timing.updates} updates, {timing.filed} filed ({timing.offered} after 已有人反映, answered 2), "
                f"{timing.replies} replies; "
                f"{1000 / timing.rate:.2f} ms/update{spread}",
            )
        )
    return out


def run(opts: Options, workdir: Path) -> list[Row]:
    out: list[Row] = []
    for concurrency in (1, CONCURRENT):
        with tempfile.TemporaryDirectory(prefix="peer-", dir=workdir) as tmp:
            results = asyncio.run(measure(opts.peer_conversations, Path(tmp), concurrency=concurrency))
        out.extend(rows(results, concurrency))
    return out
