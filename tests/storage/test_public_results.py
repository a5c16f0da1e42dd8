"""The published-results queries and API keys on SQLite and PostgreSQL (the migrated schema)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Citizen, Identity, Rating, Ticket, TicketEvent
from storage.public_results import ApiKeyRepository, PublicFilter, PublicResultsRepository

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def _ticket(i: int, **overrides: Any) -> dict[str, Any]:
    at = T0 + timedelta(hours=i)
    row: dict[str, Any] = {
        "id": i,
        "number": f"WZ20261122-{i:04d}",
        "intake_key": f"k{i}",
        "citizen_id": 1,
        "identity_id": 1,
        "type_code": "complaint",
        "topic_code": "urban",
        "district": "市南区",
        "address": "香港中路",
        "details": f"第{i}条",
        "media": [],
        "locale": "zh",
        "status": "closed",
        "department_code": "urban",
        "created_at": at,
        "updated_at": at,
        "respond_due_at": at,
        "answer_due_at": at,
        "answered_at": at,
        "public_consent": True,
    }
    return {**row, **overrides}


async def _load(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await session.execute(insert(Citizen), [{"id": 1, "created_at": T0, "locale": "zh"}])
        await session.execute(
            insert(Identity),
            [{"id": 1, "citizen_id": 1, "channel": "webchat", "account": "web", "chat_id": "c", "created_at": T0}],
        )
        await session.execute(
            insert(Ticket),
            [
                _ticket(1),
                _ticket(2, public_consent=False),
                _ticket(3, answered_at=None, status="accepted"),
                _ticket(4, status="reopened"),  # answered once, back for rework: not final
                _ticket(5, public_hidden_at=T0, public_hidden_reason="个人信息"),
                _ticket(6, district="市北区", topic_code="transport", department_code="transport"),
            ],
        )
        await session.execute(
            insert(TicketEvent),
            [
                {"ticket_id": 1, "kind": "reply", "actor": "s", "data": {"answer": "旧答复"}, "created_at": T0},
                {"ticket_id": 1, "kind": "reply", "actor": "s", "data": {"answer": "已修复"}, "created_at": T0},
            ],
        )
        await session.execute(
            insert(Rating),
            [{"ticket_id": 1, "score": 2, "comment": "", "department_code": "urban", "round": 0, "created_at": T0}],
        )


async def test_published_means_consented_answered_final_and_not_hidden(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _load(sessions)
    repo = PublicResultsRepository()
    async with sessions() as session:
        rows, total = await repo.published(session, PublicFilter(), offset=0, limit=10)
        assert [r.ticket.id for r in rows] == [6, 1] and total == 2  # newest answer first
        assert (rows[1].answer, rows[1].score) == ("已修复", 2)  # the latest answer and rating
        only, total = await repo.published(session, PublicFilter(district="市北区"), offset=0, limit=10)
        assert [r.ticket.id for r in only] == [6] and total == 1
        none, total = await repo.published(
            session, PublicFilter(department="urban", topic="transport"), offset=0, limit=10
        )
        assert none == [] and total == 0
        assert await repo.districts(session) == ["市北区", "市南区"]
        everyone = await repo.requests(
            session, topics=["urban"], statuses=[], start=T0, end=T0 + timedelta(days=1), limit=100
        )
        assert [r.ticket.id for r in everyone] == [5, 4, 3, 2, 1]  # Open311 lists all, newest filed first
    async with sessions.begin() as session:
        ticket = (await repo.by_numbers(session, ["WZ20261122-0001"]))[0].ticket
        await repo.hide(session, ticket, "测试", T0)
    async with sessions() as session:
        rows, _ = await repo.published(session, PublicFilter(), offset=0, limit=10)
        assert [r.ticket.id for r in rows] == [6]


async def test_api_keys_are_stored_hashed_and_revocable(sessions: async_sessionmaker[AsyncSession]) -> None:
    keys = ApiKeyRepository()
    async with sessions.begin() as session:
        row = await keys.add(session, "partner", "secret-key-value", T0)
        assert row.key_hash != "secret-key-value" and len(row.key_hash) == 64
    async with sessions.begin() as session:
        assert (await keys.find(session, "secret-key-value")) is not None
        assert await keys.find(session, "other") is None
        assert await keys.revoke(session, "partner", T0)
    async with sessions() as session:
        assert await keys.find(session, "secret-key-value") is None
