"""The one outbound path for everything that is not an inline reply.

``Outbox.enqueue`` is called inside the transaction that caused the message, so a message exists
exactly when its cause does. ``OutboxWorker`` sends due rows through their channel: a success is
marked sent, a retryable failure is rescheduled with exponential backoff (or the platform's
``retry_after``), an unreachable recipient or too many attempts end in the dead-letter state where
staff can see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import (
    Channel,
    ConversationRef,
    Deferred,
    DeliveryContext,
    Outbound,
    OutsideWindow,
    RecipientUnreachable,
    SendError,
)
from bot.metrics import Metrics
from storage.identities import IdentityRepository
from storage.models import OutboxMessage, SentMessage
from storage.outbox import OutboxRepository, OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 2.0
    max_delay: float = 600.0

    def delay(self, attempts: int, retry_after: float | None, jitter: float) -> float:
        """``jitter`` in [0, 1) spreads retries of many rows so they don't hit the platform at once."""
        if retry_after is not None:
            return max(0.0, retry_after)
        backoff: float = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempts - 1))
        return backoff * (0.8 + 0.4 * jitter)


class Outbox:
    def __init__(self, repo: OutboxRepository) -> None:
        self._repo = repo
        self._wake = asyncio.Event()

    async def enqueue(
        self,
        session: AsyncSession,
        ref: ConversationRef,
        message: Outbound,
        now: datetime,
        ticket_id: int | None = None,
    ) -> int:
        return await self._repo.enqueue(
            session,
            channel=ref.channel,
            account=ref.account,
            chat_id=ref.chat_id,
            payload=message.to_dict(),
            purpose=message.purpose.value,
            ticket_id=ticket_id,
            now=now,
        )

    async def release_held(self, session: AsyncSession, ref: ConversationRef, now: datetime) -> int:
        return await self._repo.release_held(session, ref.channel, ref.chat_id, now)

    def wake(self) -> None:
        """Called after the enqueuing transaction commits: the worker sends now, not at its next poll."""
        self._wake.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()


