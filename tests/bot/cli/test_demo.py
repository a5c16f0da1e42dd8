"""``wenzheng demo``: a lived-in month on an empty embedded database, through the real actions."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import demo as demo_cli
from storage.database import create_engine, session_factory
from storage.models import AuditEntry, Rating, Staff, Ticket, TicketEvent
from storage.staff import StaffRepository
from tests.app_helpers import Clock, make_config

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wenzheng")
    demo_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["demo", *argv])


async def test_demo_seeds_staff_and_a_consistent_month(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path)
    code = await demo_cli.run(parse("--days", "20", "--tickets", "60"), config, clock=Clock(NOW))
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out.startswith("seeded 60 tickets over 20 days") and "/console" in out
    tokens = re.findall(r"^(\S+)\s+(\S+)\s+(handler|supervisor|admin)\s+(\S+)$", out, re.MULTILINE)
    departments = {d.code for d in config.departments}
    assert {(d, r) for _, d, r, _ in tokens} >= {(d, r) for d in departments for r in ("handler", "supervisor")}

    engine = create_engine(config.storage.database_url)
    try:
        async with session_factory(engine)() as session:
            name, _, role, token = tokens[0]
            signed_in = await StaffRepository().by_token(session, token)
            assert signed_in is not None and (signed_in.name, signed_in.role) == (name, role)
            rows = (await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all()
            statuses = {str(status): int(count) for status, count in rows}
            kinds = set((await session.execute(select(TicketEvent.kind).distinct())).scalars())
            tickets = list((await session.execute(select(Ticket))).scalars())
            ratings = int((await session.execute(select(func.count()).select_from(Rating))).scalar_one())
            actors = set((await session.execute(select(AuditEntry.actor).distinct())).scalars())
            staff_ids = {f"staff:{i}" for i in (await session.execute(select(Staff.id))).scalars()}
    finally:
        await engine.dispose()
    assert sum(statuses.values()) == 60 and {"closed", "accepted"} <= set(statuses)
    assert {"submitted", "route", "claim", "reply", "escalated"} <= kinds  # 督办 by the timers, too
    assert ratings > 0 and any(t.escalated for t in tickets) and any(t.first_answered_at for t in tickets)
    assert all(NOW - timedelta(days=20) <= t.created_at <= NOW for t in tickets)  # 20 days back at most
    assert all(t.first_respond_due_at is not None and t.channel for t in tickets)
    assert actors & staff_ids  # staff actions were audited as the staff who did them

    again = await demo_cli.run(parse("--tickets", "5"), config, clock=Clock(NOW))
    assert again == 2 and "already has 60 tickets" in capsys.readouterr().err
