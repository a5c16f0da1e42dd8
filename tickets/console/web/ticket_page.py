"""The ticket page (``/console/tickets/{number}``): the whole thread in words, the photos, the place,
and every action as a form. Each action builds the same ``StaffCommand`` the chat parses and runs
it through ``StaffDesk.perform``: the same department check, rules, refusals and audit.

Photos are served only here (``…/media/{index}``), after the same department check as the page;
a citizen's upload is never reachable by a guessable public URL.

Duplicates (#16): an open ticket shows its suggested duplicates (``tickets.duplicates.suggestions``,
what the chat's 查看 lists) each with a 关联 button; a linked one shows its original and 取消关联;
an original lists the tickets linked to it. 关联, 取消关联 and 解除督办 are the chat's verbs too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from dialogs.privacy import mask_personal_data
from dialogs.staff_commands import StaffCommand, Verb
from storage.models import Ticket
from tickets import duplicates, staff_actions
from tickets.console.queue import QUEUED, QueueFilter, find_tickets
from tickets.console.web.presentation import NEAR_ANSWER, NEAR_RESPOND, countdown
from tickets.console.web.rendering import refusal, render
from tickets.console.web.reply_templates import templates_for
from tickets.console.web.security import DEPS, Viewer, viewer_of
from tickets.console.web.texts import t
from tickets.console.web.thread import EventLike, thread
from tickets.lifecycle import OPEN, Status

_STORED_PHOTO = re.compile(r"^webchat:([0-9a-f]{32}\.(?:jpg|jpeg|png|gif|webp))$")
_MEDIA_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
NUMBER = re.compile(r"^WZ\d{8}-\d{4,}$")
MAX_TEXT = 2000

# The form's ``verb`` -> (the command's verb, needs text, needs argument)
_FORMS: dict[str, tuple[Verb, bool, bool]] = {
    "claim": (Verb.CLAIM, False, False),
    "assign": (Verb.ASSIGN, False, True),
    "reply": (Verb.REPLY, True, False),
    "note": (Verb.NOTE, True, False),
    "transfer": (Verb.TRANSFER, True, True),
    "extend": (Verb.EXTEND, True, True),
    "reject": (Verb.REJECT, True, False),
    "close": (Verb.CLOSE, False, False),
    "duplicate": (Verb.DUPLICATE, False, True),
    "retopic": (Verb.RETOPIC, False, True),
    "link": (Verb.LINK, False, True),
    "unlink": (Verb.UNLINK, False, False),
    "unsupervise": (Verb.UNSUPERVISE, True, False),
}
NEEDS_REASON = frozenset({Verb.TRANSFER, Verb.EXTEND, Verb.REJECT, Verb.UNSUPERVISE})
SUMMARY = 60


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A possible duplicate of the ticket, as the chat's 查看 lists it, with a masked summary."""

    number: str
    status: str
    score: float
    distance_m: int | None  # None: at the same named place (no coordinates to measure)
    summary: str
    linkable: bool  # still open: 关联 refuses an original that is answered or closed


@dataclass(frozen=True, slots=True)
class Photo:
    url: str | None  # None: the photo stays on the platform
    channel: str


def photos_of(ticket: Ticket) -> list[Photo]:
    shown = []
    for index, item in enumerate(ticket.media or []):
        ref = str(item.get("ref", "")) if isinstance(item, dict) else ""
        if _STORED_PHOTO.match(ref):
            shown.append(Photo(f"/console/tickets/{ticket.number}/media/{index}", "webchat"))
        else:
            shown.append(Photo(None, ref.partition(":")[0] or "-"))
    return shown


