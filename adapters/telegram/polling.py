"""Telegram long polling (``mode: polling``, development without a public URL): getUpdates in a
loop, each update handed to the channel as the webhook would hand it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, Update
from telegram.error import TelegramError

from adapters.base import TemporarilyUnavailable
from adapters.telegram.client import ALLOWED_UPDATES

CHANNEL = "telegram"

log = logging.getLogger(__name__)
T = TypeVar("T")


async def poll(bot: Bot, stop: asyncio.Event, *, timeout: float, handle: Callable[[Update], Awaitable[None]]) -> None:
    """Fetch updates until ``stop`` and ``handle`` each. The offset advances only past stored
    updates, so an update that met a storage outage is fetched again."""
    offset: int | None = None
    failures = 0
    webhook_cleared = False
    while not stop.is_set():
        try:
            if not webhook_cleared:
                # getUpdates is refused while a webhook is set; keep queued updates.
                await _until(stop, bot.delete_webhook(drop_pending_updates=False))
                log.info("polling Telegram for updates (any webhook was removed)", extra={"channel": CHANNEL})
                webhook_cleared = True
            updates = await _until(
                stop,
                bot.get_updates(offset=offset, timeout=int(timeout), allowed_updates=list(ALLOWED_UPDATES)),
            )
        except TelegramError as exc:
            failures += 1
            log.warning("telegram getUpdates failed (%s); retrying", exc, extra={"channel": CHANNEL})
            await _pause(stop, min(60.0, 2.0**failures))
            continue
        if updates is None:
            break
        failures = 0
        for update in updates:
            try:
                await handle(update)
            except TemporarilyUnavailable:
                log.warning("storage unavailable; update %s will be fetched again", update.update_id)
                await _pause(stop, 5.0)
                break
            offset = update.update_id + 1


async def _until(stop: asyncio.Event, call: Awaitable[T]) -> T | None:
    """``call``'s result, or None as soon as ``stop`` is set (the call is then cancelled)."""
    task = asyncio.ensure_future(call)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        return None
    finally:
        for pending in (task, stopper):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await pending


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
