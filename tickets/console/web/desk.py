"""The desk (``/console/``): the queue with filters, search, countdowns, bulk 签收/分配, and a
partial (``/console/queue``) that htmx reloads every few seconds so new tickets appear by themselves.

The filter lives in the query string, so a view can be bookmarked, saved, and linked to from a
scorecard figure. One query for the page (``tickets.console.queue.find_tickets``, the handler's name
joined in) and one for the department's colleagues: nothing is fetched per row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from dialogs.staff_commands import StaffCommand, Verb
from storage.console_views import delete_view, save_view, views_of
from storage.models import Staff
from tickets.console.queue import QUEUED, QueueFilter, QueueOrder, QueuePage, QueueRow, find_tickets
from tickets.console.scorecard import GroupBy, Kpi, Part, Tally, tally_behind, tickets_behind
from tickets.console.web.presentation import NEAR_ANSWER, NEAR_RESPOND, Countdown, countdown
from tickets.console.web.rendering import render, see_other
from tickets.console.web.security import DEPS, Viewer, viewer_of
from tickets.console.web.texts import t
from tickets.lifecycle import Status

PAGE_SIZE = 50
SCOPES = ("department", "mine", "unassigned")
CHANNELS = ("webchat", "wechat", "weibo", "telegram")
DUE_SOON_HOURS = 4.0
NOTHING = QueueFilter(numbers=("-",), statuses=())  # matches no ticket: a figure with none behind it


@dataclass(frozen=True, slots=True)
class DeskRow:
    row: QueueRow
    respond: Countdown
    answer: Countdown


def _day(value: str | None) -> date | None:
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return date.fromisoformat(value)
    return None


def filter_from(query: MultiMapping[str], viewer: Viewer, *, page_size: int = PAGE_SIZE) -> QueueFilter:
    """The query string as a filter; anything unknown is ignored (a stale bookmark still opens)."""
    scope = query.get("scope", "department")
    status = query.get("status", "open")
    statuses: tuple[Status, ...]
    if status == "any":
        statuses = ()
    elif status in Status.__members__.values():
        statuses = (Status(status),)
    else:
        statuses = QUEUED
    offset = 0
    with contextlib.suppress(ValueError):
        offset = max(0, int(query.get("offset", "0")))
    order = QueueOrder.NEWEST if query.get("order") == QueueOrder.NEWEST.value else QueueOrder.DUE
    return QueueFilter(
        mine=scope == "mine",
        unassigned=scope == "unassigned",
        department=(query.get("dept") or None) if viewer.is_admin else None,
        statuses=statuses,
        overdue=query.get("overdue") == "1",
        due_within_hours=DUE_SOON_HOURS if query.get("soon") == "1" else None,
        channel=query.get("channel") or None,
        topic=query.get("topic") or None,
        district=(query.get("district") or "").strip() or None,
        created_from=_day(query.get("from")),
        created_to=_day(query.get("to")),
        text=(query.get("q") or "").strip()[:100],
        order=order,
        offset=offset,
        limit=page_size,
    )


def page_query(query: Mapping[str, str], **changes: object) -> str:
    """The same filter with ``changes`` (another page, another order), as a query string."""
    merged = {k: v for k, v in query.items() if v}
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return urlencode(merged)


async def filter_with_behind(request: web.Request, viewer: Viewer, *, page_size: int = PAGE_SIZE) -> QueueFilter | None:
    """The query's filter; for a scorecard figure's link (``kpi=…``, or ``tally=…`` for a count)
    narrowed to the tickets behind it. None: a figure with no tickets behind it (nothing to list)."""
    filt = filter_from(request.query, viewer, page_size=page_size)
    query = request.query
    try:
        tally = Tally(query["tally"]) if query.get("tally") else None
        kpi = Kpi(query.get("kpi", "")) if tally is None else Kpi.ESCALATIONS
        part = Part(query.get("part", Part.NUMERATOR.value))
        by = GroupBy(query.get("by", GroupBy.DEPARTMENT.value))
        start, end = date.fromisoformat(query.get("start", "")), date.fromisoformat(query.get("end", ""))
    except ValueError:
        return filt
    deps = request.app[DEPS]
    where: dict[str, Any] = {
        "start": start,
        "end": end,
        "tz": deps.workflow.tz,
        "by": by,
        "key": query.get("key") or None,
        "whole": query.get("whole") == "1",
        "now": deps.clock(),  # the same cut-off as the scorecard the link came from
    }
    async with deps.readers() as session:
        numbers = (
            await tally_behind(session, tally=tally, **where)
            if tally is not None
            else await tickets_behind(session, kpi=kpi, part=part, **where)
        )
    return replace(filt, numbers=tuple(numbers), statuses=()) if numbers else None


async def _load(request: web.Request) -> dict[str, Any]:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    flow = deps.workflow
    now = deps.clock()
    filt = await filter_with_behind(request, viewer)
    async with deps.readers() as session:
        page: QueuePage = (
            await find_tickets(session, viewer=viewer.staff, filt=filt, now=now, tz=flow.tz)
            if filt is not None
            else QueuePage(rows=(), offset=0, limit=PAGE_SIZE, has_more=False, scope=None, filt=NOTHING)
        )
        colleagues: list[Staff] = await flow.staff.of_department(session, viewer.staff.department_code)
    loc = viewer.locale
    rows = [
        DeskRow(
            row,
            countdown(
                row.respond_due_at,
                done=row.claimed_at is not None or row.status not in (Status.SUBMITTED, Status.ACCEPTED),
                now=now,
                near=NEAR_RESPOND,
                locale=loc,
                tz=flow.tz,
            ),
            countdown(
                row.answer_due_at,
                done=row.status not in QUEUED,
                now=now,
                near=NEAR_ANSWER,
                locale=loc,
                tz=flow.tz,
            ),
        )
        for row in page.rows
    ]
    query = {k: request.query.get(k, "") for k in request.query}
    return {
        "page": page,
        "rows": rows,
        "query": query,
        "q": query,
        "next_query": page_query(query, offset=page.offset + page.limit) if page.has_more else None,
        "prev_query": page_query(query, offset=max(0, page.offset - page.limit) or None) if page.offset else None,
        "colleagues": [c for c in colleagues if c.active],
        "departments": flow.directory.departments,
        "topics": flow.taxonomy.topics,
        "channels": CHANNELS,
        "statuses": list(Status),
        "now": now,
        "tz": flow.tz,
        "topic_name": lambda code: _topic_name(request, code),
        "dept_name": lambda code: _dept_name(request, code),
    }


def _topic_name(request: web.Request, code: str | None) -> str:
    viewer = viewer_of(request)
    topic = request.app[DEPS].workflow.taxonomy.topic_by_code(code or "")
    return topic.name.get(viewer.locale) if topic else (code or "-")


def _dept_name(request: web.Request, code: str | None) -> str:
    viewer = viewer_of(request)
    name = request.app[DEPS].workflow.directory.name(code)
    return name.get(viewer.locale) if name else (code or "-")


async def desk(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    async with deps.readers() as session:
        views = await views_of(session, viewer.staff.id)
    context = await _load(request)
    current = page_query(context["query"], offset=None)
    return render(request, "desk.html", {**context, "views": views, "current_query": current})


async def save(request: web.Request) -> web.StreamResponse:
    """Saves the desk's current filter under a name (the same name again replaces it)."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    form = await request.post()
    name = str(form.get("name") or "").strip()[:64]
    query = str(form.get("query") or "")[:2000]
    if name:
        async with deps.sessions.begin() as session:
            await save_view(session, viewer.staff.id, name, query, deps.clock())
    return see_other("/console/?" + query if query else "/console/")


