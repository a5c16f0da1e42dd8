"""Departments and staff: seeded from the config, managed at run time from the CLI."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department, Staff, StaffIdentity, StaffToken


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


class StaffRepository:
    async def seed(
        self, session: AsyncSession, departments: Sequence[DepartmentSeed], staff: Sequence[StaffSeed], now: datetime
    ) -> None:
        """Make the database match the config's departments; add the config's staff and identities.
        Staff added with the CLI are kept; departments no longer in the config are deactivated."""
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
        row = await self.by_name(session, name)
        if row is None:
            row = Staff(name=name, department_code=department, role=role, active=True, locale="zh", created_at=now)
        else:
            row.department_code, row.role, row.active = department, role, True
        session.add(row)
        await session.flush()
        return row

    async def deactivate(self, session: AsyncSession, staff_id: int, now: datetime) -> None:
        await session.execute(update(Staff).where(Staff.id == staff_id).values(active=False))
        await session.execute(
            update(StaffToken)
            .where(StaffToken.staff_id == staff_id, StaffToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def all(self, session: AsyncSession) -> list[Staff]:
        stmt = select(Staff).order_by(Staff.department_code, Staff.name)
        return list((await session.execute(stmt)).scalars())

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
        stmt = select(Staff).where(Staff.department_code == code, Staff.active.is_(True))
        if roles is not None:
            stmt = stmt.where(Staff.role.in_(list(roles)))
        return list((await session.execute(stmt.order_by(Staff.id))).scalars())

    async def issue_token(self, session: AsyncSession, staff_id: int, now: datetime) -> str:
        """A new login token for /staff; shown once, stored only as a hash."""
        token = secrets.token_urlsafe(32)
        session.add(StaffToken(staff_id=staff_id, token_hash=hash_token(token), created_at=now, revoked_at=None))
        await session.flush()
        return token

    async def revoke_tokens(self, session: AsyncSession, staff_id: int, now: datetime) -> int:
        result = await session.execute(
            update(StaffToken)
            .where(StaffToken.staff_id == staff_id, StaffToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def by_token(self, session: AsyncSession, token: str) -> Staff | None:
        stmt = (
            select(Staff)
            .join(StaffToken, StaffToken.staff_id == Staff.id)
            .where(StaffToken.token_hash == hash_token(token), StaffToken.revoked_at.is_(None), Staff.active.is_(True))
        )
        return (await session.execute(stmt)).scalar_one_or_none()
