"""Dialog session stores: in-process, SQLite file and Redis, held to the same behaviour."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from storage.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from storage.sqlite_sessions import SessionStoreUnavailable, SqliteSessionStore


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteSessionStore]:
    store = SqliteSessionStore(path=tmp_path / "sessions.db")
    yield store
    await store.close()


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore()
    else:
        yield request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def test_put_get_overwrite(store: SessionStore) -> None:
    assert await store.get("telegram:bot:1") is None
    await store.put("telegram:bot:1", '{"form": "intake", "slot": "category"}', 60)
    assert await store.get("telegram:bot:1") == '{"form": "intake", "slot": "category"}'
    await store.put("telegram:bot:1", '{"slot": "地点"}', 60)
    assert await store.get("telegram:bot:1") == '{"slot": "地点"}'
    assert await store.get("telegram:bot:2") is None


async def test_entries_expire(store: SessionStore) -> None:
    await store.put("short", "v", 0.2)
    await store.put("long", "v", 60)
    assert await store.get("short") == "v"
    await asyncio.sleep(0.35)
    assert await store.get("short") is None
    assert await store.get("long") == "v"


async def test_put_renews_the_ttl(store: SessionStore) -> None:
    await store.put("k", "1", 0.3)
    await asyncio.sleep(0.2)
    await store.put("k", "2", 0.3)
    await asyncio.sleep(0.2)
    assert await store.get("k") == "2"


async def test_delete(store: SessionStore) -> None:
    await store.put("k", "v", 60)
    await store.delete("k")
    assert await store.get("k") is None
    await store.delete("never-there")  # no error


async def test_add_once(store: SessionStore) -> None:
    assert await store.add_once("nonce-1", 60) is True
    assert await store.add_once("nonce-1", 60) is False
    assert await store.add_once("nonce-2", 60) is True
    assert await store.get("nonce-1") is None  # nonces are not session states


async def test_add_once_forgets_after_its_ttl(store: SessionStore) -> None:
    assert await store.add_once("nonce", 0.2) is True
    await asyncio.sleep(0.35)
    assert await store.add_once("nonce", 0.2) is True


async def _hold(store: SessionStore, key: str, name: str, log: list[str], seconds: float = 0.15) -> None:
    async with store.lock(key, timeout_seconds=10):
        log.append(f"{name}+")
        await asyncio.sleep(seconds)
        log.append(f"{name}-")


async def test_lock_serialises_the_same_key(store: SessionStore) -> None:
    log: list[str] = []
    await asyncio.gather(_hold(store, "conv", "a", log), _hold(store, "conv", "b", log))
    assert log in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])


async def test_lock_does_not_serialise_different_keys(store: SessionStore) -> None:
    log: list[str] = []
    await asyncio.gather(_hold(store, "conv-1", "a", log), _hold(store, "conv-2", "b", log))
    assert sorted(log[:2]) == ["a+", "b+"]  # both inside before either left


async def test_lock_is_released_after_an_error(store: SessionStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.lock("conv"):
            raise RuntimeError("dialog bug")
    async with asyncio.timeout(2), store.lock("conv", timeout_seconds=1):
        pass


async def test_lock_wait_times_out(store: SessionStore) -> None:
    holding = asyncio.Event()
    done = asyncio.Event()

    async def holder() -> None:
        async with store.lock("busy", timeout_seconds=10):
            holding.set()
            await done.wait()

    task = asyncio.create_task(holder())
    await holding.wait()
    try:
        with pytest.raises(TimeoutError):
            async with store.lock("busy", timeout_seconds=0.3):
                pytest.fail("entered a lock someone else holds")
    finally:
        done.set()
        await task
    async with store.lock("busy", timeout_seconds=1):
        pass


async def test_redis_lock_key_exists_only_inside_the_block(redis_store: RedisSessionStore, raw_redis: Redis) -> None:
    async with redis_store.lock("telegram:bot:1"):
        assert await raw_redis.exists("wz:l:telegram:bot:1") == 1
        ttl_ms = await raw_redis.pttl("wz:l:telegram:bot:1")
        assert 0 < ttl_ms <= 30_000  # it expires by itself if the worker dies
    assert await raw_redis.exists("wz:l:telegram:bot:1") == 0


async def test_redis_keys_and_ttls(redis_store: RedisSessionStore, raw_redis: Redis) -> None:
    await redis_store.put("k", "状态", 90)
    await redis_store.add_once("n", 30)
    assert await raw_redis.get("wz:s:k") == "状态"
    assert 85_000 < await raw_redis.pttl("wz:s:k") <= 90_000
    assert 25_000 < await raw_redis.pttl("wz:o:n") <= 30_000
    assert await redis_store.ping() is True


async def test_redis_prefixes_keep_stores_apart(redis_url: str, redis_store: RedisSessionStore) -> None:
    other = RedisSessionStore.from_url(redis_url, prefix="other:")
    try:
        await redis_store.put("k", "mine", 60)
        assert await other.get("k") is None
        assert await other.add_once("n", 60) is True
        assert await redis_store.add_once("n", 60) is True
    finally:
        await other.close()


async def test_memory_store_is_a_bounded_lru() -> None:
    store = MemorySessionStore(max_entries=3)
    await store.put("a", "1", 60)
    await store.put("b", "2", 60)
    await store.put("c", "3", 60)
    assert await store.get("a") == "1"  # a is now the most recently used
    await store.put("d", "4", 60)  # evicts the least recently used: b
    assert len(store) == 3
    assert await store.get("b") is None
    assert [await store.get(k) for k in ("a", "c", "d")] == ["1", "3", "4"]
    await store.put("c", "33", 60)  # overwrite: no growth, c becomes most recent
    await store.put("e", "5", 60)  # evicts a
    assert len(store) == 3
    assert await store.get("a") is None
    assert [await store.get(k) for k in ("c", "d", "e")] == ["33", "4", "5"]


async def test_memory_store_close_forgets_everything() -> None:
    store = MemorySessionStore()
    await store.put("k", "v", 60)
    await store.close()
    assert len(store) == 0
    assert await store.get("k") is None


async def test_memory_replay_keys_survive_session_eviction() -> None:
    store = MemorySessionStore(max_entries=2)
    assert await store.add_once("nonce-1", 300)
    for i in range(10):  # a burst of sessions pushes everything else out of the LRU
        await store.put(f"s{i}", "{}", 300)
    assert not await store.add_once("nonce-1", 300)  # the replay is still refused


@dataclass
class WallClock:
    now: float = 1_795_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_sqlite_sessions_and_replay_keys_survive_a_restart(tmp_path: Path) -> None:
    clock = WallClock()
    first = SqliteSessionStore(path=tmp_path / "s.db", clock=clock)
    await first.put("web:web:abc", '{"slot": "地点"}', 1800)
    await first.put("gone", "v", 1800)
    await first.delete("gone")
    assert await first.add_once("nonce", 300)
    await first.close()  # the process ends (a kill leaves the same file: WAL, committed per call)

    again = SqliteSessionStore(path=tmp_path / "s.db", clock=clock)
    try:
        assert await again.get("web:web:abc") == '{"slot": "地点"}'
        assert await again.get("gone") is None
        assert not await again.add_once("nonce", 300)  # a replay after the restart is still refused
        clock.now += 1801  # the TTL runs on the wall clock, across restarts
        assert await again.get("web:web:abc") is None
        assert len(again) == 0
    finally:
        await again.close()


async def test_sqlite_sweeps_expired_rows(tmp_path: Path) -> None:
    clock = WallClock()
    store = SqliteSessionStore(path=tmp_path / "s.db", clock=clock)
    try:
        for i in range(50):
            await store.put(f"old{i}", "{}", 10)
            await store.add_once(f"n{i}", 10)
        clock.now += 120  # past their TTL and past the sweep interval
        await store.put("new", "{}", 10)
        conn = sqlite3.connect(tmp_path / "s.db")
        try:
            assert conn.execute("select count(*) from dialog_sessions").fetchone() == (1,)
            assert conn.execute("select count(*) from seen_keys").fetchone() == (0,)
        finally:
            conn.close()
    finally:
        await store.close()


async def test_sqlite_store_failure_is_retryable(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_bytes(b"this is not a database file" * 100)
    store = SqliteSessionStore(path=tmp_path / "not-a-db")
    with pytest.raises(SessionStoreUnavailable) as caught:
        await store.get("k")
    assert isinstance(caught.value, OSError)  # the dispatcher answers "retry later" (503), not 500
