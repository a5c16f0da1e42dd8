"""Departments and staff: seeded from the config, managed at run time from the CLI."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department, Staff, StaffIdentity, StaffSession, StaffToken


class Role(StrEnum):
    """A staff member's role, as stored in ``staff.role`` and written in the config."""

    HANDLER = "handler"
    SUPERVISOR = "supervisor"  # also extends deadlines, hears 督办, sees failed pushes
    ADMIN = "admin"  # every department


@dataclass(frozen=True, slots=True)
class DepartmentSeed:
    code: str
    name_zh: str
    name_en: str
    topics: tuple[str, ...]
    districts: tuple[str, ...]
    telegram_chat_id: str | None


@dataclass(frozen=True, slots=True)
class StaffSeed:
    name: str
    department: str
    role: str
    identities: tuple[tuple[str, str], ...]  # (channel, external id)
    locale: str = "zh"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_ROSTERS = "wenzheng.staff_rosters"


def _rosters(session: AsyncSession) -> dict[tuple[object, ...], tuple[Staff, ...]]:
    """Who is in a department, remembered for one transaction: a group-commit batch files many
    tickets, and each one's card goes to the same few departments' staff (two queries a filing).
    Never across transactions, so a change by another process is seen by the next batch."""
    memo: dict[tuple[object, ...], tuple[Staff, ...]] = session.info.setdefault(_ROSTERS, {})
    return memo


def _forget_rosters(session: AsyncSession) -> None:
    session.info.pop(_ROSTERS, None)


