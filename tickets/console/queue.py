"""The desk's queue: which tickets a staff member sees, filtered, searched and paged.

For console-web: build a ``QueueFilter`` from the query string and call
``find_tickets(session, viewer=staff, filt=..., now=now, tz=tz)``; it returns a ``QueuePage`` of
frozen ``QueueRow`` values (no ORM objects escape, so a page can render after the session closes).
The viewer decides the scope, not the filter: staff see their own department only (the filter's
``department`` is ignored for them), admins see every department or the one they filter on
(``tickets.staff_actions.authorize`` is the same rule for actions). Listing is not audited here;
a page that shows a ticket's full details calls ``staff_actions.viewed``.

Speed (1,000,000 tickets, SQLite, ``python -m bench --scenarios console``): every default view is
a range on an index of migration 0011 or earlier: a department's open queue by due time
(``ix_tickets_department_due``), "mine" (``ix_tickets_assignee_due``), a phone
(``ix_tickets_phone``), a number (unique). Words are a ``LIKE`` over the rows the other filters
leave, newest first, stopping at the page size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from dialogs.privacy import mask_personal_data
from storage.models import Staff, Ticket
from storage.staff import Role
from tickets.lifecycle import OPEN, Status

QUEUED = (Status.SUBMITTED, *sorted(OPEN))  # the desk's default: everything not answered or final
MAX_PAGE = 200
SUMMARY_CHARS = 60
_NUMBER = re.compile(r"^WZ\d{8}-\d{4,}$", re.IGNORECASE)
_NUMBER_PREFIX = re.compile(r"^WZ[\d-]*$", re.IGNORECASE)
_PHONE = re.compile(r"^(?:\+?86)?[\d -]{7,}$")


class QueueOrder(StrEnum):
    DUE = "due"  # most urgent first: the answer deadline, then the number
    NEWEST = "newest"  # latest filed first


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueFilter:
    """What the desk asks for. All criteria are combined with AND; defaults show the open queue.

    ``statuses``: empty means any status. ``created_from``/``created_to``: local days in the
    service's time zone, both inclusive. ``text``: a ticket number (``WZ20261206-0001``, or its
    start ``WZ20261206``), a phone number (digits, ``+86`` and separators allowed) or words that
    must all appear in the details or the address. ``numbers``: exactly these tickets (the lists
    behind a scorecard figure). ``overdue``: a deadline passed and not met (respond: not claimed;
    answer: not answered). ``due_within_hours``: a deadline not met falls within the next N hours.
    """

    mine: bool = False
    unassigned: bool = False
    department: str | None = None
    statuses: tuple[Status, ...] = QUEUED
    overdue: bool = False
    due_within_hours: float | None = None
    channel: str | None = None
    topic: str | None = None
    district: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    text: str = ""
    numbers: tuple[str, ...] = ()
    order: QueueOrder = QueueOrder.DUE
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    number: str
    status: Status
    type_code: str
    topic_code: str
    district: str | None
    department_code: str | None
    handler_id: int | None
    handler: str | None  # the assignee's name
    channel: str | None
    summary: str  # the start of the details, phone and 身份证 numbers masked
    created_at: datetime
    respond_due_at: datetime  # the current round's
    answer_due_at: datetime
    first_respond_due_at: datetime | None  # the first round's (what the scorecard counts)
    first_answer_due_at: datetime | None
    claimed_at: datetime | None
    first_answered_at: datetime | None
    closed_at: datetime | None
    escalated: bool
    rework_count: int
    respond_overdue: bool  # not claimed and the respond deadline passed
    answer_overdue: bool  # open and the answer deadline passed


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    offset: int
    limit: int
    has_more: bool  # another page follows (no total: counting a big filter costs more than the page)
    scope: str | None  # the department shown, None: all (admins)
    filt: QueueFilter = field(repr=False)


def scope_for(viewer: Staff, filt: QueueFilter) -> str | None:
    """The department the viewer may list: their own, or for admins what they filter on (None: all)."""
    return filt.department if viewer.role == Role.ADMIN else viewer.department_code


def _unclaimed() -> ColumnElement[bool]:
    return Ticket.status.in_((Status.SUBMITTED.value, Status.ACCEPTED.value, Status.REOPENED.value))


def _open() -> ColumnElement[bool]:
    return Ticket.status.in_([s.value for s in (Status.SUBMITTED, *OPEN)])


def _local_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def _text_criteria(said: str) -> list[ColumnElement[bool]]:
    wanted = said.strip()
    if not wanted:
        return []
    if _NUMBER.match(wanted):
        return [Ticket.number == wanted.upper()]
    if _NUMBER_PREFIX.match(wanted) and len(wanted) > 2:
        prefix = wanted.upper()
        return [Ticket.number >= prefix, Ticket.number < prefix + "\uffff"]  # a range on the unique index
    if _PHONE.match(wanted):
        digits = re.sub(r"\D", "", wanted)
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        forms = {digits, wanted.replace(" ", "")}
        if digits.startswith("0") and len(digits) > 8:  # a landline keeps its area-code dash
            forms |= {f"{digits[:4]}-{digits[4:]}", f"{digits[:3]}-{digits[3:]}"}
        return [Ticket.phone.in_(sorted(forms))]
    criteria: list[ColumnElement[bool]] = []
    for word in wanted.split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        criteria.append(or_(Ticket.details.like(pattern, escape="\\"), Ticket.address.like(pattern, escape="\\")))
    return criteria


def criteria(viewer: Staff, filt: QueueFilter, *, now: datetime, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    """The WHERE of a filter for this viewer (also used by the exports)."""
    where: list[ColumnElement[bool]] = []
    scope = scope_for(viewer, filt)
    if scope is not None:
        where.append(Ticket.department_code == scope)
    if filt.statuses:
        where.append(Ticket.status.in_([s.value for s in filt.statuses]))
    if filt.mine:
        where.append(Ticket.assignee_staff_id == viewer.id)
    if filt.unassigned:
        where.append(Ticket.assignee_staff_id.is_(None))
    if filt.overdue:
        where.append(
            or_(
                and_(_unclaimed(), Ticket.respond_due_at < now),
                and_(_open(), Ticket.answer_due_at < now),
            )
        )
    if filt.due_within_hours is not None:
        until = now + timedelta(hours=filt.due_within_hours)
        where.append(
            or_(
                and_(_unclaimed(), Ticket.respond_due_at >= now, Ticket.respond_due_at <= until),
                and_(_open(), Ticket.answer_due_at >= now, Ticket.answer_due_at <= until),
            )
        )
    for column, value in ((Ticket.channel, filt.channel), (Ticket.topic_code, filt.topic)):
        if value:
            where.append(column == value)
    if filt.district:
        where.append(Ticket.district == filt.district)
    if filt.created_from is not None:
        where.append(Ticket.created_at >= _local_start(filt.created_from, tz))
    if filt.created_to is not None:
        where.append(Ticket.created_at < _local_start(filt.created_to + timedelta(days=1), tz))
    if filt.numbers:
        where.append(Ticket.number.in_(list(filt.numbers)))
    where.extend(_text_criteria(filt.text))
    return where


def to_row(ticket: Ticket, handler: str | None, now: datetime) -> QueueRow:
    status = Status(ticket.status)
    unclaimed = status in (Status.SUBMITTED, Status.ACCEPTED, Status.REOPENED)
    details = ticket.details if len(ticket.details) <= SUMMARY_CHARS else ticket.details[:SUMMARY_CHARS] + "…"
    return QueueRow(
        number=ticket.number,
        status=status,
        type_code=ticket.type_code,
        topic_code=ticket.topic_code,
        district=ticket.district,
        department_code=ticket.department_code,
        handler_id=ticket.assignee_staff_id,
        handler=handler,
        channel=ticket.channel,
        summary=mask_personal_data(details),
        created_at=ticket.created_at,
        respond_due_at=ticket.respond_due_at,
        answer_due_at=ticket.answer_due_at,
        first_respond_due_at=ticket.first_respond_due_at,
        first_answer_due_at=ticket.first_answer_due_at,
        claimed_at=ticket.claimed_at,
        first_answered_at=ticket.first_answered_at,
        closed_at=ticket.closed_at,
        escalated=ticket.escalated,
        rework_count=ticket.rework_count,
        respond_overdue=unclaimed and ticket.respond_due_at < now,
        answer_overdue=(status is Status.SUBMITTED or status in OPEN) and ticket.answer_due_at < now,
    )


async def find_tickets(
    session: AsyncSession, *, viewer: Staff, filt: QueueFilter, now: datetime, tz: ZoneInfo
) -> QueuePage:
    """One page of the viewer's queue under ``filt`` (see the module docstring for the scope)."""
    limit = max(1, min(filt.limit, MAX_PAGE))
    offset = max(0, filt.offset)
    handler = aliased(Staff)
    stmt = (
        select(Ticket, handler.name)
        .outerjoin(handler, handler.id == Ticket.assignee_staff_id)
        .where(*criteria(viewer, filt, now=now, tz=tz))
    )
    if filt.order is QueueOrder.NEWEST:
        stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    else:
        stmt = stmt.order_by(Ticket.answer_due_at, Ticket.id)
    stmt = stmt.offset(offset).limit(limit + 1)
    found = (await session.execute(stmt)).all()
    rows = tuple(to_row(ticket, handler, now) for ticket, handler in found[:limit])
    return QueuePage(
        rows=rows,
        offset=offset,
        limit=limit,
        has_more=len(found) > limit,
        scope=scope_for(viewer, filt),
        filt=filt,
    )


def statuses_named(names: Sequence[str]) -> tuple[Status, ...]:
    """Statuses from their values (a query string's ``status=accepted&status=assigned``); unknown
    names are skipped, so a stale bookmark shows a wider list rather than an error page."""
    known = {s.value: s for s in Status}
    return tuple(known[n] for n in names if n in known)