class OutboxWorker:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        repo: OutboxRepository,
        outbox: Outbox,
        channels: Mapping[str, Channel],
        policy: RetryPolicy,
        metrics: Metrics,
        clock: Callable[[], datetime],
        batch_size: int = 50,
        rng: random.Random | None = None,
        concurrency: int = 8,
        readers: async_sessionmaker[AsyncSession] | None = None,
        worker_id: str | None = None,
        sole_worker: bool = False,
        heartbeat_seconds: float = 10.0,
        stale_after_seconds: float = 30.0,
    ) -> None:
        self._sessions = sessions
        # Reads (a recipient's reply window) need no write lock: on SQLite they skip the writers' queue.
        self._readers = readers or sessions
        # Deliveries to different chats overlap: sent one by one, a batch waited for every platform
        # round trip and every database turn in series (Telegram drain reached 11-19 of 28 msg/s).
        # A claimed batch holds one message per chat, so this never reorders a chat.
        self._concurrency = max(1, concurrency)
        self._repo = repo
        self._outbox = outbox
        self._channels = channels
        self._policy = policy
        self._metrics = metrics
        self._clock = clock
        self._batch = batch_size
        self._rng = rng or random.Random()
        self._identities = IdentityRepository()
        # Rows carry the id of the worker that leased them; a worker whose heartbeat is older than
        # ``stale_after`` is taken for dead and its rows are claimed at once, not after the lease.
        self.worker_id = worker_id or f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._sole = sole_worker  # one process (SQLite): any other worker row is a dead predecessor
        self._heartbeat = timedelta(seconds=heartbeat_seconds)
        self._stale_after = timedelta(seconds=stale_after_seconds)
        self._registered = False

    async def run_once(self) -> int:
        """Claim and send one batch of due rows; the number handled."""
        now = self._clock()
        async with self._sessions.begin() as session:
            rows = await self._repo.claim_due(
                session,
                now,
                self._batch,
                worker_id=self.worker_id,
                stale_before=now - self._stale_after if self._registered else None,
            )
        if not rows:
            return 0
        pending = iter(rows)
        outcomes: asyncio.Queue[_Outcome] = asyncio.Queue()

        async def lane() -> None:
            for row in pending:  # shared: each row is taken by exactly one lane
                outcomes.put_nowait(await self._attempt(row))

        async def recorder() -> None:
            """Group commit: what finished while the last commit waited for the database goes
            in the next one (on SQLite each commit waits its turn behind the dialogs)."""
            recorded = 0
            while recorded < len(rows):
                batch = [await outcomes.get()]
                while not outcomes.empty():
                    batch.append(outcomes.get_nowait())
                await self._record(batch)
                recorded += len(batch)

        lanes = min(self._concurrency, len(rows))
        tasks = [asyncio.ensure_future(lane()) for _ in range(lanes)]
        writer = asyncio.ensure_future(recorder())
        failures = await asyncio.gather(*tasks, return_exceptions=True)
        if any(isinstance(f, BaseException) for f in failures):
            writer.cancel()  # rows not recorded stay leased and are retried when the lease ends
        results = await asyncio.gather(writer, return_exceptions=True)
        for failure in (*failures, *results):  # everything has stopped: nothing runs on after this
            if isinstance(failure, BaseException) and not isinstance(failure, asyncio.CancelledError):
                raise failure
        return len(rows)

    async def drain(self, max_rounds: int = 100) -> None:
        """Send everything due now (tests, shutdown)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                return

    async def register(self) -> None:
        """Announce this worker (its heartbeat) before claiming: from then on, rows of workers that
        are gone are reclaimed at once instead of after their two-minute lease."""
        async with self._sessions.begin() as session:
            forgotten = await self._repo.register_worker(session, self.worker_id, self._clock(), sole=self._sole)
        if forgotten:
            log.warning("outbox: %d previous worker(s) gone; their unfinished sends are retried now", forgotten)
        self._registered = True

    async def retire(self) -> None:
        """Leaving cleanly: what this worker still has leased is free to the others at once."""
        async with self._sessions.begin() as session:
            await self._repo.retire_worker(session, self.worker_id, self._clock() - 10 * self._stale_after)
        self._registered = False

    async def _beat_forever(self, stop: asyncio.Event) -> None:
        """Beats on its own schedule, so a long batch never makes a live worker look dead."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._heartbeat.total_seconds())
            if stop.is_set():
                return
            try:
                async with self._sessions.begin() as session:
                    await self._repo.beat(session, self.worker_id, self._clock())
            except (SQLAlchemyError, OSError):
                log.warning("outbox heartbeat failed; retrying", exc_info=True)

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float) -> None:
        while not self._registered and not stop.is_set():
            try:
                await self.register()
            except (SQLAlchemyError, OSError):
                log.exception("outbox worker cannot register; retrying")
                await self._outbox.wait(poll_seconds)
        beats = asyncio.ensure_future(self._beat_forever(stop))
        try:
            await self._loop(stop, poll_seconds)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.retire()

    async def _loop(self, stop: asyncio.Event, poll_seconds: float) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
                await self._refresh_depth()
            except (SQLAlchemyError, OSError):
                log.exception("outbox worker cannot reach the database; retrying")
                handled = 0
            if handled == 0:
                await self._outbox.wait(poll_seconds)

    async def _refresh_depth(self) -> None:
        async with self._readers() as session:
            depth = await self._repo.depth(session)
        for status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.DEAD):
            self._metrics.outbox_depth.labels(status.value).set(depth.get(status, 0))

    async def _attempt(self, row: OutboxMessage) -> _Outcome:
        """Send one row; what became of it, recorded later with others in one transaction."""
        ref = ConversationRef(row.channel, row.account, row.chat_id)
        channel = self._channels.get(row.channel)
        try:
            if channel is None:
                raise SendError(f"channel {row.channel} is not enabled", retryable=True)
            context = await self._context(ref)
            if not context.reachable:  # unsubscribed or blocked since this was queued: never send
                raise RecipientUnreachable("the recipient unsubscribed or blocked us")
            platform_id = await channel.send(ref, Outbound.from_dict(row.payload), str(row.id), context)
        except Deferred as exc:
            return _Outcome(row, Delivery.DEFERRED, at=self._clock() + timedelta(seconds=exc.retry_after or 1.0))
        except OutsideWindow as exc:
            return _Outcome(row, Delivery.HELD, error=f"held: {exc}")
        except RecipientUnreachable as exc:
            return _Outcome(row, Delivery.DEAD, error=f"unreachable: {exc}", unreachable=True)
        except SendError as exc:
            if exc.retryable and row.attempts < self._policy.max_attempts:
                return self._retry(row, exc.retry_after, str(exc))
            return _Outcome(row, Delivery.DEAD, error=str(exc))
        except (TimeoutError, OSError) as exc:  # network trouble before an answer: retry
            if row.attempts < self._policy.max_attempts:
                return self._retry(row, None, f"{type(exc).__name__}: {exc}")
            return _Outcome(row, Delivery.DEAD, error=f"{type(exc).__name__}: {exc}")
        except SQLAlchemyError:
            raise  # our database, not the message: the row stays leased and is tried again later
        except Exception as exc:  # a bug in a channel must not stop every other delivery
            log.exception("outbox send crashed", extra={"outbox_id": row.id, "channel": row.channel})
            return _Outcome(row, Delivery.DEAD, error=f"crash: {type(exc).__name__}: {exc}")
        return _Outcome(row, Delivery.SENT, at=self._clock(), platform_id=platform_id)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        async with self._sessions.begin() as session:
            for outcome in outcomes:
                await self._apply(session, outcome)
        for outcome in outcomes:  # after the commit: only what is stored is counted
            row = outcome.row
            self._metrics.messages_out.labels(row.channel, outcome.kind.value).inc()
            if outcome.kind is Delivery.RETRY:
                log.warning("outbox send failed, will retry: %s", outcome.error, extra={"outbox_id": row.id})
            elif outcome.kind is Delivery.DEAD:
                log.error(
                    "outbox message dead-lettered: %s",
                    outcome.error,
                    extra={"outbox_id": row.id, "channel": row.channel},
                )

    async def _apply(self, session: AsyncSession, outcome: _Outcome) -> None:
        row = outcome.row
        if outcome.kind is Delivery.SENT:
            sent_at = outcome.at or self._clock()
            await self._repo.mark_sent(session, row.id, sent_at)
            if outcome.platform_id is not None and row.ticket_id is not None:
                session.add(
                    SentMessage(
                        channel=row.channel,
                        chat_id=row.chat_id,
                        platform_id=outcome.platform_id,
                        ticket_id=row.ticket_id,
                        outbox_id=row.id,
                        created_at=sent_at,
                    )
                )
        elif outcome.kind is Delivery.DEFERRED:
            await self._repo.defer(session, row.id, outcome.at or self._clock())
        elif outcome.kind is Delivery.HELD:
            await self._repo.hold(session, row.id, outcome.error)
        elif outcome.kind is Delivery.RETRY:
            await self._repo.reschedule(session, row.id, outcome.at or self._clock(), outcome.error)
        else:
            await self._repo.mark_dead(session, row.id, outcome.error)
            if outcome.unreachable:
                identity = await self._identities.find(session, row.channel, row.account, row.chat_id)
                if identity is not None:
                    await self._identities.set_reachable(session, identity.id, False)

    async def _context(self, ref: ConversationRef) -> DeliveryContext:
        """The citizen's last message and what we sent since: the platform windows (WeChat 48 h
        and 5 messages, Weibo 48 h) are decided by the channel from these."""
        now = self._clock()
        async with self._readers() as session:
            identity = await self._identities.find_chat(session, ref.channel, ref.account, ref.chat_id)
            if identity is None:
                return DeliveryContext(now=now)
            if identity.last_inbound_at is None:
                return DeliveryContext(now=now, reachable=identity.reachable)
            sent = await self._repo.sent_since(session, ref.channel, ref.chat_id, identity.last_inbound_at)
            return DeliveryContext(
                now=now,
                last_inbound_at=identity.last_inbound_at,
                sent_since_inbound=sent,
                reachable=identity.reachable,
            )

    def _retry(self, row: OutboxMessage, retry_after: float | None, error: str) -> _Outcome:
        delay = self._policy.delay(row.attempts, retry_after, self._rng.random())
        return _Outcome(row, Delivery.RETRY, at=self._clock() + timedelta(seconds=delay), error=error)


class Delivery(StrEnum):
    """What became of one delivery attempt (also the ``messages_out`` metric's label)."""

    SENT = "sent"
    DEFERRED = "deferred"  # the channel asked for later (rate limit of its own)
    HELD = "held"  # outside the platform's reply window
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class _Outcome:
    row: OutboxMessage
    kind: Delivery
    at: datetime | None = None  # sent at, or when to try again
    error: str = ""
    platform_id: str | None = None
    unreachable: bool = False
