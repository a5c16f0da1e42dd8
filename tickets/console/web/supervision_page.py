"""The 督办 page (``/console/supervision``, supervisors and admins): what is on a yellow or red card,
since when and why, with a form on each to clear it (解除督办) with a reason.

The list is the chat's 督办列表 (``tickets.console.supervision``); clearing runs the chat command
(``StaffDesk.perform`` with ``Verb.UNSUPERVISE``): the same department check, refusals and audit.
Looking at the list is audited like the chat's listing; a handler is refused (403), audited too.
"""

from __future__ import annotations

from aiohttp import web

from dialogs.staff_commands import StaffCommand, Verb
from tickets import staff_actions
from tickets.console.supervision import supervision
from tickets.console.web.rendering import refusal, render
from tickets.console.web.security import DEPS, viewer_of
from tickets.console.web.texts import t
from tickets.console.web.ticket_page import MAX_TEXT, NUMBER

LISTING = "supervised"  # the audit's name for the listing, as the chat's 督办列表


async def _page(request: web.Request, *, flash: str = "", flash_ok: bool = False, status: int = 200) -> web.Response:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    now = deps.clock()
    async with deps.sessions.begin() as session:
        if not viewer.supervises:
            await staff_actions.refuse(deps.workflow, session, viewer.staff, LISTING, None, "supervisors only", now)
            return refusal(request, 403, "forbidden_page", viewer.locale)
        await staff_actions.listed(deps.workflow, session, viewer.staff, LISTING, now)
    async with deps.readers() as session:
        rows = await supervision(deps.workflow, session, viewer=viewer.staff, now=now)
    flow = deps.workflow

    def dept_name(code: str | None) -> str:
        name = flow.directory.name(code)
        return name.get(viewer.locale) if name else (code or "-")

    return render(
        request,
        "supervision.html",
        {
            "rows": rows,
            "tz": flow.tz,
            "dept_name": dept_name,
            "due": lambda when: flow.due(when, viewer.locale),
            "flash": flash,
            "flash_ok": flash_ok,
        },
        status=status,
    )


async def page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


async def clear(request: web.Request) -> web.StreamResponse:
    """解除督办 of one ticket: a reason is required (refused in words without one); the rest is the
    chat command's, including its refusals (a handler, another department's ticket)."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    loc = viewer.locale
    number = request.match_info["number"].upper()
    if not NUMBER.match(number):
        return refusal(request, 404, "not_found", loc, number=number[:40])
    form = await request.post()
    given = form.get("reason")
    reason = given.strip()[:MAX_TEXT] if isinstance(given, str) else ""
    if not reason:
        if not viewer.supervises:
            return refusal(request, 403, "forbidden_page", loc)
        return await _page(request, flash=t("refused", loc, why=t("sup_reason_required", loc)))
    command = StaffCommand(Verb.UNSUPERVISE, number, None, reason)
    async with deps.sessions.begin() as session:
        done, reply = await deps.desk.perform(session, viewer.staff, command, deps.clock(), locale=loc)
    if not viewer.supervises:  # refused and audited by the desk; the page is not theirs either
        return refusal(request, 403, "forbidden_page", loc)
    if done:
        deps.wake_outbox()
    return await _page(request, flash=reply.text if done else t("refused", loc, why=reply.text), flash_ok=done)


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/supervision", page, name="supervision")
    app.router.add_route("POST", "/supervision/{number}/clear", clear, name="supervision_clear")
