"""The outbox: enqueue, lease-based claiming, retries, dead letters, and SKIP LOCKED on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.database import is_sqlite
from storage.models import OutboxMessage
from storage.outbox import DEAD, PENDING, SENDING, SENT, OutboxRepository

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def _enqueue(
    sessions: async_sessionmaker[AsyncSession], n: int = 1, now: datetime = T0, chat: str | None = None
) -> list[int]:
    """``n`` rows, each to its own chat unless ``chat`` is given (one chat's rows go out one by one)."""
    repo = OutboxRepository(LEASE)
    ids = []
    async with sessions.begin() as session:
        for i in range(n):
            row_id = await repo.enqueue(
                session,
                channel="telegram",
                account="bot",
                chat_id=chat or f"c-{uuid.uuid4().hex[:12]}",
                payload={"text": f"您的工单已受理 #{i}"},
                purpose="status",
                ticket_id=None,
                now=now,
            )
            ids.append(row_id)
    return ids


async def _get(sessions: async_sessionmaker[AsyncSession], outbox_id: int) -> OutboxMessage:
    async with sessions() as session:
        row = await OutboxRepository().get(session, outbox_id)
    assert row is not None
    return row


async def _claim(sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int = 10) -> list[int]:
    async with sessions.begin() as session:
        return [r.id for r in await OutboxRepository(LEASE).claim_due(session, now, limit)]


async def test_enqueue_writes_a_pending_row(sessions: async_sessionmaker[AsyncSession]) -> None:
    (oid,) = await _enqueue(sessions, chat="c1")
    row = await _get(sessions, oid)
    assert (row.channel, row.account, row.chat_id, row.purpose) == ("telegram", "bot", "c1", "status")
    assert row.payload == {"text": "您的工单已受理 #0"}
    assert row.status == PENDING
    assert row.attempts == 0
    assert row.next_attempt_at == row.created_at == T0
    assert row.sent_at is None and row.last_error is None and row.ticket_id is None


async def test_enqueue_is_part_of_the_callers_transaction(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await OutboxRepository().enqueue(
            session, channel="wechat", account="gh", chat_id="o1", payload={}, purpose="reply", ticket_id=None, now=T0
        )
        await session.rollback()
    async with sessions() as session:
        assert await OutboxRepository().depth(session) == {}


async def test_claim_due_takes_due_rows_in_order(sessions: async_sessionmaker[AsyncSession]) -> None:
    later = await _enqueue(sessions, 1, now=T0 + timedelta(seconds=30))
    early = await _enqueue(sessions, 2, now=T0)
    future = await _enqueue(sessions, 1, now=T0 + timedelta(hours=1))

    assert await _claim(sessions, T0 + timedelta(minutes=1), limit=2) == early
    assert await _claim(sessions, T0 + timedelta(minutes=1), limit=10) == later
    assert await _claim(sessions, T0 + timedelta(minutes=1)) == []
    for oid in early:
        row = await _get(sessions, oid)
        assert row.status == SENDING
        assert row.attempts == 1
        assert row.next_attempt_at == T0 + timedelta(minutes=1) + LEASE
    assert (await _get(sessions, future[0])).status == PENDING


async def test_claimed_row_is_not_claimed_again_until_the_lease_runs_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (oid,) = await _enqueue(sessions)
    assert await _claim(sessions, T0) == [oid]
    assert await _claim(sessions, T0) == []
    assert await _claim(sessions, T0 + LEASE - timedelta(seconds=1)) == []
    # The worker died mid-send: once the lease is over, another takes it.
    assert await _claim(sessions, T0 + LEASE) == [oid]
    row = await _get(sessions, oid)
    assert row.attempts == 2
    assert row.status == SENDING
    assert row.next_attempt_at == T0 + 2 * LEASE


async def test_mark_sent_is_final(sessions: async_sessionmaker[AsyncSession]) -> None:
    (oid,) = await _enqueue(sessions)
    await _claim(sessions, T0)
    async with sessions.begin() as session:
        await OutboxRepository().mark_sent(session, oid, T0 + timedelta(seconds=1))
    row = await _get(sessions, oid)
    assert row.status == SENT
    assert row.sent_at == T0 + timedelta(seconds=1)
    assert await _claim(sessions, T0 + timedelta(days=1)) == []


async def test_reschedule_then_dead_letter(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = OutboxRepository(LEASE)
    (oid,) = await _enqueue(sessions)
    await _claim(sessions, T0)
    retry_at = T0 + timedelta(seconds=30)
    async with sessions.begin() as session:
        await repo.reschedule(session, oid, retry_at, "HTTP 429: retry after 30" + "x" * 3000)
    row = await _get(sessions, oid)
    assert row.status == PENDING
    assert row.next_attempt_at == retry_at
    assert row.last_error is not None and row.last_error.startswith("HTTP 429") and len(row.last_error) == 2000

    assert await _claim(sessions, retry_at - timedelta(seconds=1)) == []
    assert await _claim(sessions, retry_at) == [oid]
    assert (await _get(sessions, oid)).attempts == 2

    async with sessions.begin() as session:
        await repo.mark_dead(session, oid, "HTTP 403: bot was blocked by the user")
        dead = await repo.dead_letters(session)
    row = await _get(sessions, oid)
    assert row.status == DEAD
    assert row.last_error == "HTTP 403: bot was blocked by the user"
    assert [d.id for d in dead] == [oid]
    assert await _claim(sessions, T0 + timedelta(days=30)) == []


async def test_depth_counts_by_status(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = OutboxRepository(LEASE)
    async with sessions() as session:
        assert await repo.depth(session) == {}
    ids = await _enqueue(sessions, 6)
    claimed = await _claim(sessions, T0, limit=4)
    async with sessions.begin() as session:
        await repo.mark_sent(session, claimed[0], T0)
        await repo.mark_sent(session, claimed[1], T0)
        await repo.mark_dead(session, claimed[2], "gone")
        assert await repo.depth(session) == {PENDING: 2, SENDING: 1, SENT: 2, DEAD: 1}
    assert len(ids) == 6


async def test_dead_letters_newest_first_and_limited(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = OutboxRepository()
    ids = await _enqueue(sessions, 4)
    async with sessions.begin() as session:
        for oid in ids[:3]:
            await repo.mark_dead(session, oid, "x")
    async with sessions() as session:
        assert [d.id for d in await repo.dead_letters(session, limit=2)] == [ids[2], ids[1]]


# SQLite runs one outbox worker; FOR UPDATE SKIP LOCKED is PostgreSQL's, so these run there only.
postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@postgres_only
async def test_concurrent_claimers_never_share_a_row(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Two workers, each inside its own open transaction: SKIP LOCKED hands them disjoint rows."""
    assert not is_sqlite(engine)
    ids = await _enqueue(sessions, 10)
    repo = OutboxRepository(LEASE)
    async with sessions() as s1, sessions() as s2, s1.begin():
        first = [r.id for r in await repo.claim_due(s1, T0, 4)]
        # s1 has not committed: its rows are locked, not yet visibly "sending".
        async with s2.begin():
            # Without SKIP LOCKED this would wait for s1 forever (or, unlocked, take s1's rows).
            second = [r.id for r in await asyncio.wait_for(repo.claim_due(s2, T0, 10), timeout=10)]
    assert first == ids[:4]
    assert second == ids[4:]
    for oid in ids:
        assert (await _get(sessions, oid)).attempts == 1


@postgres_only
async def test_many_concurrent_claimers_share_out_the_queue(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert not is_sqlite(engine)
    ids = await _enqueue(sessions, 40)
    repo = OutboxRepository(LEASE)
    workers = 6
    claimed_so_far: list[int] = []
    all_claimed = asyncio.Event()

    async def worker() -> list[int]:
        async with sessions.begin() as session:
            claimed = [r.id for r in await repo.claim_due(session, T0, 5)]
            claimed_so_far.append(len(claimed))
            if len(claimed_so_far) == workers:
                all_claimed.set()
            await all_claimed.wait()  # every worker holds its row locks until all have claimed
            return claimed

    results = await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), timeout=30)
    claimed = [oid for r in results for oid in r]
    assert len(claimed) == len(set(claimed)) == 30
    assert set(claimed) <= set(ids)
    async with sessions() as session:
        assert await repo.depth(session) == {SENDING: 30, PENDING: 10}


async def test_one_chat_has_one_message_in_flight_at_a_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    first, second = await _enqueue(sessions, 2, chat="same-citizen")
    (other,) = await _enqueue(sessions, 1)
    repo = OutboxRepository(LEASE)
    async with sessions.begin() as session:
        claimed = [r.id for r in await repo.claim_due(session, T0, 10)]
    assert claimed == [first, other]  # the second waits for the first, other chats do not
    async with sessions.begin() as session:
        await repo.mark_sent(session, first, T0)
    async with sessions.begin() as session:
        assert [r.id for r in await repo.claim_due(session, T0, 10)] == [second]
