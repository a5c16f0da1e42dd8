"""Seen request nonces: durable replay protection for signatures that do not cover the body."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SeenRequestNonce
from storage.upsert import insert_ignore_key, table_of


class NonceRepository:
    """Called inside the transaction that stores the message, so a nonce is kept exactly when its
    message is: a request refused or rolled back leaves no trace, and its retry is judged afresh."""

    async def claim(
        self,
        session: AsyncSession,
        *,
        channel: str,
        nonce: str,
        body_sha256: str,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        """True when the nonce is new (now recorded), expired (recorded again) or was seen with
        this very body (the platform sending the same request again); False for another body."""
        table = table_of(SeenRequestNonce)
        values = {"channel": channel, "nonce": nonce, "body_sha256": body_sha256, "expires_at": expires_at}
        if await insert_ignore_key(session, table, values, ["channel", "nonce"]):
            return True
        stmt = select(SeenRequestNonce.body_sha256, SeenRequestNonce.expires_at).where(
            SeenRequestNonce.channel == channel, SeenRequestNonce.nonce == nonce
        )
        seen = (await session.execute(stmt)).one()
        if seen.expires_at <= now:  # not yet pruned: its request could not pass any more
            await session.execute(
                update(SeenRequestNonce)
                .where(SeenRequestNonce.channel == channel, SeenRequestNonce.nonce == nonce)
                .values(body_sha256=body_sha256, expires_at=expires_at)
            )
            return True
        return hmac.compare_digest(str(seen.body_sha256), body_sha256)

    async def prune(self, session: AsyncSession, now: datetime) -> int:
        """Forget nonces whose requests would be refused as stale anyway."""
        result = await session.execute(
            delete(SeenRequestNonce).where(SeenRequestNonce.expires_at <= now).returning(SeenRequestNonce.nonce)
        )
        return len(result.all())
