"""Citizens and the channel identities they write from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, Identity
from storage.upsert import insert_ignore, table_of


class IdentityRepository:
    async def find(self, session: AsyncSession, channel: str, account: str, chat_id: str) -> Identity | None:
        stmt = select(Identity).where(
            Identity.channel == channel, Identity.account == account, Identity.chat_id == chat_id
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def find_chat(self, session: AsyncSession, channel: str, account: str, chat_id: str) -> Identity | None:
        """The identity behind a destination. Pushes to staff are addressed without our account
        (``ConversationRef(channel, "staff", id)``): their chat is found by channel and id alone."""
        found = await self.find(session, channel, account, chat_id)
        if found is not None:
            return found
        stmt = select(Identity).where(Identity.channel == channel, Identity.chat_id == chat_id).limit(1)
        return (await session.execute(stmt)).scalar_one_or_none()

    async def get_or_create(
        self, session: AsyncSession, channel: str, account: str, chat_id: str, now: datetime, locale: str
    ) -> Identity:
        found = await self.find(session, channel, account, chat_id)
        if found is not None:
            return found
        async with session.begin_nested():
            citizen = Citizen(created_at=now, locale=locale)
            session.add(citizen)
            await session.flush()
            new_id = await insert_ignore(
                session,
                table_of(Identity),
                {
                    "citizen_id": citizen.id,
                    "channel": channel,
                    "account": account,
                    "chat_id": chat_id,
                    "reachable": True,
                    "created_at": now,
                    "last_inbound_at": None,
                },
                ["channel", "account", "chat_id"],
            )
            if new_id is None:  # another worker created it between our read and write
                await session.delete(citizen)
        identity = await self.find(session, channel, account, chat_id)
        assert identity is not None
        return identity

    async def touch(self, session: AsyncSession, identity_id: int, now: datetime) -> None:
        """Record the citizen's last message: platform reply windows (48 h) are measured from it."""
        await session.execute(
            update(Identity).where(Identity.id == identity_id).values(last_inbound_at=now, reachable=True)
        )

    async def set_reachable(self, session: AsyncSession, identity_id: int, reachable: bool) -> None:
        await session.execute(update(Identity).where(Identity.id == identity_id).values(reachable=reachable))

    async def get(self, session: AsyncSession, identity_id: int) -> Identity | None:
        return await session.get(Identity, identity_id)
