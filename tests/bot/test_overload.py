"""Budgets count from arrival, and load is shed with a fast "retry" instead of a late answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import ARRIVED, TemporarilyUnavailable
from bot.overload import Admission, AdmissionSettings, LoopLag, stamp_arrival
from bot.services import Services
from storage.models import InboundMessage
from tests.app_helpers import Clock
from tests.bot.test_dispatcher import RICH, count, message, start, stop


@pytest.fixture
async def svc(tmp_path: Path, database_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    services = await start(tmp_path, database_url, Clock())
    yield services
    await stop(services)


async def test_loop_lag_sees_a_blocked_loop_and_forgets_it() -> None:
    lag = LoopLag()
    stop_event = asyncio.Event()
    task = asyncio.create_task(lag.run(stop_event))
    await asyncio.sleep(0.12)
    assert lag.seconds < 0.05
    time.sleep(0.3)  # the loop is stuck, as under a burst of CPU-heavy requests
    await asyncio.sleep(0.005)  # the ticker, overdue, runs first
    assert lag.seconds >= 0.2
    await asyncio.sleep(0.5)
    assert lag.seconds < 0.05  # recovered: the estimate follows the loop back down
    stop_event.set()
    await task


def test_admission_takes_what_it_can_store_in_time_and_sheds_the_rest() -> None:
    lag = LoopLag()
    admission = Admission(lag=lag, settings=AdmissionSettings(margin=0.5))
    assert admission.admit(4.0, 4.0, backlog=0, seconds_per_job=10.0)  # nothing queued: always taken
    assert admission.admit(4.0, 4.0, backlog=20, seconds_per_job=10.0)  # a short queue is no overload
    assert admission.admit(4.0, 4.0, backlog=2000, seconds_per_job=2.0, samples=3)  # a cold start says nothing
    assert admission.admit(4.0, 4.0, backlog=900, seconds_per_job=0.002)  # 1.8 s of backlog, under half of 4 s
    assert not admission.admit(4.0, 4.0, backlog=1100, seconds_per_job=0.002)  # 2.2 s: it would answer late
    assert not admission.admit(4.0, 0.4, backlog=0, seconds_per_job=0.0)  # arrived with almost nothing left
    assert admission.admit(0.2, 0.2, backlog=0, seconds_per_job=0.0)  # a short budget is not "nothing left"
    arrived = time.monotonic() - 3.0
    assert 0.9 < admission.remaining(4.0, arrived) <= 1.0  # the budget counts from arrival


async def test_a_message_that_arrived_too_long_ago_is_shed_at_once_and_not_stored(svc: Services) -> None:
    started = time.perf_counter()
    with pytest.raises(TemporarilyUnavailable, match="overloaded"):
        await svc.dispatcher.handle(message(RICH), inline_limit=1, budget=4.0, arrived=time.monotonic() - 3.8)
    assert time.perf_counter() - started < 0.1  # a fast answer, not one at the end of the budget
    assert await count(svc, InboundMessage) == 0  # nothing stored, so nothing acknowledged
    shed = svc.metrics.messages_in.labels("webchat", "shed")._value.get()
    assert shed == 1
    # The platform's retry, arriving fresh, is taken and answered.
    handled = await svc.dispatcher.handle(message(RICH), inline_limit=1, budget=4.0, arrived=time.monotonic())
    assert handled.replies and await count(svc, InboundMessage) == 1


async def test_the_first_middleware_stamps_arrival_and_a_stall_before_it_is_not_counted_twice() -> None:
    """The stamp is when the request entered the app. A loop that stalled earlier (the lag ticker
    saw it) must not make a request that came after the stall look old: that shed a whole fuzz
    run's worth of pushes with 503."""
    lag = LoopLag()
    stop_event = asyncio.Event()
    ticker = asyncio.create_task(lag.run(stop_event))
    await asyncio.sleep(0.06)
    time.sleep(0.5)  # a stall, then the ticker reports it
    await asyncio.sleep(0.005)
    assert lag.seconds >= 0.3

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=repr(time.monotonic() - request[ARRIVED]))

    app = web.Application(middlewares=[stamp_arrival])
    app.router.add_get("/", echo)
    async with TestClient(TestServer(app)) as client:
        waited = float(await (await client.get("/")).text())
    assert 0 <= waited < 0.1
    stop_event.set()
    await ticker
