"""Failed sign-ins counted per client address, in this process's memory.

Why in memory: the embedded default is one process, and a database row per wrong guess would let a
guesser fill the single SQLite writer's queue. With several workers each keeps its own count, so
the effective limit is the per-worker limit times the workers (still ~10 guesses a minute each
against a 256-bit token). Behind a reverse proxy every client has the proxy's address: the limit
then applies to all sign-ins together.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


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