async def _ticket_for(request: web.Request, action: str) -> Ticket | web.Response:
    """The ticket, or the refusal to send: unknown (404), another department's (403, audited)."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    number = request.match_info["number"].upper()
    async with deps.readers() as session:
        ticket = await deps.workflow.tickets.by_number(session, number) if NUMBER.match(number) else None
    if ticket is None:
        return refusal(request, 404, "not_found", viewer.locale, number=number[:40])
    if not staff_actions.authorize(viewer.staff, ticket):
        async with deps.sessions.begin() as session:
            await staff_actions.refuse(
                deps.workflow, session, viewer.staff, action, ticket, "other department", deps.clock()
            )
        return refusal(request, 403, "forbidden_ticket", viewer.locale, number=ticket.number)
    return ticket


def _summary(details: str) -> str:
    return mask_personal_data(details[:SUMMARY] + ("…" if len(details) > SUMMARY else ""))


async def _duplicates(request: web.Request, ticket: Ticket, is_open: bool) -> dict[str, Any]:
    """The original it is linked to, the tickets linked to it, and (open, not linked) suggestions."""
    deps = request.app[DEPS]
    flow = deps.workflow
    repo = flow.duplicates.repo
    suggested: list[Suggestion] = []
    async with deps.readers() as session:
        link = await repo.link_of(session, ticket.id)
        original = await session.get(Ticket, link.original_id) if link is not None else None
        linked_from = await repo.linked_to(session, ticket.id)
        if link is None and is_open:
            for match in await duplicates.suggestions(flow, session, ticket, deps.clock()):
                other = match.ticket
                suggested.append(
                    Suggestion(
                        number=other.number,
                        status=other.status,
                        score=match.score,
                        distance_m=None if match.distance_m is None else round(match.distance_m),
                        summary=_summary(other.details),
                        linkable=Status(other.status) in OPEN or other.status == Status.SUBMITTED,
                    )
                )
    return {
        "linked_to": original.number if original is not None else None,
        "linked_from": linked_from,
        "suggestions": suggested,
    }


async def _context(request: web.Request, ticket: Ticket, viewer: Viewer) -> dict[str, Any]:
    deps = request.app[DEPS]
    flow = deps.workflow
    loc = viewer.locale
    now = deps.clock()
    async with deps.readers() as session:
        events = await flow.tickets.events(session, ticket.id)
        people = await flow.staff.all(session)
    names = {p.id: p.name for p in people}

    def dept_name(code: str | None) -> str:
        name = flow.directory.name(code)
        return name.get(loc) if name else (code or "-")

    def topic_name(code: str | None) -> str:
        topic = flow.taxonomy.topic_by_code(code or "")
        return topic.name.get(loc) if topic else (code or "-")

    kind = flow.taxonomy.type_by_code(ticket.type_code)
    status = Status(ticket.status)
    lines = thread(
        [EventLike(e.kind, e.actor, e.data or {}, e.created_at) for e in events],
        names=names,
        locale=loc,
        tz=flow.tz,
        dept_name=dept_name,
        topic_name=topic_name,
    )
    place = " ".join(p for p in ("".join(x for x in (ticket.city, ticket.district) if x), ticket.address) if p)
    is_open = status in OPEN or status is Status.SUBMITTED
    return {
        **await _duplicates(request, ticket, is_open),
        "ticket": ticket,
        "status": status,
        "is_open": is_open,
        "can_close": status is Status.ANSWERED,
        "type_name": kind.name.get(loc) if kind else ticket.type_code,
        "topic_name": topic_name(ticket.topic_code),
        "dept_name": dept_name(ticket.department_code),
        "handler": names.get(ticket.assignee_staff_id) if ticket.assignee_staff_id else None,
        "place": place,
        "photos": photos_of(ticket),
        "lines": lines,
        "respond": countdown(
            ticket.respond_due_at,
            done=status not in (Status.SUBMITTED, Status.ACCEPTED, Status.REOPENED),
            now=now,
            near=NEAR_RESPOND,
            locale=loc,
            tz=flow.tz,
        ),
        "answer": countdown(
            ticket.answer_due_at, done=status not in QUEUED, now=now, near=NEAR_ANSWER, locale=loc, tz=flow.tz
        ),
        "templates": templates_for(ticket.topic_code),
        "template_locale": ticket.locale,
        "departments": [d for d in flow.directory.departments if d.code != ticket.department_code],
        "topics": [tp for tp in flow.taxonomy.topics if tp.code != ticket.topic_code],
        "colleagues": [p for p in people if p.department_code == ticket.department_code and p.active],
    }


async def page(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    found = await _ticket_for(request, "show")
    if isinstance(found, web.Response):
        return found
    async with deps.sessions.begin() as session:  # the phone is on the page: looking is audited
        await staff_actions.viewed(deps.workflow, session, viewer.staff, found, deps.clock())
    return render(request, "ticket.html", await _context(request, found, viewer))


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


async def act(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    loc = viewer.locale
    form = await request.post()
    found = await _ticket_for(request, _field(form, "verb") or "act")
    if isinstance(found, web.Response):
        return found
    spec = _FORMS.get(_field(form, "verb"))
    if spec is None:
        return refusal(request, 400, "pick_required", loc)
    verb, needs_text, needs_argument = spec
    said = _field(form, "text")
    argument = _field(form, "argument")
    problem = None
    if needs_text and not said:
        problem = "reason_required" if verb in NEEDS_REASON else "text_required"
    elif needs_argument and not argument:
        problem = "pick_required"
    flash_ok, flash = False, ""
    if problem is not None:
        flash = t("refused", loc, why=t(problem, loc))
    else:
        command = StaffCommand(verb, found.number, argument or None, said)
        async with deps.sessions.begin() as session:
            flash_ok, reply = await deps.desk.perform(session, viewer.staff, command, deps.clock(), locale=loc)
        flash = reply.text if flash_ok else t("refused", loc, why=reply.text)
        if flash_ok:
            deps.wake_outbox()
    async with deps.readers() as session:
        ticket = await deps.workflow.tickets.by_number(session, found.number)
    assert ticket is not None
    context = await _context(request, ticket, viewer)
    return render(request, "ticket.html", {**context, "flash": flash, "flash_ok": flash_ok})


async def originals(request: web.Request) -> web.StreamResponse:
    """Open tickets to link a duplicate to, searched by number or words (htmx fragment)."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    found = await _ticket_for(request, "duplicate")
    if isinstance(found, web.Response):
        return found
    said = request.query.get("argument", "").strip()[:100]
    rows = []
    if said:
        async with deps.readers() as session:
            page = await find_tickets(
                session,
                viewer=viewer.staff,
                filt=QueueFilter(text=said, limit=10, department=found.department_code),
                now=deps.clock(),
                tz=deps.workflow.tz,
            )
        rows = [r for r in page.rows if r.number != found.number]
    return render(request, "_originals.html", {"rows": rows, "ticket": found})


async def media(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    found = await _ticket_for(request, "photo")
    if isinstance(found, web.Response):
        return found
    try:
        item = (found.media or [])[int(request.match_info["index"])]
    except (ValueError, IndexError):
        raise web.HTTPNotFound() from None
    match = _STORED_PHOTO.match(str(item.get("ref", "")) if isinstance(item, dict) else "")
    path = deps.media_dir / match.group(1) if match else None
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(
        path,
        headers={
            "Content-Type": _MEDIA_TYPES[path.suffix.lstrip(".")],
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/tickets/{number}", page, name="ticket")
    app.router.add_route("POST", "/tickets/{number}", act, name="ticket_act")
    app.router.add_route("GET", "/tickets/{number}/originals", originals, name="originals")
    app.router.add_route("GET", "/tickets/{number}/media/{index:\\d+}", media, name="media")
