"""The outbox worker: retries with backoff and retry_after, dead letters, unreachable recipients.

The channel here is a scripted stand-in for a platform (the platform-specific fakes come with
each channel); the worker, the repository and the database are the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import (
    Capabilities,
    ConversationRef,
    Deferred,
    DeliveryContext,
    Outbound,
    OutsideWindow,
    RecipientUnreachable,
    SendError,
)
from bot.metrics import Metrics
from bot.outbox import Outbox, OutboxWorker, RetryPolicy
from storage.identities import IdentityRepository
from storage.models import Identity, OutboxMessage, OutboxWorkerBeat
from storage.outbox import OutboxRepository
from tests.app_helpers import Clock

REF = ConversationRef("scripted", "acct", "chat-1")


SCRIPTED = Capabilities(inline_reply=False, buttons=False, location_request=False)


@dataclass
class ScriptedChannel:
    script: list[BaseException | None] = field(default_factory=list)
    sent: list[tuple[ConversationRef, Outbound, str]] = field(default_factory=list)
    contexts: list[DeliveryContext] = field(default_factory=list)
    name: str = "scripted"
    capabilities: Capabilities = SCRIPTED

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
    ) -> str | None:
        self.contexts.append(context)
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append((ref, message, delivery_id))
        return f"platform-{delivery_id}"


@dataclass
class Rig:
    sessions: async_sessionmaker[AsyncSession]
    channel: ScriptedChannel
    clock: Clock
    outbox: Outbox
    worker: OutboxWorker

    async def enqueue(self, text: str, ref: ConversationRef = REF) -> int:
        async with self.sessions.begin() as session:
            return await self.outbox.enqueue(session, ref, Outbound(text), self.clock())

    async def row(self, outbox_id: int) -> OutboxMessage:
        async with self.sessions() as session:
            found = await session.get(OutboxMessage, outbox_id)
            assert found is not None
            return found


@pytest.fixture
def rig(sessions: async_sessionmaker[AsyncSession]) -> Rig:
    channel = ScriptedChannel()
    clock = Clock()
    repo = OutboxRepository()
    outbox = Outbox(repo)
    worker = OutboxWorker(
        sessions=sessions,
        repo=repo,
        outbox=outbox,
        channels={"scripted": channel},
        policy=RetryPolicy(4, 2.0, 60.0),
        metrics=Metrics(),
        clock=clock,
        rng=random.Random(1),
    )
    return Rig(sessions, channel, clock, outbox, worker)


async def test_message_is_sent_once_and_marked(rig: Rig) -> None:
    outbox_id = await rig.enqueue("hello")
    assert await rig.worker.run_once() == 1
    assert await rig.worker.run_once() == 0
    assert [(m.text, d) for _, m, d in rig.channel.sent] == [("hello", str(outbox_id))]
    row = await rig.row(outbox_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


async def test_rate_limit_waits_exactly_retry_after(rig: Rig) -> None:
    rig.channel.script = [SendError("429 Too Many Requests", retryable=True, retry_after=7)]
    outbox_id = await rig.enqueue("hello")
    await rig.worker.run_once()
    row = await rig.row(outbox_id)
    assert row.status == "pending" and row.next_attempt_at == rig.clock() + timedelta(seconds=7)
    rig.clock.advance(seconds=6)
    assert await rig.worker.run_once() == 0
    rig.clock.advance(seconds=1)
    assert await rig.worker.run_once() == 1
    assert (await rig.row(outbox_id)).status == "sent"


async def test_server_errors_back_off_exponentially_then_dead_letter(rig: Rig) -> None:
    rig.channel.script = [SendError("502", retryable=True)] * 4
    outbox_id = await rig.enqueue("hello")
    delays = []
    for _ in range(3):
        before = rig.clock()
        await rig.worker.run_once()
        row = await rig.row(outbox_id)
        delays.append((row.next_attempt_at - before).total_seconds())
        rig.clock.now = row.next_attempt_at
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8 and 6.4 <= delays[2] <= 9.6
    await rig.worker.run_once()
    row = await rig.row(outbox_id)
    assert row.status == "dead" and row.attempts == 4 and "502" in (row.last_error or "")
    assert rig.channel.sent == []


async def test_timeouts_are_retried(rig: Rig) -> None:
    rig.channel.script = [TimeoutError()]
    outbox_id = await rig.enqueue("hello")
    await rig.worker.run_once()
    assert (await rig.row(outbox_id)).status == "pending"
    rig.clock.advance(seconds=5)
    await rig.worker.run_once()
    assert (await rig.row(outbox_id)).status == "sent"


async def test_unreachable_recipient_is_dead_at_once_and_marked(rig: Rig) -> None:
    async with rig.sessions.begin() as session:
        identity = await IdentityRepository().get_or_create(session, "scripted", "acct", "chat-1", rig.clock(), "zh")
    rig.channel.script = [RecipientUnreachable("403 blocked by user")]
    outbox_id = await rig.enqueue("hello")
    await rig.worker.run_once()
    assert (await rig.row(outbox_id)).status == "dead"
    async with rig.sessions() as session:
        assert (await session.get(Identity, identity.id)).reachable is False  # type: ignore[union-attr]


async def test_a_crashing_send_does_not_block_the_others(rig: Rig) -> None:
    rig.channel.script = [ValueError("bug in a channel"), None]
    first = await rig.enqueue("one")
    second = await rig.enqueue("two")
    await rig.worker.drain()
    assert (await rig.row(first)).status == "dead"
    assert (await rig.row(second)).status == "sent"


async def test_disabled_channel_is_retried_not_dropped(rig: Rig) -> None:
    outbox_id = await rig.enqueue("hello", ConversationRef("telegram", "bot", "42"))
    await rig.worker.run_once()
    row = await rig.row(outbox_id)
    assert row.status == "pending" and "not enabled" in (row.last_error or "")


async def test_a_worker_that_dies_mid_send_leaves_the_row_for_another(rig: Rig) -> None:
    outbox_id = await rig.enqueue("hello")
    async with rig.sessions.begin() as session:
        claimed = await OutboxRepository().claim_due(session, rig.clock(), 10)  # claimed, then the worker died
    assert [r.id for r in claimed] == [outbox_id]
    assert await rig.worker.run_once() == 0
    rig.clock.advance(minutes=3)  # the lease runs out
    assert await rig.worker.run_once() == 1
    assert len(rig.channel.sent) == 1


async def test_messages_to_one_chat_keep_their_order(rig: Rig) -> None:
    for i in range(5):
        await rig.enqueue(f"m{i}")
    await rig.worker.drain()
    assert [m.text for _, m, _ in rig.channel.sent] == [f"m{i}" for i in range(5)]
    async with rig.sessions() as session:
        statuses = (await session.execute(select(OutboxMessage.status))).scalars().all()
    assert set(statuses) == {"sent"}


async def test_the_channel_is_told_when_the_citizen_last_wrote_and_what_was_sent_since(rig: Rig) -> None:
    async with rig.sessions.begin() as session:
        repo = IdentityRepository()
        identity = await repo.get_or_create(session, "scripted", "acct", "chat-1", rig.clock(), "zh")
        await repo.touch(session, identity.id, rig.clock())
    wrote = rig.clock()
    rig.clock.advance(hours=1)
    for i in range(3):
        await rig.enqueue(f"m{i}")
    await rig.worker.drain()
    assert [(c.last_inbound_at, c.sent_since_inbound) for c in rig.channel.contexts] == [
        (wrote, 0),
        (wrote, 1),
        (wrote, 2),
    ]


async def test_outside_the_window_a_message_is_held_until_the_citizen_writes(rig: Rig) -> None:
    rig.channel.script = [OutsideWindow("48 hours since the last message")]
    outbox_id = await rig.enqueue("status update")
    await rig.worker.run_once()
    assert (await rig.row(outbox_id)).status == "held"
    rig.clock.advance(days=3)
    assert await rig.worker.run_once() == 0  # held is not retried on its own
    async with rig.sessions.begin() as session:
        released = await rig.outbox.release_held(session, REF, rig.clock())
    assert released == 1
    await rig.worker.run_once()
    assert (await rig.row(outbox_id)).status == "sent"
    assert [m.text for _, m, _ in rig.channel.sent] == ["status update"]


async def test_nothing_is_sent_to_someone_who_unsubscribed_after_it_was_queued(rig: Rig) -> None:
    outbox_id = await rig.enqueue("status update")
    async with rig.sessions.begin() as session:
        repo = IdentityRepository()
        identity = await repo.get_or_create(session, "scripted", "acct", "chat-1", rig.clock(), "zh")
        await repo.set_reachable(session, identity.id, False)
    await rig.worker.run_once()
    assert rig.channel.sent == [] and rig.channel.contexts == []  # the platform was never asked
    assert (await rig.row(outbox_id)).status == "dead"


async def test_our_own_rate_limits_defer_without_using_up_attempts(rig: Rig) -> None:
    rig.channel.script = [Deferred("1 message a second per chat", retry_after=1.0)] * 10
    outbox_id = await rig.enqueue("hello")
    for _ in range(10):
        await rig.worker.run_once()
        rig.clock.advance(seconds=1)
    row = await rig.row(outbox_id)
    assert row.status == "pending" and row.attempts == 0  # ten deferrals, no attempt spent
    await rig.worker.run_once()
    assert (await rig.row(outbox_id)).status == "sent"


async def test_a_deferred_message_is_not_overtaken_by_the_next_one_to_the_same_chat(rig: Rig) -> None:
    """Found by the outbox benchmark: with a send deferred, the next push to that chat went first."""
    rig.channel.script = [Deferred("1 message a second per chat", retry_after=5.0)]
    await rig.enqueue("已接单")
    await rig.enqueue("答复：已修复")
    other = ConversationRef("scripted", "acct", "chat-2")
    await rig.enqueue("another citizen's push", other)
    await rig.worker.drain()
    assert [m.text for _, m, _ in rig.channel.sent] == ["another citizen's push"]  # other chats go on
    rig.clock.advance(seconds=5)
    await rig.worker.drain()
    assert [m.text for r, m, _ in rig.channel.sent if r == REF] == ["已接单", "答复：已修复"]


@dataclass
class GatedChannel:
    """Each send waits until ``expected`` sends are in flight at once (or gives up after 5 s)."""

    expected: int
    in_flight: int = 0
    most: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)
    all_in: asyncio.Event = field(default_factory=asyncio.Event)
    name: str = "scripted"
    capabilities: Capabilities = SCRIPTED

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
    ) -> str | None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.in_flight >= self.expected:
            self.all_in.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_in.wait(), 5)
        self.in_flight -= 1
        self.sent.append((ref.chat_id, message.text))
        return None


async def test_deliveries_to_different_chats_overlap_and_each_chat_keeps_its_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    channel = GatedChannel(expected=3)
    clock = Clock()
    repo = OutboxRepository()
    outbox = Outbox(repo)
    worker = OutboxWorker(
        sessions=sessions,
        repo=repo,
        outbox=outbox,
        channels={"scripted": channel},
        policy=RetryPolicy(4, 2.0, 60.0),
        metrics=Metrics(),
        clock=clock,
        concurrency=3,
    )
    async with sessions.begin() as session:
        for n in range(2):
            for chat in ("a", "b", "c"):
                await outbox.enqueue(
                    session, ConversationRef("scripted", "acct", chat), Outbound(f"{chat}{n}"), clock()
                )
    await worker.drain()
    assert channel.most == 3  # three chats at once, not one after another
    for chat in ("a", "b", "c"):
        assert [text for to, text in channel.sent if to == chat] == [f"{chat}0", f"{chat}1"]
    assert len(channel.sent) == 6


async def test_one_batch_records_each_outcome_of_its_own(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Sends overlap and their outcomes are committed together: each row still ends where its own
    attempt says (retry, dead, held, deferred, sent), and nothing is left leased."""
    outcomes: dict[str, BaseException | None] = {
        "chat-0": SendError("502 Bad Gateway", retryable=True),
        "chat-1": RecipientUnreachable("blocked"),
        "chat-2": OutsideWindow("48 h passed"),
        "chat-3": Deferred("flood limit", retry_after=3.0),
        "chat-4": None,
    }
    sent: list[str] = []

    class ByChat:
        name = "scripted"
        capabilities = SCRIPTED

        async def send(
            self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
        ) -> str | None:
            await asyncio.sleep(0)
            failure = outcomes[ref.chat_id]
            if failure is not None:
                raise failure
            sent.append(message.text)
            return None

    clock = Clock()
    repo = OutboxRepository()
    outbox = Outbox(repo)
    worker = OutboxWorker(
        sessions=sessions,
        repo=repo,
        outbox=outbox,
        channels={"scripted": ByChat()},
        policy=RetryPolicy(4, 2.0, 60.0),
        metrics=Metrics(),
        clock=clock,
    )
    ids = []
    async with sessions.begin() as session:
        for n in range(5):
            ref = ConversationRef("scripted", "acct", f"chat-{n}")
            ids.append(await outbox.enqueue(session, ref, Outbound(f"m{n}"), clock()))
    assert await worker.run_once() == 5
    async with sessions() as session:
        rows = [await session.get(OutboxMessage, i) for i in ids]
    assert [r.status for r in rows if r is not None] == ["pending", "dead", "held", "pending", "sent"]
    assert rows[0] is not None and rows[0].next_attempt_at > clock() and rows[0].last_error == "502 Bad Gateway"
    assert rows[3] is not None and rows[3].next_attempt_at == clock() + timedelta(seconds=3.0)
    assert sent == ["m4"]


