"""Telegram's send books in Redis: the same decisions as the in-process limiter, and limits that hold
for several workers together.

Against the real Redis the suite starts, with an injected clock, so every figure is exact: each
worker is its own ``RedisBooks`` with its own connection, as in separate processes.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from adapters.telegram.books import LocalBooks, SendBooks
from adapters.telegram.limits import SERVICE_LIMITS, Limits, SendLimiter
from adapters.telegram.redis_books import RedisBooks


@dataclass
class Time:
    now: float = 1_780_000_000.0  # a real epoch time: the scripts must keep sub-millisecond precision

    def __call__(self) -> float:
        return self.now


MakeBooks = Callable[[Time, Limits], Awaitable[SendBooks]]


async def _redis_maker(redis_url: str) -> AsyncIterator[MakeBooks]:
    """Makes books on one Redis (a fresh key prefix per test), each with its own connection."""
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    made: list[RedisBooks] = []

    async def make(clock: Time, limits: Limits) -> SendBooks:
        books = RedisBooks(redis=Redis.from_url(redis_url), now=clock, limits=limits, prefix=prefix)
        made.append(books)
        return books

    yield make
    for books in made:
        await books.close()


@pytest.fixture
async def redis_books(redis_url: str) -> AsyncIterator[MakeBooks]:
    async for maker in _redis_maker(redis_url):
        yield maker


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
async def make_books(request: pytest.FixtureRequest) -> AsyncIterator[MakeBooks]:
    if request.param == "local":

        async def local(clock: Time, limits: Limits) -> SendBooks:
            return LocalBooks(SendLimiter(clock, limits))

        yield local
        return
    async for maker in _redis_maker(request.getfixturevalue("redis_url")):
        yield maker


# --- the same decisions as the in-process limiter ------------------------------------------------------


async def test_one_chat_gets_one_message_a_second_in_the_order_they_came(make_books: MakeBooks) -> None:
    t = Time()
    books = await make_books(t, Limits())
    assert await books.wait_for("1", "a", group=False) == 0.0
    assert await books.wait_for("1", "b", group=False) == pytest.approx(1.0)
    assert await books.wait_for("1", "c", group=False) == pytest.approx(2.0)
    assert await books.wait_for("2", "x", group=False) == 0.0  # other chats are not held up
    t.now += 1.0
    assert await books.wait_for("1", "c", group=False) > 0  # c came back early: b is still ahead of it
    assert await books.wait_for("1", "b", group=False) == 0.0
    t.now += 1.0
    assert await books.wait_for("1", "d", group=False) > 0  # a newcomer queues behind c
    assert await books.wait_for("1", "c", group=False) == 0.0


async def test_a_delivery_that_never_comes_back_loses_its_place(make_books: MakeBooks) -> None:
    t = Time()
    books = await make_books(t, Limits(grace=5.0))
    await books.wait_for("1", "a", group=False)
    assert await books.wait_for("1", "b", group=False) > 0  # waits; then it is dead-lettered elsewhere
    t.now += 10.0
    assert await books.wait_for("1", "c", group=False) == 0.0


async def test_groups_get_twenty_a_minute_and_everyone_twenty_eight_a_second(make_books: MakeBooks) -> None:
    t = Time()
    books = await make_books(t, SERVICE_LIMITS)
    for n in range(20):
        assert await books.wait_for("-100", f"g{n}", group=True) == 0.0, n
        t.now += 1.1
    assert await books.wait_for("-100", "g20", group=True) == pytest.approx(60.0 - 20 * 1.1)
    t.now += 60.0 - 20 * 1.1 + 0.01  # float steps of 1.1 are not exact
    assert await books.wait_for("-100", "g20", group=True) == 0.0

    t.now += 100.0
    assert [await books.wait_for(str(n), f"m{n}", group=False) for n in range(28)] == [0.0] * 28
    assert await books.wait_for("31", "m31", group=False) == pytest.approx(1.0)


async def test_flood_control_holds_the_chat_and_keeps_the_message_first(make_books: MakeBooks) -> None:
    t = Time()
    books = await make_books(t, Limits())
    assert await books.wait_for("1", "a", group=False) == 0.0
    await books.keep_front("1", "a", pause=7.0)  # Telegram answered 429, retry_after 7
    assert await books.wait_for("1", "b", group=False) == pytest.approx(8.0)
    t.now += 7.0
    assert await books.wait_for("1", "a", group=False) == 0.0


async def test_an_edit_counts_against_the_overall_rate(make_books: MakeBooks) -> None:
    t = Time()
    books = await make_books(t, Limits(overall_per_second=3))
    await books.note_edit()
    await books.note_edit()
    assert await books.wait_for("1", "a", group=False) == 0.0
    assert await books.wait_for("2", "b", group=False) == pytest.approx(1.0)


async def test_partial_send_progress_is_kept_until_cleared(make_books: MakeBooks) -> None:
    books = await make_books(Time(), Limits())
    assert await books.parts_done("row-7") == 0
    await books.set_parts_done("row-7", 2)
    assert await books.parts_done("row-7") == 2
    await books.clear_parts("row-7")
    assert await books.parts_done("row-7") == 0


# --- several workers on one Redis ----------------------------------------------------------------------


@pytest.mark.redis
async def test_a_row_continued_by_another_worker_sends_only_the_missing_parts(redis_books: MakeBooks) -> None:
    t = Time()
    first, second = await redis_books(t, Limits()), await redis_books(t, Limits())
    await first.set_parts_done("row-9", 1)
    assert await second.parts_done("row-9") == 1


@pytest.mark.redis
async def test_two_workers_at_once_get_one_go_per_chat(redis_books: MakeBooks) -> None:
    t = Time()
    one, two = await redis_books(t, Limits()), await redis_books(t, Limits())
    answers = await asyncio.gather(one.wait_for("5", "a", group=False), two.wait_for("5", "b", group=False))
    assert sorted(answers) == [0.0, pytest.approx(1.0)]


@pytest.mark.redis
async def test_two_workers_together_never_exceed_the_limits(redis_books: MakeBooks) -> None:
    """Two workers drain 60 private chats (3 messages each) and a staff group (30 messages) as the
    outbox would: each asks, sends on 0.0, else comes back when told. Every booked send is checked
    against the limits: 1.1 s per chat, 28 in any second, 20 a minute in the group."""
    t = Time()
    limits = SERVICE_LIMITS
    workers = [await redis_books(t, limits), await redis_books(t, limits)]
    due: dict[tuple[str, str], float] = {}
    for citizen in range(60):
        for n in range(3):
            due[(str(citizen), f"c{citizen}-{n}")] = t.now
    for n in range(30):
        due[("-100", f"g-{n}")] = t.now
    start = t.now
    sent: list[tuple[float, str]] = []
    turn = 0
    while due and t.now < start + 200:
        ready = sorted((k for k, at in due.items() if at <= t.now + 1e-9), key=lambda k: (due[k], k))
        # Both workers ask concurrently, half of the due rows each, alternating who goes first.
        halves = [ready[turn % 2 :: 2], ready[(turn + 1) % 2 :: 2]]
        turn += 1

        async def drain(books: SendBooks, rows: list[tuple[str, str]]) -> list[tuple[tuple[str, str], float]]:
            return [(row, await books.wait_for(row[0], row[1], group=row[0].startswith("-"))) for row in rows]

        for results in await asyncio.gather(*(drain(w, rows) for w, rows in zip(workers, halves, strict=True))):
            for row, wait in results:
                if wait == 0.0:
                    sent.append((t.now, row[0]))
                    del due[row]
                else:
                    due[row] = t.now + wait
        t.now = round(t.now + 0.05, 6)
    assert not due, f"{len(due)} rows never sent"
    assert len(sent) == 60 * 3 + 30
    times = sorted(at for at, _chat in sent)
    for i, at in enumerate(times):  # any one-second window
        assert sum(1 for other in times[i:] if other < at + 1.0) <= limits.overall_per_second
    by_chat: dict[str, list[float]] = {}
    for at, chat in sent:
        by_chat.setdefault(chat, []).append(at)
    for chat_id, chat_times in by_chat.items():
        gaps = [b - a for a, b in itertools.pairwise(chat_times)]
        assert all(gap >= limits.per_chat_interval - 1e-6 for gap in gaps), (chat_id, gaps)
    group = sorted(by_chat["-100"])
    for i, at in enumerate(group):
        assert sum(1 for other in group[i:] if other < at + 60.0) <= limits.group_per_minute
    assert group[20] >= group[0] + 60.0  # the 21st group message waited for the minute
