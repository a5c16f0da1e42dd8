"""Telegram's send limits and partial-send progress in Redis, shared by every worker.

Each decision is one Lua script, so it is atomic across workers: two workers asking for the same
chat at the same instant get one "go" and one "wait", and the overall 28/s and the groups' 20 a
minute count every worker's sends. The rules are the in-process limiter's (limits.py), step for
step: a chat's next free time, its queue of waiting deliveries (each keeps its place until
``grace`` after its turn), the overall sends of the last second and a group's of the last minute.

Time is the caller's clock (the outbox's injected clock), passed into each script: that keeps the
limiter exact under test and in step with the outbox's ``next_attempt_at``. Workers on one host
share its clock; across hosts keep them NTP-synchronised (a skew of a few ms shifts a turn by as
much).

Keys (all under the prefix): ``tg:c:{chat}:next|order|until|recent`` per chat, ``tg:all`` for the
overall rate, ``tg:p:{delivery}`` for progress. Every key expires once nothing in it can matter, so
idle chats cost nothing. One Redis (not a cluster: the overall key and a chat's keys share scripts).
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from adapters.telegram.limits import Limits

PROGRESS_TTL_SECONDS = 7 * 86400  # longer than any outbox row keeps being retried

# Shared helpers: numbers are stored with all 17 digits (Lua's tostring keeps 14), so a time read back
# compares exactly as the in-process limiter's floats do.
_PRELUDE = """
local function num(s, default) if s then return tonumber(s) end return default end
local function fmt(x) return string.format('%.17g', x) end
local function trim_before(key, cutoff)
  while true do
    local first = redis.call('LINDEX', key, 0)
    if not first or tonumber(first) > cutoff then return end
    redis.call('LPOP', key)
  end
end
local function extend(key, seconds)
  local ms = math.ceil(seconds * 1000)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
"""

# KEYS: next, order, until, recent, overall
# ARGV: now, delivery, group (0/1), interval, overall_per_second, group_per_minute, grace
_WAIT_FOR = (
    _PRELUDE
    + """
local now, d, group = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'
local interval, per_second = tonumber(ARGV[4]), tonumber(ARGV[5])
local per_minute, grace = tonumber(ARGV[6]), tonumber(ARGV[7])
local untils = redis.call('HGETALL', KEYS[3])
for i = 1, #untils, 2 do
  if untils[i] ~= d and tonumber(untils[i + 1]) < now then
    redis.call('HDEL', KEYS[3], untils[i])
    redis.call('ZREM', KEYS[2], untils[i])
  end
end
if not redis.call('ZSCORE', KEYS[2], d) then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  local score = 0
  if last[2] then score = tonumber(last[2]) + 1 end
  redis.call('ZADD', KEYS[2], score, d)
  redis.call('HSET', KEYS[3], d, fmt(now))
end
local position = redis.call('ZRANK', KEYS[2], d)
local ready = math.max(now, num(redis.call('GET', KEYS[1]), now))
if group then
  trim_before(KEYS[4], now - 60.0)
  local n = redis.call('LLEN', KEYS[4])
  if n >= per_minute then
    ready = math.max(ready, tonumber(redis.call('LINDEX', KEYS[4], n - per_minute)) + 60.0)
  end
end
trim_before(KEYS[5], now - 1.0)
local total = redis.call('LLEN', KEYS[5])
if total >= per_second then
  ready = math.max(ready, tonumber(redis.call('LINDEX', KEYS[5], total - per_second)) + 1.0)
end
if position == 0 and ready <= now then
  redis.call('ZREM', KEYS[2], d)
  redis.call('HDEL', KEYS[3], d)
  redis.call('SET', KEYS[1], fmt(now + interval))
  extend(KEYS[1], interval + 1)
  if group then
    redis.call('RPUSH', KEYS[4], fmt(now))
    extend(KEYS[4], 61)
  end
  redis.call('RPUSH', KEYS[5], fmt(now))
  extend(KEYS[5], 2)
  return '0'
