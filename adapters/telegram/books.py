"""The send books the Telegram sender keeps: the flood limiter's decisions and, per outbox row, how
many parts of a long message are already delivered.

Two implementations behind one async interface: ``LocalBooks`` (this process: the embedded
default, one worker) and ``RedisBooks`` (adapters/telegram/redis_books.py: every worker shares
them, so the limits hold for the bot as a whole and a row reclaimed by another worker sends only
the parts still missing).
"""

from __future__ import annotations

from typing import Protocol

from adapters.telegram.limits import SendLimiter


class SendBooks(Protocol):
    async def wait_for(self, chat_id: str, delivery_id: str, *, group: bool) -> float:
        """0.0: send now (the send is booked); otherwise the seconds until this delivery's turn."""
        ...

    async def keep_front(self, chat_id: str, delivery_id: str, pause: float = 0.0) -> None:
        """This delivery comes back first in its chat; ``pause`` holds the whole chat."""
        ...

    async def forget(self, chat_id: str, delivery_id: str) -> None: ...

    async def note_edit(self) -> None:
        """An edit counts against the overall rate."""
        ...

    async def parts_done(self, delivery_id: str) -> int: ...

    async def set_parts_done(self, delivery_id: str, parts: int) -> None: ...

    async def clear_parts(self, delivery_id: str) -> None: ...

    async def close(self) -> None: ...


class LocalBooks:
    """The in-process limiter and progress; right for one worker."""

    MAX_PROGRESS = 4096  # rows that never came back (dead-lettered) must not grow the map forever

    def __init__(self, limiter: SendLimiter) -> None:
        self._limiter = limiter
        self._progress: dict[str, int] = {}

    async def wait_for(self, chat_id: str, delivery_id: str, *, group: bool) -> float:
        return self._limiter.wait_for(chat_id, delivery_id, group=group)

    async def keep_front(self, chat_id: str, delivery_id: str, pause: float = 0.0) -> None:
        self._limiter.keep_front(chat_id, delivery_id, pause)

    async def forget(self, chat_id: str, delivery_id: str) -> None:
        self._limiter.forget(chat_id, delivery_id)

    async def note_edit(self) -> None:
        self._limiter.note_edit()

    async def parts_done(self, delivery_id: str) -> int:
        return self._progress.get(delivery_id, 0)

    async def set_parts_done(self, delivery_id: str, parts: int) -> None:
        if delivery_id not in self._progress and len(self._progress) >= self.MAX_PROGRESS:
            self._progress.pop(next(iter(self._progress)))
        self._progress[delivery_id] = parts

    async def clear_parts(self, delivery_id: str) -> None:
        self._progress.pop(delivery_id, None)

    async def close(self) -> None:
        self._progress.clear()
