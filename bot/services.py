"""The running service's parts, as ``build_services`` hands them down, and the keys under which the
web application holds them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.base import Channel
from adapters.web.staffweb import StaffWebChannel
from adapters.web.webchat import WebchatChannel
from bot.channels import WebhookChannel
from bot.config import AppConfig
from bot.dispatcher import Dispatcher
from bot.health import HealthCheck
from bot.metrics import Metrics
from bot.outbox import Outbox, OutboxWorker
from bot.overload import LoopLag
from bot.timers import TimerWorker
from dialogs.address import AddressParser
from dialogs.engine import DialogEngine
from storage.sessions import SessionStore
from tickets.context import Workflow
from tickets.segment import Segmenter


@dataclass
class Services:
    config: AppConfig
    db: AsyncEngine
    reader_db: AsyncEngine  # reads only; on SQLite its own pool, beside the single writer
    sessions: async_sessionmaker[AsyncSession]
    store: SessionStore
    metrics: Metrics
    dispatcher: Dispatcher
    outbox: Outbox
    worker: OutboxWorker
    engine: DialogEngine
    channels: dict[str, Channel]
    webchat: WebchatChannel | None
    clock: Callable[[], datetime]
    addresses: AddressParser
    workflow: Workflow
    timer_worker: TimerWorker
    staffweb: StaffWebChannel
    platforms: dict[str, WebhookChannel]
    segmenter: Segmenter | None = None  # jieba for duplicates and hot topics: loaded at start
    loop_lag: LoopLag = field(default_factory=LoopLag)  # how late the loop runs: budgets count from arrival
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def dispose_databases(self) -> None:
        """Close both pools (on SQLite the readers have their own)."""
        if self.reader_db.sync_engine.pool is not self.db.sync_engine.pool:
            await self.reader_db.dispose()
        await self.db.dispose()


SERVICES = web.AppKey("services", Services)
HEALTH = web.AppKey("health", HealthCheck)