# --- issue #12 item 8: a dead worker's rows are not stuck for the whole lease -----------------------


def _worker(rig: Rig, name: str, *, sole: bool = False) -> OutboxWorker:
    return OutboxWorker(
        sessions=rig.sessions,
        repo=OutboxRepository(),
        outbox=rig.outbox,
        channels={"scripted": rig.channel},
        policy=RetryPolicy(4, 2.0, 60.0),
        metrics=Metrics(),
        clock=rig.clock,
        worker_id=name,
        sole_worker=sole,
        stale_after_seconds=30,
    )


async def _killed_mid_send(rig: Rig, worker: OutboxWorker) -> int:
    """The state a kill between a send and its recorded outcome leaves: the row leased by ``worker``."""
    outbox_id = await rig.enqueue("已受理")
    await worker.register()
    async with rig.sessions.begin() as session:
        claimed = await OutboxRepository().claim_due(session, rig.clock(), 10, worker_id=worker.worker_id)
    assert [r.id for r in claimed] == [outbox_id]
    row = await rig.row(outbox_id)
    assert row.status == "sending" and row.leased_by == worker.worker_id
    return outbox_id


async def test_a_restarted_sole_worker_resends_its_predecessors_rows_at_once(rig: Rig) -> None:
    outbox_id = await _killed_mid_send(rig, _worker(rig, "host:100:aaaa", sole=True))
    restarted = _worker(rig, "host:200:bbbb", sole=True)  # the embedded default: one process
    await restarted.register()
    assert await restarted.run_once() == 1  # no two-minute wait (the clock has not moved)
    assert [d for _, _, d in rig.channel.sent] == [str(outbox_id)]  # at least once: sent again
    row = await rig.row(outbox_id)
    assert row.status == "sent" and row.attempts == 2


