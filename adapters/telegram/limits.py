"""Telegram's flood limits, kept by telling the outbox when to come back instead of sleeping.

The Bot API allows about one message per second in a chat, twenty per minute in a group and
thirty per second overall; past that it answers 429 and, if pushed, stops the bot for a while.
The outbox worker sends one row after another, so sleeping in ``send`` would hold up every
other chat behind one busy citizen. Instead the limiter answers "wait N seconds" and the channel
raises a retryable error with ``retry_after=N``: the row goes back to the outbox and the worker
moves on. Each chat keeps a queue of the deliveries waiting for it, so a citizen's messages go
out in the order they were queued even though each one may come back more than once.

The bookkeeping is in this process only: with several workers each keeps its own books, so the
limits hold per worker (the README says so). Time comes from the injected clock, which makes the
limiter exact under test and makes the outbox's ``next_attempt_at`` and the limiter agree.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    per_chat_interval: float = 1.0  # seconds between two messages to one chat (Telegram's limit)
    overall_per_second: int = 30
    group_per_minute: int = 20
    grace: float = 30.0  # a delivery that does not come back this long after its turn loses its place


# What the service runs with: a little under Telegram's published limits, because at exactly the
# limit the jitter between our clock and theirs drew 429s (BENCHMARKS.md, outbox drain).
SERVICE_LIMITS = Limits(per_chat_interval=1.1, overall_per_second=28)


@dataclass
class _Lane:
    """One chat: when it may next be written to, who is waiting, and (groups) the last minute."""

    next_free: float = float("-inf")
    waiting: OrderedDict[str, float] = field(default_factory=OrderedDict)  # delivery id -> gives up its place at
    recent: deque[float] = field(default_factory=deque)  # send times in the last minute (groups)

    def idle(self, now: float) -> bool:
        return not self.waiting and self.next_free <= now and (not self.recent or self.recent[-1] <= now - 60.0)


class SendLimiter:
    """Decides, for one attempt to send to a chat, "go now" (0.0) or "come back in N seconds"."""

    def __init__(self, now: Callable[[], float], limits: Limits | None = None) -> None:
        self._now = now
        self._limits = limits or Limits()
        self._lanes: dict[str, _Lane] = {}
        self._overall: deque[float] = deque()
        self._calls = 0

    def wait_for(self, chat_id: str, delivery_id: str, *, group: bool) -> float:
        """0.0 when this delivery may send now (the send is booked: call it); otherwise the seconds
        until its turn. A waiting delivery keeps its place in the chat's queue."""
        now = self._now()
        self._housekeeping(now)
        limits = self._limits
        lane = self._lanes.setdefault(chat_id, _Lane())
        for stale in [d for d, until in lane.waiting.items() if until < now and d != delivery_id]:
            del lane.waiting[stale]  # came back to another worker, or was dead-lettered
        if delivery_id not in lane.waiting:
            lane.waiting[delivery_id] = now  # placeholder, set below
        position = list(lane.waiting).index(delivery_id)
        ready = max(now, lane.next_free)
        if group:
            while lane.recent and lane.recent[0] <= now - 60.0:
                lane.recent.popleft()
            if len(lane.recent) >= limits.group_per_minute:
                ready = max(ready, lane.recent[-limits.group_per_minute] + 60.0)
        while self._overall and self._overall[0] <= now - 1.0:
            self._overall.popleft()
        if len(self._overall) >= limits.overall_per_second:
            ready = max(ready, self._overall[-limits.overall_per_second] + 1.0)
        if position == 0 and ready <= now:
            del lane.waiting[delivery_id]
            self._book(lane, now, group)
            return 0.0
        turn = ready + position * limits.per_chat_interval
        lane.waiting[delivery_id] = turn + limits.grace
        return max(turn - now, 0.001)

    def keep_front(self, chat_id: str, delivery_id: str, pause: float = 0.0) -> None:
        """A delivery that sent part of a long message, or failed after being let through, comes
        back first: the chat's later messages must not overtake it. ``pause`` holds the whole chat
        (Telegram's ``retry_after``)."""
        now = self._now()
        lane = self._lanes.setdefault(chat_id, _Lane())
        lane.waiting[delivery_id] = max(now, lane.next_free, now + pause) + self._limits.grace
        lane.waiting.move_to_end(delivery_id, last=False)
        lane.next_free = max(lane.next_free, now + pause)

    def forget(self, chat_id: str, delivery_id: str) -> None:
        """The delivery is finished for good (sent, or dead): it no longer holds a place."""
        lane = self._lanes.get(chat_id)
        if lane is not None:
            lane.waiting.pop(delivery_id, None)

    def note_edit(self) -> None:
        """An edit (a pressed button marked) is not queued, but counts against the overall rate."""
        self._overall.append(self._now())

    def _book(self, lane: _Lane, now: float, group: bool) -> None:
        lane.next_free = now + self._limits.per_chat_interval
        if group:
            lane.recent.append(now)
        self._overall.append(now)

    def _housekeeping(self, now: float) -> None:
        """Drop chats with nothing pending now and then, so a busy service's memory stays flat."""
        self._calls += 1
        if self._calls % 1024:
            return
        for chat_id in [c for c, lane in self._lanes.items() if lane.idle(now)]:
            del self._lanes[chat_id]
