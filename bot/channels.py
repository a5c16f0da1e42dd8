"""The platform channels (WeChat, Telegram, Weibo), built from the config when enabled.

Each channel's construction lives in its own ``bot/wire_<name>.py`` (``build(config, deps)``),
imported only when that channel is enabled, so a disabled channel costs nothing at start and
its SDK is not even loaded.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import Channel, InboundSink, Route
from bot.config import AppConfig
from bot.metrics import Metrics
from storage.sessions import SessionStore

PLATFORMS = ("wechat", "telegram", "weibo")


@dataclass(frozen=True)
class ChannelDeps:
    """What a platform channel may use; everything else stays out of its reach."""

    sink: InboundSink  # the dispatcher
    store: SessionStore  # nonce cache (add_once) and shared tokens/locks across workers
    clock: Callable[[], datetime]
    metrics: Metrics
    sessions: async_sessionmaker[AsyncSession]  # only for wiring code in bot/, never for adapters
    max_body_bytes: int
    public_url: str | None
    staff_group_chats: frozenset[str]  # Telegram chat ids of departments' staff groups
    redis_url: str | None = None  # state the workers share beyond the session store (Telegram's send books)


class WebhookChannel(Channel, Protocol):
    def routes(self) -> list[Route]: ...


@runtime_checkable
class BackgroundChannel(Protocol):
    """A channel with work of its own while the service runs (Telegram long polling)."""

    async def run(self, stop: asyncio.Event) -> None: ...


def platform_channels(config: AppConfig, deps: ChannelDeps) -> dict[str, WebhookChannel]:
    built: dict[str, WebhookChannel] = {}
    for name in PLATFORMS:
        settings = getattr(config.channels, name)
        if settings.enabled:
            wiring = importlib.import_module(f"bot.wire_{name}")
            built[name] = wiring.build(settings, deps)
    return built
