"""The scorecard (``/console/scorecard``, supervisors and admins), its downloads, the ticket
exports, and the failed-pushes page.

Every figure links to the desk with the tickets behind it (``/console/?kpi=…``: the desk asks
``tickets.console.scorecard.tickets_behind`` for their numbers). The chart is an SVG drawn by the
template from the same rows: no chart library, nothing loaded from elsewhere.

This month and last month are shown from their stored snapshots (``tickets.console.snapshots``,
refreshed every minute), with the moment they were counted and a refresh button; other periods,
and the downloads, are counted on request.
"""

from __future__ import annotations

import contextlib
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDict, MultiMapping

from tickets import staff_actions
from tickets.console.export import Names, scorecard_csv, scorecard_xlsx, tickets_csv, tickets_xlsx
from tickets.console.operations import undelivered
from tickets.console.scorecard import (
    KPI_NAMES,
    MEDIAN_NAME,
    TALLY_NAMES,
    GroupBy,
    Kpi,
    Part,
    Scorecard,
    ScoreRow,
    Tally,
    definitions,
    scorecard,
)
from tickets.console.snapshots import Snapshot, Snapshots, is_kept
from tickets.console.web.desk import NOTHING, filter_with_behind
from tickets.console.web.rendering import refusal, render, see_other
from tickets.console.web.security import DEPS, viewer_of
from tickets.console.web.texts import t

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    month: str  # "2026-11", or "" for a range


def period_from(query: MultiMapping[str], today: date) -> Period:
    """``month=2026-11``, or ``from``/``to`` (local days, inclusive); this month by default."""
    start = end = None
    with contextlib.suppress(ValueError):
        if query.get("from") and query.get("to"):
            start, end = date.fromisoformat(query["from"]), date.fromisoformat(query["to"])
    if start is not None and end is not None and start <= end and (end - start).days <= MAX_DAYS:
        return Period(start, end, "")
    month = query.get("month", "")
    year, mon = today.year, today.month
    with contextlib.suppress(ValueError):
        parsed = datetime.strptime(month, "%Y-%m")
        year, mon = parsed.year, parsed.month
    return Period(date(year, mon, 1), date(year, mon, monthrange(year, mon)[1]), f"{year:04d}-{mon:02d}")


def group_from(query: MultiMapping[str]) -> GroupBy:
    with contextlib.suppress(ValueError):
        return GroupBy(query.get("by", GroupBy.DEPARTMENT.value))
    return GroupBy.DEPARTMENT


def behind_link(period: Period, by: GroupBy, row: ScoreRow | None, kpi: Kpi | Tally, part: Part) -> str:
    """The desk listing the tickets behind a figure (a KPI's part, or a count: ``tally=``)."""
    which = {"kpi": kpi.value, "part": part.value} if isinstance(kpi, Kpi) else {"tally": kpi.value}
    params = {
        **which,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "by": by.value,
        "status": "any",
    }
    if row is None:
        params["whole"] = "1"
    elif row.key is not None:
        params["key"] = row.key
    return "/console/?" + urlencode(params)


def _names(request: web.Request) -> Names:
    flow = request.app[DEPS].workflow
    return Names(taxonomy=flow.taxonomy, directory=flow.directory)


def row_label(request: web.Request, by: GroupBy, row: ScoreRow) -> str:
    loc = viewer_of(request).locale
    if row.key is None:
        return t("unknown_group", loc)
    names = _names(request)
    if by is GroupBy.DEPARTMENT:
        return names.department(row.key, loc)
    if by is GroupBy.TOPIC:
        return names.topic(row.key, loc)
    if by is GroupBy.HANDLER:
        return row.label or row.key
    return row.key


async def _card(request: web.Request) -> tuple[Scorecard, Period, GroupBy]:
    """Counted now (the downloads, and periods without a snapshot)."""
    deps = request.app[DEPS]
    tz = deps.workflow.tz
    period = period_from(request.query, deps.clock().astimezone(tz).date())
    by = group_from(request.query)
    async with deps.readers() as session:
        card = await scorecard(session, start=period.start, end=period.end, tz=tz, by=by, now=deps.clock())
    return card, period, by


async def _shown(request: web.Request, period: Period, by: GroupBy) -> tuple[Scorecard, Snapshot | None]:
    """This or last month: the stored snapshot (counted and stored now if there is none yet, e.g.
    just after start); any other period: counted now, no snapshot."""
    deps = request.app[DEPS]
    now = deps.clock()
    snapshots = Snapshots(tz=deps.workflow.tz)
    if not is_kept(period.start, period.end, now.astimezone(deps.workflow.tz).date()):
        async with deps.readers() as session:
            card = await scorecard(session, start=period.start, end=period.end, tz=deps.workflow.tz, by=by, now=now)
        return card, None
    async with deps.readers() as session:
        found = await snapshots.stored(session, start=period.start, end=period.end, by=by)
    if found is None:
        found = await snapshots.refresh(deps.readers, deps.sessions, start=period.start, end=period.end, by=by, now=now)
    return found.card, found


