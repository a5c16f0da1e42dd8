"""Failed /staff sign-ins counted in Redis: the limit holds for several workers together, with the
same answers as the in-process throttle (real Redis, injected clock)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from adapters.web.login_throttle import LocalSignInThrottle, LoginThrottle, SignInThrottle
from adapters.web.redis_login_throttle import RedisLoginThrottle

pytestmark = pytest.mark.redis


@dataclass
class Time:
    now: float = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def two_workers(redis_url: str) -> AsyncIterator[tuple[Time, list[SignInThrottle]]]:
    clock, prefix = Time(), f"t{uuid.uuid4().hex[:8]}:"
    throttles = [
        RedisLoginThrottle(
            redis=Redis.from_url(redis_url), max_failures=10, window_seconds=600, clock=clock, prefix=prefix
        )
        for _ in range(2)
    ]
    yield clock, list(throttles)
    for throttle in throttles:
        await throttle.close()


async def test_ten_failures_spread_over_two_workers_lock_the_address_out_on_both(
    two_workers: tuple[Time, list[SignInThrottle]],
) -> None:
    clock, (one, two) = two_workers
    for n in range(10):
        assert await (one if n % 2 else two).retry_after("198.51.100.7") is None, n
        await (one if n % 2 else two).failed("198.51.100.7")
        clock.now += 1
    assert await one.retry_after("198.51.100.7") == 590  # the first failure leaves the window then
    assert await two.retry_after("198.51.100.7") == 590
    assert await one.retry_after("203.0.113.9") is None  # another address is not affected
    clock.now += 590
    assert await two.retry_after("198.51.100.7") is None


async def test_a_success_anywhere_forgets_the_failures(two_workers: tuple[Time, list[SignInThrottle]]) -> None:
    _clock, (one, two) = two_workers
    for _ in range(9):
        await one.failed("203.0.113.9")
    await two.succeeded("203.0.113.9")
    await one.failed("203.0.113.9")
    assert await two.retry_after("203.0.113.9") is None


async def test_same_answers_as_the_in_process_throttle(redis_url: str) -> None:
    clock = Time()
    local = LocalSignInThrottle(LoginThrottle(max_failures=3, window_seconds=60, clock=clock))
    shared = RedisLoginThrottle(
        redis=Redis.from_url(redis_url),
        max_failures=3,
        window_seconds=60,
        clock=clock,
        prefix=f"t{uuid.uuid4().hex[:8]}:",
    )
    try:
        answers: dict[str, list[float | None]] = {"local": [], "shared": []}
        for step in range(12):
            for name, throttle in (("local", local), ("shared", shared)):
                answers[name].append(await throttle.retry_after("a"))
                if step != 7:
                    await throttle.failed("a")
                else:
                    await throttle.succeeded("a")
            clock.now += 7
        assert answers["shared"] == answers["local"]
        assert any(a is not None for a in answers["local"])
    finally:
        await shared.close()