async def forget(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    async with deps.sessions.begin() as session:
        await delete_view(session, viewer.staff.id, int(request.match_info["view"]))
    return see_other("/console/")


async def queue(request: web.Request) -> web.StreamResponse:
    """The queue alone, for htmx: the filter form and the 10-second poll both load this."""
    return render(request, "_queue.html", await _load(request))


async def bulk(request: web.Request) -> web.StreamResponse:
    """签收 or 分配 several tickets: each one through ``StaffDesk.perform``, in its own transaction,
    so one refusal (another department's, already closed) does not undo the others."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    form = await request.post()
    numbers = [str(n) for n in form.getall("number", [])][:PAGE_SIZE]
    action = form.get("action")
    done = refused = 0
    messages: list[str] = []
    colleague = str(form.get("colleague") or "")
    for number in numbers:
        if action == "claim":
            command = StaffCommand(Verb.CLAIM, number)
        elif action == "assign" and colleague.isdigit():
            command = StaffCommand(Verb.ASSIGN, number, colleague)
        else:
            continue
        async with deps.sessions.begin() as session:
            ok, reply = await deps.desk.perform(session, viewer.staff, command, deps.clock(), locale=viewer.locale)
        done += ok
        refused += not ok
        if not ok:
            messages.append(reply.text)
    if done:
        deps.wake_outbox()
    flash = t("bulk_done", viewer.locale, done=done, refused=refused)
    if request.headers.get("HX-Request"):
        context = await _load(request)
        return render(request, "_queue.html", {**context, "flash": flash, "flash_details": messages})
    raw = request.rel_url.raw_query_string
    return see_other("/console/" + (f"?{raw}" if raw else ""))


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/", desk, name="desk")
    app.router.add_route("GET", "/queue", queue, name="queue")
    app.router.add_route("POST", "/bulk", bulk, name="bulk")
    app.router.add_route("POST", "/views", save, name="view_save")
    app.router.add_route("POST", "/views/{view:\\d+}/delete", forget, name="view_delete")
