"""Downloads for supervisors and the city: tickets one row each, and the scorecard, as CSV or .xlsx.

For console-web: ``await tickets_csv(session, viewer=, filt=, now=, tz=, names=Names(...), locale=)``
(and ``tickets_xlsx``) export every ticket a ``QueueFilter`` selects for that viewer (paging is
ignored; the scope rule is the queue's); ``scorecard_csv(card, names=, locale=)`` /
``scorecard_xlsx`` export a ``Scorecard`` (each KPI as rate, numerator and denominator, then the
counts: 重复诉求 and the 督办 steps; the workbook adds a sheet with every definition). All return
bytes. CSV is UTF-8 with a BOM, which is what Excel needs to open Chinese text correctly; times are
local (``tz``), ``YYYY-MM-DD HH:MM``.

Big months: tickets are read in batches (``yield_per``) and the workbook is written with openpyxl's
write-only mode, so memory holds one batch and the rows written so far in compressed form.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dialogs.taxonomy import Taxonomy
from dialogs.texts import text
from storage.models import Staff, Ticket
from tickets.console.queue import QueueFilter, criteria
from tickets.console.scorecard import KPI_NAMES, MEDIAN_NAME, TALLY_NAMES, GroupBy, Kpi, Scorecard, Tally, definitions
from tickets.routing import Directory

BATCH = 2_000
SCORES = {1: "rate_1", 2: "rate_2", 3: "rate_3"}  # the rating buttons' texts: 满意 / 基本满意 / 不满意

TICKET_COLUMNS: Sequence[tuple[str, str]] = (
    ("编号", "Number"),
    ("渠道", "Channel"),
    ("类型", "Type"),
    ("主题", "Topic"),
    ("区县", "District"),
    ("承办部门", "Department"),
    ("承办人", "Handler"),
    ("提交时间", "Filed"),
    ("签收时间", "Claimed"),
    ("首次答复", "First answer"),
    ("办结时间", "Closed"),
    ("签收时限", "Respond by"),
    ("办理时限", "Answer by"),
    ("状态", "Status"),
    ("评价", "Rating"),
)
GROUP_HEADINGS: Mapping[GroupBy, tuple[str, str]] = {
    GroupBy.DEPARTMENT: ("部门", "Department"),
    GroupBy.HANDLER: ("承办人", "Handler"),
    GroupBy.TOPIC: ("主题", "Topic"),
    GroupBy.DISTRICT: ("区县", "District"),
}
NONE_LABEL = {"zh": "（无）", "en": "(none)"}
TOTAL_LABEL = {"zh": "合计", "en": "Total"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Names:
    """Where codes get their names (``Workflow.taxonomy`` and ``Workflow.directory``)."""

    taxonomy: Taxonomy
    directory: Directory

    def type(self, code: str, locale: str) -> str:
        found = self.taxonomy.type_by_code(code)
        return found.name.get(locale) if found else code

    def topic(self, code: str | None, locale: str) -> str:
        found = self.taxonomy.topic_by_code(code)
        return found.name.get(locale) if found else (code or "")

    def department(self, code: str | None, locale: str) -> str:
        found = self.directory.name(code)
        return found.get(locale) if found else (code or "")


Cell = str | int


def _locale(locale: str) -> str:
    return "en" if locale == "en" else "zh"


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _heading(pair: tuple[str, str], locale: str) -> str:
    return pair[0] if locale == "zh" else pair[1]


async def ticket_rows(
    session: AsyncSession,
    *,
    viewer: Staff,
    filt: QueueFilter,
    now: datetime,
    tz: ZoneInfo,
    names: Names,
    locale: str,
) -> AsyncIterator[list[str]]:
    """Each selected ticket as the export's cells, oldest first, read in batches."""
    locale = _locale(locale)
    handler = aliased(Staff)
    stmt = (
        select(Ticket, handler.name)
        .outerjoin(handler, handler.id == Ticket.assignee_staff_id)
        .where(*criteria(viewer, filt, now=now, tz=tz))
        .order_by(Ticket.created_at, Ticket.id)
        .execution_options(yield_per=BATCH)
    )
    result = await session.stream(stmt)
    async for ticket, handler_name in result:
        yield [
            ticket.number,
            ticket.channel or "",
            names.type(ticket.type_code, locale),
            names.topic(ticket.topic_code, locale),
            ticket.district or "",
            names.department(ticket.department_code, locale),
            handler_name or "",
            _when(ticket.created_at, tz),
            _when(ticket.claimed_at, tz),
            _when(ticket.first_answered_at, tz),
            _when(ticket.closed_at, tz),
            _when(ticket.first_respond_due_at or ticket.respond_due_at, tz),
            _when(ticket.answer_due_at, tz),
            text(f"status_{ticket.status}", locale),
            text(SCORES[ticket.latest_score], locale) if ticket.latest_score in SCORES else "",
        ]
        session.expunge(ticket)  # keep memory to one batch