async def test_rows_of_a_live_worker_are_left_alone_and_taken_once_its_heartbeat_is_stale(rig: Rig) -> None:
    first = _worker(rig, "host-a:1:aaaa")
    outbox_id = await _killed_mid_send(rig, first)
    other = _worker(rig, "host-b:2:bbbb")  # several workers (PostgreSQL): nobody is sole
    await other.register()
    assert await other.run_once() == 0  # the first one is alive: its send is its own
    rig.clock.advance(seconds=20)
    async with rig.sessions.begin() as session:
        await OutboxRepository().beat(session, first.worker_id, rig.clock())  # still beating
    rig.clock.advance(seconds=25)
    assert await other.run_once() == 0
    rig.clock.advance(seconds=6)  # 31 s without a beat: gone; far less than the 2-minute lease
    assert await other.run_once() == 1
    assert (await rig.row(outbox_id)).leased_by == other.worker_id
    assert [d for _, _, d in rig.channel.sent] == [str(outbox_id)]


async def test_a_worker_that_stops_cleanly_frees_its_rows_at_once(rig: Rig) -> None:
    first = _worker(rig, "host-a:1:aaaa")
    outbox_id = await _killed_mid_send(rig, first)
    other = _worker(rig, "host-b:2:bbbb")
    await other.register()
    assert await other.run_once() == 0
    await first.retire()
    assert await other.run_once() == 1
    assert (await rig.row(outbox_id)).status == "sent"


