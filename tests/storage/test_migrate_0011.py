"""Migration 0011 back-fills the first round from the history a 0010 database kept: the first
timers' deadlines, the first claim, answer and transfer events, the identity's channel and the
latest rating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import MetaData, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.migrate import upgrade
from storage.models import Citizen, Identity, Rating, Ticket, TicketEvent, Timer

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


async def _rows(engine: AsyncEngine) -> None:
    async def add(model: Any, *rows: dict[str, Any]) -> None:
        # The table as the database has it at 0010, not the model: later revisions add columns
        # (with defaults the model would write) that do not exist yet.
        async with engine.begin() as conn:
            table = await conn.run_sync(lambda c: Table(model.__tablename__, MetaData(), autoload_with=c))
            defaults = {
                c.name: c.default.arg
                for c in model.__table__.columns
                if c.name in table.c and c.default is not None and c.default.is_scalar
            }
            await conn.execute(insert(table), [{**defaults, **row} for row in rows])

    await add(Citizen, {"id": 1, "created_at": T0, "locale": "zh"})
    await add(
        Identity,
        {
            "id": 1,
            "citizen_id": 1,
            "channel": "wechat",
            "account": "a",
            "chat_id": "c",
            "reachable": True,
            "created_at": T0,
        },
    )
    ticket = {
        "intake_key": "k",
        "citizen_id": 1,
        "identity_id": 1,
        "type_code": "complaint",
        "topic_code": "urban",
        "details": "路灯坏了",
        "media": [],
        "locale": "zh",
        "created_at": T0,
        "updated_at": T0,
        "rework_count": 1,
        "escalated": True,
        "responded_at": None,
        "answered_at": None,
    }
    await add(
        Ticket,
        # Reworked and transferred: the current deadlines are the last round's.
        {**ticket, "id": 1, "number": "WZ20261102-0001", "status": "answered", "department_code": "transport",
         "respond_due_at": _h(80), "answer_due_at": _h(300), "responded_at": _h(10), "answered_at": _h(70)},
        # Untouched since it was filed: no timers, no events but its filing.
        {**ticket, "id": 2, "intake_key": "k2", "number": "WZ20261102-0002", "status": "accepted",
         "department_code": "urban", "respond_due_at": _h(8), "answer_due_at": _h(200), "rework_count": 0},
    )  # fmt: skip
    await add(
        Timer,
        {"ticket_id": 1, "kind": "overdue_respond", "due_at": _h(8), "status": "cancelled", "created_at": T0},
        {"ticket_id": 1, "kind": "overdue_answer", "due_at": _h(226), "status": "cancelled", "created_at": T0},
        {"ticket_id": 1, "kind": "overdue_respond", "due_at": _h(12), "status": "cancelled", "created_at": _h(4)},
        {"ticket_id": 1, "kind": "overdue_answer", "due_at": _h(300), "status": "pending", "created_at": _h(60)},
    )
    events = [
        ("claim", 1, {}),
        ("transfer", 4, {"source": "urban", "to": "transport"}),
        ("claim", 10, {}),
        ("reply", 20, {}),
        ("rate_unsatisfied", 30, {}),
        ("transfer", 40, {"source": "transport", "to": "urban"}),
        ("reply", 70, {}),
    ]
    await add(
        TicketEvent,
        *({"ticket_id": 1, "kind": k, "actor": "staff:1", "data": d, "created_at": _h(h)} for k, h, d in events),
    )
    await add(
        Rating,
        {"ticket_id": 1, "score": 3, "comment": "", "department_code": "urban", "round": 0, "created_at": _h(30)},
        {"ticket_id": 1, "score": 2, "comment": "", "department_code": "urban", "round": 1, "created_at": _h(75)},
    )


async def test_0011_backfills_the_first_round_from_the_history(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0010")
        await _rows(engine)
        await upgrade(engine, "0011")
        async with engine.connect() as conn:
            tickets = await conn.run_sync(lambda c: Table("tickets", MetaData(), autoload_with=c))  # as at 0011
            rows = {r.id: r for r in (await conn.execute(select(tickets))).all()}
    finally:
        await engine.dispose()
    first, quiet = rows[1], rows[2]

    def utc(value: datetime | None) -> datetime | None:  # SQLite hands back naive UTC through Core
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    assert (utc(first.first_respond_due_at), utc(first.first_answer_due_at)) == (_h(8), _h(226))
    assert (utc(first.claimed_at), utc(first.first_answered_at), utc(first.transferred_at)) == (_h(1), _h(20), _h(4))
    assert (first.first_department_code, first.channel, first.latest_score) == ("urban", "wechat", 2)
    assert (utc(quiet.first_respond_due_at), utc(quiet.first_answer_due_at)) == (_h(8), _h(200))
    assert (quiet.claimed_at, quiet.first_answered_at, quiet.transferred_at, quiet.latest_score) == (None,) * 4
    assert (quiet.first_department_code, quiet.channel) == ("urban", "wechat")