def _csv_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


async def tickets_csv(
    session: AsyncSession,
    *,
    viewer: Staff,
    filt: QueueFilter,
    now: datetime,
    tz: ZoneInfo,
    names: Names,
    locale: str = "zh",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_heading(c, _locale(locale)) for c in TICKET_COLUMNS])
    async for row in ticket_rows(session, viewer=viewer, filt=filt, now=now, tz=tz, names=names, locale=locale):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


async def tickets_xlsx(
    session: AsyncSession,
    *,
    viewer: Staff,
    filt: QueueFilter,
    now: datetime,
    tz: ZoneInfo,
    names: Names,
    locale: str = "zh",
) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="工单" if locale == "zh" else "Tickets")
    sheet.append([_heading(c, _locale(locale)) for c in TICKET_COLUMNS])
    async for row in ticket_rows(session, viewer=viewer, filt=filt, now=now, tz=tz, names=names, locale=locale):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def scorecard_table(card: Scorecard, *, names: Names, locale: str = "zh") -> list[list[Cell]]:
    """The scorecard as rows of cells: per KPI its rate, numerator and denominator."""
    locale = _locale(locale)
    label: Callable[[str | None, str | None], str]
    match card.by:
        case GroupBy.DEPARTMENT:
            label = lambda key, _: names.department(key, locale)  # noqa: E731
        case GroupBy.TOPIC:
            label = lambda key, _: names.topic(key, locale)  # noqa: E731
        case GroupBy.HANDLER:
            label = lambda key, name: name or key or ""  # noqa: E731
        case GroupBy.DISTRICT:
            label = lambda key, _: key or ""  # noqa: E731
    header: list[Cell] = [_heading(GROUP_HEADINGS[card.by], locale)]
    for kpi in Kpi:
        name = KPI_NAMES[kpi][locale]
        header += [name, f"{name} ({'分子' if locale == 'zh' else 'numerator'})"]
        header += [f"{name} ({'分母' if locale == 'zh' else 'denominator'})"]
    header += [TALLY_NAMES[c][locale] for c in Tally]
    header.append(MEDIAN_NAME[locale])
    table = [header]
    for row, title in [*((r, None) for r in card.rows), (card.total, TOTAL_LABEL)]:
        shown = title[locale] if title else (label(row.key, row.label) if row.key is not None else NONE_LABEL[locale])
        cells: list[Cell] = [shown]
        for kpi in Kpi:
            figure = row.figures[kpi]
            rate: Cell = figure.numerator if kpi is Kpi.ESCALATIONS else _rate(figure.rate)
            cells += [rate, figure.numerator, figure.denominator]
        cells += [row.tallies[c] for c in Tally]
        cells.append("" if row.median_hours is None else f"{row.median_hours:.1f}")
        table.append(cells)
    return table


def scorecard_csv(card: Scorecard, *, names: Names, locale: str = "zh") -> bytes:
    return _csv_bytes(scorecard_table(card, names=names, locale=locale))


def scorecard_xlsx(card: Scorecard, *, names: Names, locale: str = "zh") -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=f"{card.start:%Y%m%d}-{card.end:%Y%m%d}")
    for cells in scorecard_table(card, names=names, locale=locale):
        sheet.append(cells)
    notes = book.create_sheet(title="口径" if _locale(locale) == "zh" else "Definitions")
    for name, meaning in definitions(_locale(locale)):
        notes.append([name, meaning])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
