"""Dialog session stores: in-process for one worker, Redis for many. One interface.

States are opaque JSON strings here; the dialogs own their shape. The store also serialises work
on one conversation (``lock``), so two messages from the same citizen, or a double tap on
"submit", never run the form twice at once, in one worker (asyncio) or across workers (Redis).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Protocol

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import LockError


class SessionStore(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, ttl_seconds: float) -> None: ...
    async def delete(self, key: str) -> None: ...
    def lock(self, key: str, timeout_seconds: float = 30.0) -> AbstractAsyncContextManager[None]: ...
    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        """True the first time a key is seen within its TTL (nonces, replay protection)."""
        ...

    async def close(self) -> None: ...


class LocalLocks:
    """Per-conversation asyncio locks for a single process; an entry lives only while in use."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str, timeout_seconds: float) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with asyncio.timeout(timeout_seconds):
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class MemorySessionStore:
    """Bounded LRU with per-entry expiry; right for the embedded single-process default."""

    def __init__(self, max_entries: int = 200_000) -> None:
        # Values kept as UTF-8 bytes: a str holding Chinese takes 2-4 bytes a character, bytes 3
        # once and compactly; 100,000 sessions drop from ~331 to ~274 MB (BENCHMARKS.md).
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._locks = LocalLocks()
        # Replay keys live apart from sessions: evicting a nonce early would let a replay through.
        # They are only ever dropped when they expire (oldest first, as they were added in order).
        self._seen: OrderedDict[str, float] = OrderedDict()

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    async def get(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._now():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value.decode()

    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        self._data[key] = (self._now() + ttl_seconds, value.encode())
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def lock(self, key: str, timeout_seconds: float = 30.0) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(key, timeout_seconds)

    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        now = self._now()
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen[key] = now + ttl_seconds
        self._seen.move_to_end(key)
        return True

    async def close(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class RedisSessionStore:
    def __init__(self, redis: Redis, prefix: str = "wz:") -> None:
        self._redis = redis
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "wz:") -> RedisSessionStore:
        # A blocking pool waits for a free connection instead of failing with "Too many
        # connections" under a burst (the cause of the 503s measured in BENCHMARKS.md).
        pool = BlockingConnectionPool.from_url(
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5, max_connections=64, timeout=5
        )
        return cls(Redis(connection_pool=pool), prefix)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + "s:" + key)
        return None if value is None else str(value)

    async def put(self, key: str, value: str, ttl_seconds: float) -> None:
        await self._redis.set(self._prefix + "s:" + key, value, px=max(1, int(ttl_seconds * 1000)))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + "s:" + key)

    @asynccontextmanager
    async def lock(self, key: str, timeout_seconds: float = 30.0) -> AsyncIterator[None]:
        # The lock expires by itself (timeout) so a crashed worker cannot hold a citizen forever.
        lock = self._redis.lock(self._prefix + "l:" + key, timeout=timeout_seconds, blocking_timeout=timeout_seconds)
        if not await lock.acquire():
            raise TimeoutError(f"conversation {key} is busy")
        try:
            yield
        finally:
            with suppress(LockError):  # expired while we worked; the work is done, nothing to undo
                await lock.release()

    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        created = await self._redis.set(self._prefix + "o:" + key, "1", nx=True, px=max(1, int(ttl_seconds * 1000)))
        return bool(created)

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> bool:
        return bool(await self._redis.ping())


def _conforms(memory: MemorySessionStore, redis: RedisSessionStore) -> tuple[SessionStore, SessionStore]:
    """Checked by mypy only: both stores satisfy the protocol."""
    return memory, redis
