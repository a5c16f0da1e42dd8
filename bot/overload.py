"""Budgets from the moment a request arrives, and shedding load before answering late.

WeChat and Weibo give up on an answer after 5 s (then retry, and WeChat may show the citizen
"该公众号暂时无法提供服务"). Under a burst the time that matters is not the dialog's but the whole
request's, so:

* The app's first middleware stamps when a request entered it (``stamp_arrival``); the channels'
  budgets count from that stamp, so parsing, decryption and waiting for the conversation's lock
  are inside the budget. (An earlier version also subtracted the loop's measured lag, as a guess at
  how long the bytes had waited before that: after any stall it made every following request look
  seconds old and shed it. The guess is gone; the lag only feeds the admission estimate.)
* ``LoopLag`` measures how late the event loop runs (a 50 ms tick that notes its own oversleep).
* ``Admission`` decides, for a message with a budget, whether storing it can still happen in time:
  the writer's backlog times the recent time per job (``storage.group_commit``), plus the lag,
  against what is left of the budget. If not, the channel answers 503 at once (a fast, retryable
  answer; nothing stored, nothing acknowledged) instead of taking the work and answering late.
  The platform's retry comes back when the burst has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from adapters.base import ARRIVED

TICK_SECONDS = 0.05
LAG_DECAY = 0.5  # the lag estimate follows the loop within a few ticks, up and down


class LoopLag:
    """How late the event loop is running right now, in seconds (0.0 on an idle loop)."""

    def __init__(self) -> None:
        self._lag = 0.0

    @property
    def seconds(self) -> float:
        return self._lag

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            expected = loop.time() + TICK_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_SECONDS)
            late = max(0.0, loop.time() - expected)
            self._lag = LAG_DECAY * self._lag + (1 - LAG_DECAY) * late if late < self._lag else late


@web.middleware
async def stamp_arrival(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The first middleware: when the request entered the app (monotonic seconds), for the
    channels' budgets (``adapters.base.ARRIVED``)."""
    request[ARRIVED] = time.monotonic()
    return await handler(request)


@dataclass(frozen=True, slots=True)
class AdmissionSettings:
    # Take a message only if it should be stored within this share of what is left of its budget.
    margin: float = 0.6
    # Arriving with less than this share of the budget left (at most ``min_remaining_seconds``),
    # a message is refused at once: by the time it is stored the platform has given up.
    min_remaining_share: float = 0.15
    min_remaining_seconds: float = 0.5
    min_backlog: int = 32  # fewer jobs queued than this are never an overload
    min_samples: int = 8  # batches measured before the rate is trusted


class Admission:
    """Whether a budgeted message can still be stored in time (see the module docstring)."""

    def __init__(self, *, lag: LoopLag, settings: AdmissionSettings | None = None) -> None:
        self._lag = lag
        self._settings = settings or AdmissionSettings()

    def remaining(self, budget: float, arrived: float | None) -> float:
        """What is left of ``budget`` for a request that arrived at ``arrived`` (monotonic)."""
        return budget if arrived is None else budget - (time.monotonic() - arrived)

    def admit(
        self, budget: float, remaining: float, *, backlog: int, seconds_per_job: float, samples: int = 16
    ) -> bool:
        """``backlog``: jobs queued for the database writer ahead of this one; ``samples``: batches
        behind ``seconds_per_job``."""
        settings = self._settings
        if remaining < min(settings.min_remaining_seconds, settings.min_remaining_share * budget):
            return False
        if backlog < settings.min_backlog or samples < settings.min_samples:
            # A short queue is not an overload, and a few batches (one of them slow: a cold start)
            # say nothing yet about the rate: never shed on them.
            return True
        expected = backlog * seconds_per_job + self._lag.seconds
        return expected <= remaining * settings.margin
