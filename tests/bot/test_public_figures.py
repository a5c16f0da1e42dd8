"""/public shows each department's 响应率, 按时办结率 and 满意率 of the month exactly as the
scorecard counts them (the hand-counted November of ``tests/tickets/console/month.py``), counted
on the spot before the minute loop stored a snapshot and read from the snapshot after, zh and en."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot import console_ops
from bot.public_web import CACHE_SECONDS, install_public, public_site
from tests.app_helpers import Clock
from tests.tickets.console.month import END, START, TZ, Month, at
from tests.tickets.console.test_scorecard import november
from tickets.console.scorecard import GroupBy, Kpi, scorecard
from tickets.public_figures import PUBLIC_KPIS

__all__ = ["november"]

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
CELL = re.compile(
    r'<tr data-department="(\w+)">.*?</tr>',
    re.S,
)
FIGURE = re.compile(r'data-figure="(\w+)" data-numerator="(\d+)" data-denominator="(\d+)">([^<]*)<')


def _shown(html: str) -> dict[str, dict[str, tuple[int, int, str]]]:
    return {
        m.group(1): {k: (int(n), int(d), text.strip()) for k, n, d, text in FIGURE.findall(m.group(0))}
        for m in CELL.finditer(html)
    }


async def test_the_public_figures_are_the_scorecards(november: Month, aiohttp_client: ClientFactory) -> None:
    services = november.services
    clock = services.clock
    assert isinstance(clock, Clock)
    clock.now = at(12, 1, 9)  # November is last month: kept, and complete
    app = web.Application()
    install_public(app, site=public_site(services))
    client = await aiohttp_client(app)
    async with services.sessions() as session:
        card = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, now=clock.now)
    expected = {
        row.key: {
            k.value: (f.numerator, f.denominator, f"{f.rate * 100:.1f}%")
            for k in PUBLIC_KPIS
            if (f := row.figures[k]).rate is not None
        }
        for row in card.rows
        if row.key is not None
    }
    # By hand (test_scorecard.py): urban answers all but T5, transport received T5.
    assert expected["urban"][Kpi.SATISFACTION_RATE.value][:2] == (7, 8)
    assert set(expected) == {"urban", "transport"}

    for lang, names in (("zh", ("响应率", "按时办结率", "满意率", "城市管理局")), ("en", ("Satisfied", "Urban"))):
        before = await (await client.get(f"/public?lang={lang}&month=2026-11")).text()
        shown = {d: {k: v for k, v in f.items() if v[2] != "–"} for d, f in _shown(before).items()}
        assert shown == expected, lang
        assert all(name in before for name in names), lang
    clock.now = at(12, 1, 9, 5)
    assert await console_ops.refresh_scorecards(services) == 2 * len(GroupBy)
    clock.advance(seconds=CACHE_SECONDS)
    after = await (await client.get("/public?lang=en&month=2026-11")).text()
    assert {d: {k: v for k, v in f.items() if v[2] != "–"} for d, f in _shown(after).items()} == expected
    assert "As of 2026-12-01 09:05" in after  # the snapshot's moment
    this_month = await (await client.get("/public?lang=zh")).text()
    assert "2026-12 各部门办理情况" in this_month  # this month by default: T14 was due a response at 04:00
    assert _shown(this_month)["urban"][Kpi.RESPONSE_RATE.value] == (0, 1, "0.0%")