def _supervisor_only(request: web.Request) -> web.Response | None:
    viewer = viewer_of(request)
    if not viewer.supervises:
        return refusal(request, 403, "forbidden_page", viewer.locale)
    return None


async def page(request: web.Request) -> web.StreamResponse:
    refused = _supervisor_only(request)
    if refused is not None:
        return refused
    deps = request.app[DEPS]
    loc = viewer_of(request).locale
    period = period_from(request.query, deps.clock().astimezone(deps.workflow.tz).date())
    by = group_from(request.query)
    card, snapshot = await _shown(request, period, by)
    query = {
        "by": by.value,
        **(
            {"month": period.month}
            if period.month
            else {"from": period.start.isoformat(), "to": period.end.isoformat()}
        ),
    }
    rows = [(row, row_label(request, by, row)) for row in card.rows]
    return render(
        request,
        "scorecard.html",
        {
            "card": card,
            "rows": rows,
            "period": period,
            "by": by,
            "groups": list(GroupBy),
            "kpis": list(Kpi),
            "kpi_name": lambda kpi: KPI_NAMES[kpi]["en" if loc == "en" else "zh"],
            "tallies": list(Tally),
            "tally_name": lambda tally: TALLY_NAMES[tally]["en" if loc == "en" else "zh"],
            "definitions": definitions(loc),
            "median_name": MEDIAN_NAME["en" if loc == "en" else "zh"],
            "link": lambda row, kpi, part: behind_link(period, by, row, kpi, Part(part)),
            "download_query": urlencode(query),
            "chart_kpi": Kpi.ON_TIME_RATE,
            "as_of": (snapshot.as_of.astimezone(deps.workflow.tz).strftime("%Y-%m-%d %H:%M") if snapshot else None),
        },
    )


async def refresh(request: web.Request) -> web.StreamResponse:
    """A supervisor's "refresh now": count this (month, grouping) again, store it, show it."""
    refused = _supervisor_only(request)
    if refused is not None:
        return refused
    deps = request.app[DEPS]
    posted = await request.post()
    form = MultiDict((k, v) for k, v in posted.items() if isinstance(v, str))
    now = deps.clock()
    period = period_from(form, now.astimezone(deps.workflow.tz).date())
    by = group_from(form)
    if period.month and is_kept(period.start, period.end, now.astimezone(deps.workflow.tz).date()):
        await Snapshots(tz=deps.workflow.tz).refresh(
            deps.readers, deps.sessions, start=period.start, end=period.end, by=by, now=now
        )
    return see_other("/console/scorecard?" + urlencode({"by": by.value, "month": period.month}))


async def download(request: web.Request) -> web.StreamResponse:
    refused = _supervisor_only(request)
    if refused is not None:
        return refused
    loc = viewer_of(request).locale
    card, period, by = await _card(request)
    kind = request.match_info["kind"]
    body = (
        scorecard_xlsx(card, names=_names(request), locale=loc)
        if kind == "xlsx"
        else (scorecard_csv(card, names=_names(request), locale=loc))
    )
    name = f"scorecard-{by.value}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{kind}"
    return _attachment(body, name, XLSX if kind == "xlsx" else "text/csv")


async def export_tickets(request: web.Request) -> web.StreamResponse:
    """The desk's current filter (or a figure's tickets) as one row per ticket; scoped like the desk
    (the viewer's department, admins all). An export is a listing of personal data: audited."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    now = deps.clock()
    filt = await filter_with_behind(request, viewer)
    kind = request.match_info["kind"]
    async with deps.sessions.begin() as session:
        await staff_actions.listed(deps.workflow, session, viewer.staff, "export", now)
    body = b""
    async with deps.readers() as session:
        make = tickets_xlsx if kind == "xlsx" else tickets_csv
        body = await make(
            session,
            viewer=viewer.staff,
            filt=filt if filt is not None else NOTHING,
            now=now,
            tz=deps.workflow.tz,
            names=_names(request),
            locale=viewer.locale,
        )
    return _attachment(body, f"tickets-{now:%Y%m%d-%H%M}.{kind}", XLSX if kind == "xlsx" else "text/csv")


def _attachment(body: bytes, name: str, kind: str) -> web.Response:
    return web.Response(
        body=body,
        headers={
            "Content-Type": kind + ("; charset=utf-8" if kind == "text/csv" else ""),
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def pushes(request: web.Request) -> web.StreamResponse:
    """Pushes that could not be delivered (dead) or wait for the citizen's next message (held)."""
    refused = _supervisor_only(request)
    if refused is not None:
        return refused
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    async with deps.readers() as session:
        rows = await undelivered(deps.workflow, session, viewer=viewer.staff, limit=200)
    return render(request, "pushes.html", {"rows": rows, "tz": deps.workflow.tz})


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/scorecard", page, name="scorecard")
    app.router.add_route("POST", "/scorecard/refresh", refresh, name="scorecard_refresh")
    app.router.add_route("GET", "/scorecard.{kind:csv|xlsx}", download, name="scorecard_download")
    app.router.add_route("GET", "/tickets.{kind:csv|xlsx}", export_tickets, name="tickets_download")
    app.router.add_route("GET", "/pushes", pushes, name="pushes")
