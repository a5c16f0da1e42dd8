"""The /staff page's ``StaffAuth`` port on the database: tokens are exchanged for page sessions.

Tokens expire ``token_max_age`` after they were issued (counted at check time, so shortening
``server.staff_token_days`` applies to tokens already out); a session ends at its own expiry, on
logout, or when its token is revoked or expires. Session checks run on every page call, on the
readers' pool; only signing in and out write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.web.staffweb import StaffAuth, StaffSignIn
from storage.staff import StaffRepository


class SqlStaffAuth:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
        repo: StaffRepository,
        clock: Callable[[], datetime],
        token_max_age: timedelta,
        session_max_age: timedelta,
    ) -> None:
        self._sessions = sessions
        self._readers = readers
        self._repo = repo
        self._clock = clock
        self._token_max_age = token_max_age
        self._session_max_age = session_max_age

    async def sign_in(self, token: str) -> StaffSignIn | None:
        now = self._clock()
        async with self._sessions.begin() as session:
            found = await self._repo.live_token(session, token, now, self._token_max_age)
            if found is None:
                return None
            person, row = found
            # A session never outlives the token it came from.
            ttl = min(self._session_max_age, row.created_at + self._token_max_age - now)
            session_id, expires = await self._repo.open_session(session, person.id, row.id, now, ttl)
        return StaffSignIn(person.id, session_id, expires)

    async def staff_for(self, session_id: str) -> int | None:
        async with self._readers() as session:
            return await self._repo.session_staff(session, session_id, self._clock(), self._token_max_age)

    async def sign_out(self, session_id: str) -> None:
        async with self._sessions.begin() as session:
            await self._repo.close_session(session, session_id, self._clock())


def _conforms(auth: SqlStaffAuth) -> StaffAuth:
    """Checked by mypy only: the class satisfies the port."""
    return auth