end
local turn = ready + position * interval
redis.call('HSET', KEYS[3], d, fmt(turn + grace))
extend(KEYS[2], turn + grace - now + 1)
extend(KEYS[3], turn + grace - now + 1)
return fmt(math.max(turn - now, 0.001))
"""
)

# KEYS: next, order, until   ARGV: now, delivery, pause, grace
_KEEP_FRONT = (
    _PRELUDE
    + """
local now, d, pause, grace = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local next_free = num(redis.call('GET', KEYS[1]), now - 1e9)
local gives_up = math.max(now, next_free, now + pause) + grace
redis.call('HSET', KEYS[3], d, fmt(gives_up))
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[1] ~= d then
  local score = 0
  if first[2] then score = tonumber(first[2]) - 1 end
  redis.call('ZADD', KEYS[2], score, d)
end
local held = math.max(next_free, now + pause)
redis.call('SET', KEYS[1], fmt(held))
extend(KEYS[1], held - now + 1)
extend(KEYS[2], gives_up - now + 1)
extend(KEYS[3], gives_up - now + 1)
return '0'
"""
)

# KEYS: overall   ARGV: now
_NOTE_EDIT = (
    _PRELUDE
    + """
local now = tonumber(ARGV[1])
trim_before(KEYS[1], now - 1.0)
redis.call('RPUSH', KEYS[1], fmt(now))
extend(KEYS[1], 2)
return '0'
"""
)


class RedisBooks:
    """``SendBooks`` over one Redis: the limits hold for all workers together."""

    def __init__(
        self, *, redis: Redis, now: Callable[[], float], limits: Limits | None = None, prefix: str = "wz:"
    ) -> None:
        self._redis = redis
        self._now = now
        self._limits = limits or Limits()
        self._prefix = prefix
        self._wait_for = redis.register_script(_WAIT_FOR)
        self._keep_front = redis.register_script(_KEEP_FRONT)
        self._note_edit = redis.register_script(_NOTE_EDIT)

    def _chat(self, chat_id: str) -> list[str]:
        base = f"{self._prefix}tg:c:{chat_id}:"
        return [base + "next", base + "order", base + "until", base + "recent"]

    @property
    def _overall(self) -> str:
        return f"{self._prefix}tg:all"

    async def wait_for(self, chat_id: str, delivery_id: str, *, group: bool) -> float:
        limits = self._limits
        answer = await self._wait_for(
            keys=[*self._chat(chat_id), self._overall],
            args=[
                repr(self._now()),
                delivery_id,
                "1" if group else "0",
                repr(limits.per_chat_interval),
                limits.overall_per_second,
                limits.group_per_minute,
                repr(limits.grace),
            ],
        )
        return float(answer)

    async def keep_front(self, chat_id: str, delivery_id: str, pause: float = 0.0) -> None:
        keys = self._chat(chat_id)[:3]
        await self._keep_front(keys=keys, args=[repr(self._now()), delivery_id, repr(pause), repr(self._limits.grace)])

    async def forget(self, chat_id: str, delivery_id: str) -> None:
        _next, order, until, _recent = self._chat(chat_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(order, delivery_id)
            pipe.hdel(until, delivery_id)
            await pipe.execute()

    async def note_edit(self) -> None:
        await self._note_edit(keys=[self._overall], args=[repr(self._now())])

    async def parts_done(self, delivery_id: str) -> int:
        value = await self._redis.get(self._progress_key(delivery_id))
        return int(value) if value is not None else 0

    async def set_parts_done(self, delivery_id: str, parts: int) -> None:
        await self._redis.set(self._progress_key(delivery_id), str(parts), ex=PROGRESS_TTL_SECONDS)

    async def clear_parts(self, delivery_id: str) -> None:
        await self._redis.delete(self._progress_key(delivery_id))

    async def close(self) -> None:
        await self._redis.aclose()

    def _progress_key(self, delivery_id: str) -> str:
        return f"{self._prefix}tg:p:{delivery_id}"
