"""Failed /staff sign-ins counted in Redis, so the limit holds for the service as a whole.

With one process the in-memory ``LoginThrottle`` is enough; with several workers each would keep
its own count and a guesser spreading attempts over them would get the limit times the workers.
Here every worker adds to one sorted set per address (failure times, trimmed to the window), so
the tenth failure anywhere locks the address out everywhere. Time is wall-clock time, which all
workers share (a monotonic clock is per machine and per boot).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis


class RedisLoginThrottle:
    """At most ``max_failures`` failed attempts per address within ``window_seconds``, all workers
    together. Same answers as ``LoginThrottle``, asynchronously."""

    def __init__(
        self,
        *,
        redis: Redis,
        max_failures: int = 10,
        window_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
        prefix: str = "wz:",
    ) -> None:
        self._redis = redis
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._prefix = prefix

    def _key(self, address: str) -> str:
        return f"{self._prefix}login:{address}"

    async def retry_after(self, address: str) -> float | None:
        now = self._clock()
        key = self._key(address)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - self._window)
            pipe.zrange(key, -self._max, -self._max, withscores=True)
            _dropped, nth_latest = await pipe.execute()
        if not nth_latest:
            return None
        _member, oldest_counted = nth_latest[0]
        return max(1.0, float(oldest_counted) + self._window - now)

    async def failed(self, address: str) -> None:
        now = self._clock()
        key = self._key(address)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
            pipe.zremrangebyrank(key, 0, -(self._max + 1))  # only the latest ``max`` matter
            pipe.expire(key, int(self._window) + 1)
            await pipe.execute()

    async def succeeded(self, address: str) -> None:
        await self._redis.delete(self._key(address))

    async def close(self) -> None:
        await self._redis.aclose()
