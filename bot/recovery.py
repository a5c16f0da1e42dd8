"""The recovery sweep: messages stored but never processed (a crash between the dispatcher's two
transactions) are run again, and expired request nonces pruned."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import ConversationRef, Inbound
from storage.identities import IdentityRepository
from storage.inbound import InboundRepository

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

log = logging.getLogger(__name__)


async def unprocessed(
    sessions: async_sessionmaker[AsyncSession],
    inbound: InboundRepository,
    identities: IdentityRepository,
    cutoff: datetime,
    limit: int,
) -> list[Inbound]:
    """Messages stored before ``cutoff`` and never processed, as the channel handed them in
    (those whose sender is gone are left out)."""
    async with sessions() as session:
        pending = await inbound.unprocessed(session, cutoff, limit)
        refs: dict[int, ConversationRef] = {}
        for row in pending:
            identity = await identities.get(session, row.identity_id)
            if identity is not None:
                refs[row.id] = ConversationRef(identity.channel, identity.account, identity.chat_id)
    restored: list[Inbound] = []
    for row in pending:
        ref = refs.get(row.id)
        if ref is None:
            continue
        try:
            restored.append(
                Inbound.restore(
                    conversation=ref,
                    message_key=row.message_key,
                    kind=row.kind,
                    received_at=row.received_at,
                    text=row.text,
                    payload=row.payload,
                    raw=row.raw,
                )
            )
        except (ValueError, KeyError, TypeError):  # one unreadable row must not hold up the others
            log.exception("stored message %s cannot be rebuilt; left for an operator", row.id)
    return restored


async def recovery_loop(dispatcher: Dispatcher, stop: asyncio.Event, every_seconds: float = 60.0) -> None:
    """Messages stored but not processed (a crash between store and reply) are run again."""
    while not stop.is_set():
        try:
            done = await dispatcher.recover()
            if done:
                log.warning("recovered %d unprocessed inbound messages", done)
            await dispatcher.forget_expired_nonces()
        except Exception:
            log.exception("recovery sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