class StaffRepository:
    async def seed(
        self, session: AsyncSession, departments: Sequence[DepartmentSeed], staff: Sequence[StaffSeed], now: datetime
    ) -> None:
        """Make the database match the config's departments; add the config's staff and identities.
        Staff added with the CLI are kept; departments no longer in the config are deactivated."""
        _forget_rosters(session)
        known = {d.code: d for d in (await session.execute(select(Department))).scalars()}
        for position, seed in enumerate(departments):
            row = known.get(seed.code) or Department(code=seed.code)
            row.name_zh, row.name_en = seed.name_zh, seed.name_en
            row.topics, row.districts = list(seed.topics), list(seed.districts)
            row.telegram_chat_id, row.position, row.active = seed.telegram_chat_id, position, True
            session.add(row)
        for code, row in known.items():
            if code not in {d.code for d in departments}:
                row.active = False
        await session.flush()
        for member in staff:
            person = await self.by_name(session, member.name)
            if person is None:
                person = Staff(name=member.name, created_at=now, active=True)
            person.department_code, person.role, person.locale = member.department, member.role, member.locale
            session.add(person)
            await session.flush()
            for channel, external_id in member.identities:
                await self.add_identity(session, person.id, channel, external_id)

    async def departments(self, session: AsyncSession) -> list[Department]:
        stmt = select(Department).where(Department.active.is_(True)).order_by(Department.position)
        return list((await session.execute(stmt)).scalars())

    async def department(self, session: AsyncSession, code: str) -> Department | None:
        return await session.get(Department, code)

    async def by_name(self, session: AsyncSession, name: str) -> Staff | None:
        return (await session.execute(select(Staff).where(Staff.name == name))).scalar_one_or_none()

    async def get(self, session: AsyncSession, staff_id: int) -> Staff | None:
        return await session.get(Staff, staff_id)

    async def add(self, session: AsyncSession, name: str, department: str, role: str, now: datetime) -> Staff:
        _forget_rosters(session)
        row = await self.by_name(session, name)
        if row is None:
            row = Staff(name=name, department_code=department, role=role, active=True, locale="zh", created_at=now)
        else:
            row.department_code, row.role, row.active = department, role, True
        session.add(row)
        await session.flush()
        return row

    async def deactivate(self, session: AsyncSession, staff_id: int, now: datetime) -> None:
        _forget_rosters(session)
        await session.execute(update(Staff).where(Staff.id == staff_id).values(active=False))
        await self.revoke_tokens(session, staff_id, now)

    async def all(self, session: AsyncSession) -> list[Staff]:
        memo = _rosters(session)
        if ("all",) not in memo:
            stmt = select(Staff).order_by(Staff.department_code, Staff.name)
            memo[("all",)] = tuple((await session.execute(stmt)).scalars())
        return list(memo[("all",)])

    async def add_identity(self, session: AsyncSession, staff_id: int, channel: str, external_id: str) -> None:
        stmt = select(StaffIdentity).where(StaffIdentity.channel == channel, StaffIdentity.external_id == external_id)
        found = (await session.execute(stmt)).scalar_one_or_none()
        if found is None:
            session.add(StaffIdentity(staff_id=staff_id, channel=channel, external_id=external_id))
        else:
            found.staff_id = staff_id
        await session.flush()

    async def by_identity(self, session: AsyncSession, channel: str, external_id: str) -> Staff | None:
        """The active staff member behind a channel identity, or None (a citizen)."""
        stmt = (
            select(Staff)
            .join(StaffIdentity, StaffIdentity.staff_id == Staff.id)
            .where(StaffIdentity.channel == channel, StaffIdentity.external_id == external_id, Staff.active.is_(True))
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def identities(self, session: AsyncSession, staff_ids: Sequence[int]) -> list[StaffIdentity]:
        if not staff_ids:
            return []
        stmt = select(StaffIdentity).where(StaffIdentity.staff_id.in_(staff_ids)).order_by(StaffIdentity.id)
        return list((await session.execute(stmt)).scalars())

    async def of_department(self, session: AsyncSession, code: str, roles: Sequence[str] | None = None) -> list[Staff]:
        key = ("department", code, None if roles is None else tuple(roles))
        memo = _rosters(session)
        if key not in memo:
            stmt = select(Staff).where(Staff.department_code == code, Staff.active.is_(True))
            if roles is not None:
                stmt = stmt.where(Staff.role.in_(list(roles)))
            memo[key] = tuple((await session.execute(stmt.order_by(Staff.id))).scalars())
        return list(memo[key])

    async def issue_token(self, session: AsyncSession, staff_id: int, now: datetime) -> str:
        """A new login token for /staff; shown once, stored only as a hash."""
        token = secrets.token_urlsafe(32)
        session.add(StaffToken(staff_id=staff_id, token_hash=hash_token(token), created_at=now, revoked_at=None))
        await session.flush()
        return token

    async def revoke_tokens(self, session: AsyncSession, staff_id: int, now: datetime) -> int:
        """Every live token of the person, and every /staff page signed in with one, end now."""
        result = await session.execute(
            update(StaffToken)
            .where(StaffToken.staff_id == staff_id, StaffToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await session.execute(
            update(StaffSession)
            .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def by_token(
        self, session: AsyncSession, token: str, now: datetime | None = None, max_age: timedelta | None = None
    ) -> Staff | None:
        found = await self.live_token(session, token, now, max_age)
        return None if found is None else found[0]

    async def live_token(
        self, session: AsyncSession, token: str, now: datetime | None = None, max_age: timedelta | None = None
    ) -> tuple[Staff, StaffToken] | None:
        """The active person and their unrevoked token; with ``max_age``, a token issued longer
        ago than that has expired (the age is counted at check time, so shortening it applies to
        tokens already issued)."""
        stmt = (
            select(Staff, StaffToken)
            .join(StaffToken, StaffToken.staff_id == Staff.id)
            .where(StaffToken.token_hash == hash_token(token), StaffToken.revoked_at.is_(None), Staff.active.is_(True))
        )
        if now is not None and max_age is not None:
            stmt = stmt.where(StaffToken.created_at > now - max_age)
        row = (await session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    # --- /staff page sessions: the cookie holds a random id, stored hashed ----------------------

    async def open_session(
        self, session: AsyncSession, staff_id: int, token_id: int, now: datetime, ttl: timedelta
    ) -> tuple[str, datetime]:
        """A new sign-in; its id (for the cookie, shown nowhere else) and when it ends."""
        session_id = secrets.token_urlsafe(32)
        expires = now + ttl
        session.add(
            StaffSession(
                staff_id=staff_id,
                token_id=token_id,
                session_hash=hash_token(session_id),
                created_at=now,
                expires_at=expires,
                revoked_at=None,
            )
        )
        await session.flush()
        return session_id, expires

    async def session_staff(
        self, session: AsyncSession, session_id: str, now: datetime, token_max_age: timedelta
    ) -> int | None:
        """The staff id behind a live page session: not signed out, not expired, its token neither
        revoked nor expired, the person still active."""
        stmt = (
            select(StaffSession.staff_id)
            .join(StaffToken, StaffToken.id == StaffSession.token_id)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .where(
                StaffSession.session_hash == hash_token(session_id),
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > now,
                StaffToken.revoked_at.is_(None),
                StaffToken.created_at > now - token_max_age,
                Staff.active.is_(True),
            )
        )
        found = (await session.execute(stmt)).scalar_one_or_none()
        return None if found is None else int(found)

    async def close_session(self, session: AsyncSession, session_id: str, now: datetime) -> bool:
        result = await session.execute(
            update(StaffSession)
            .where(StaffSession.session_hash == hash_token(session_id), StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(getattr(result, "rowcount", 0))