async def test_run_forever_registers_beats_and_retires(rig: Rig) -> None:
    worker = _worker(rig, "host:1:cccc", sole=True)
    worker._heartbeat = timedelta(seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop, 0.05))
    try:
        async with asyncio.timeout(5):
            while True:
                async with rig.sessions() as session:
                    beat = await session.get(OutboxWorkerBeat, worker.worker_id)
                if beat is not None:
                    break
                await asyncio.sleep(0.02)
        rig.clock.advance(seconds=3)
        async with asyncio.timeout(5):
            while True:
                async with rig.sessions() as session:
                    beat = await session.get(OutboxWorkerBeat, worker.worker_id, populate_existing=True)
                assert beat is not None
                if beat.heartbeat_at == rig.clock():
                    break
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        rig.outbox.wake()
        await task
    async with rig.sessions() as session:
        assert await session.get(OutboxWorkerBeat, worker.worker_id) is None


async def test_rows_leased_before_worker_ids_wait_for_their_lease(rig: Rig) -> None:
    outbox_id = await rig.enqueue("old")
    async with rig.sessions.begin() as session:
        await OutboxRepository().claim_due(session, rig.clock(), 10)  # no worker id: an older release
    worker = _worker(rig, "host:1:dddd", sole=True)
    await worker.register()
    assert await worker.run_once() == 0
    rig.clock.advance(minutes=2, seconds=1)
    assert await worker.run_once() == 1
    assert (await rig.row(outbox_id)).status == "sent"
