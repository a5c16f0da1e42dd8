"""Failed sign-ins counted per client address, in this process's memory.

Why in memory: the embedded default is one process, and a database row per wrong guess would let a
guesser fill the single SQLite writer's queue. With several workers (Redis configured) the count is
kept in Redis instead (redis_login_throttle.py), so the limit holds for all workers together.
Behind a reverse proxy every client has the proxy's address: the limit then applies to all
sign-ins together.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol


class SignInThrottle(Protocol):
    """What the /staff page asks before and tells after a sign-in (in process or shared)."""

    async def retry_after(self, address: str) -> float | None: ...
    async def failed(self, address: str) -> None: ...
    async def succeeded(self, address: str) -> None: ...
    async def close(self) -> None: ...


class LoginThrottle:
    """At most ``max_failures`` failed attempts per address within ``window_seconds``."""

    def __init__(
        self,
        *,
        max_failures: int = 10,
        window_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._max_addresses = max_addresses  # memory stays bounded under a spray from many addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def retry_after(self, address: str) -> float | None:
        """Seconds until this address may try again, or None when it may try now."""
        now = self._clock()
        times = self._recent(address, now)
        if times is None or len(times) < self._max:
            return None
        return max(1.0, times[0] + self._window - now)

    def failed(self, address: str) -> None:
        now = self._clock()
        times = self._recent(address, now) or deque()
        times.append(now)
        while len(times) > self._max:
            times.popleft()
        self._failures[address] = times
        self._failures.move_to_end(address)
        while len(self._failures) > self._max_addresses:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


class LocalSignInThrottle:
    """``LoginThrottle`` behind the asynchronous interface the page uses."""

    def __init__(self, throttle: LoginThrottle) -> None:
        self._throttle = throttle

    async def retry_after(self, address: str) -> float | None:
        return self._throttle.retry_after(address)

    async def failed(self, address: str) -> None:
        self._throttle.failed(address)

    async def succeeded(self, address: str) -> None:
        self._throttle.succeeded(address)

    async def close(self) -> None:
        return None
