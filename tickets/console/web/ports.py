"""What the console needs from the runtime, as ports: ``bot.wire_console`` hands in the
implementations (the /staff page's session store and login throttle), so the console shares their
sessions table and rules without importing the runtime or another adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tickets.context import Workflow
from tickets.staff_desk import StaffDesk


class SignedIn(Protocol):
    @property
    def staff_id(self) -> int: ...
    @property
    def session_id(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


class SessionAuth(Protocol):
    """Staff tokens exchanged for server-side sessions (rows, stored hashed; revocable)."""

    async def sign_in(self, token: str) -> SignedIn | None: ...

    async def staff_for(self, session_id: str) -> int | None: ...

    async def sign_out(self, session_id: str) -> None: ...


class Throttle(Protocol):
    """Failed sign-ins per client address; past the limit, how long to wait."""

    def retry_after(self, address: str) -> float | None: ...

    def failed(self, address: str) -> None: ...

    def succeeded(self, address: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleDeps:
    workflow: Workflow
    desk: StaffDesk
    sessions: async_sessionmaker[AsyncSession]  # writes: actions, audit, sign-in
    readers: async_sessionmaker[AsyncSession]  # pages
    auth: SessionAuth
    throttle: Throttle
    clock: Callable[[], datetime]
    wake_outbox: Callable[[], None]  # an action queued a push: send it now, not at the next poll
    media_dir: Path
    cookie_secure: bool
    poll_seconds: int = 10  # the desk refreshes itself this often
