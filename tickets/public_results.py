"""What the public may see of an inquiry (the /public page, Open311 descriptions), and staff
hiding an item.

Published = the citizen consented (公开), staff did not hide it, and the department answered.
Everything shown is masked here, in one place (``dialogs.public_mask``): the citizen's words, the
answer (which often greets the citizen by name), and the place, which never goes finer than the
street. The per-department figures (响应率, 按时办结率, 满意率) are not here: they are the staff
console's scorecard's own (``tickets.public_figures``, from ``tickets/console/scorecard.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.public_mask import mask_for_public, names_in
from dialogs.streets import street_hint
from dialogs.taxonomy import Bilingual
from storage.models import Staff, Ticket
from storage.public_results import PublicFilter, PublicResultsRepository, PublishedRow
from tickets.staff_actions import actor

if TYPE_CHECKING:
    from tickets.context import Workflow

# Words search masks every candidate before matching (a search for a masked name must find
# nothing), so it reads at most this many of the newest published items.
SEARCH_WINDOW = 2000
_HOUSE_NUMBER = re.compile(r"[\d一二三四五六七八九十]+号$")


@dataclass(frozen=True, slots=True)
class PublicQuery:
    words: str = ""
    topic: str | None = None
    district: str | None = None
    department: str | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True, slots=True)
class PublicItem:
    number: str
    filed_on: date
    answered_on: date | None
    type_name: Bilingual
    topic_name: Bilingual
    district: str  # the district and, when known, the street: never a house number
    question: str  # masked
    answer: str  # masked
    department: Bilingual | None
    score: int | None  # 1 满意, 2 基本满意, 3 不满意; None: not rated


@dataclass(frozen=True, slots=True)
class PublicPage:
    items: tuple[PublicItem, ...]
    total: int
    page: int
    pages: int


def public_place(ticket: Ticket) -> str:
    """District and street at most: the street named in the address, without its house number."""
    street = _HOUSE_NUMBER.sub("", street_hint(ticket.address or ""))
    street = mask_for_public(street)
    return "".join(p for p in (ticket.district or "", street if "【" not in street else "") if p)


class PublicResults:
    def __init__(self, *, workflow: Workflow, repo: PublicResultsRepository) -> None:
        self._flow = workflow
        self._repo = repo

    def item(self, row: PublishedRow) -> PublicItem:
        ticket = row.ticket
        taxonomy, tz = self._flow.taxonomy, self._flow.tz
        kind = taxonomy.type_by_code(ticket.type_code)
        topic = taxonomy.topic_by_code(ticket.topic_code)
        return PublicItem(
            number=ticket.number,
            filed_on=ticket.created_at.astimezone(tz).date(),
            answered_on=ticket.answered_at.astimezone(tz).date() if ticket.answered_at else None,
            type_name=kind.name if kind else Bilingual(ticket.type_code, ticket.type_code),
            topic_name=topic.name if topic else Bilingual(ticket.topic_code, ticket.topic_code),
            district=public_place(ticket),
            question=mask_for_public(ticket.details),
            answer=mask_for_public(row.answer, names_in(ticket.details)),
            department=self._flow.directory.name(ticket.department_code),
            score=row.score,
        )

    async def search(self, session: AsyncSession, query: PublicQuery) -> PublicPage:
        where = PublicFilter(topic=query.topic, district=query.district, department=query.department)
        per_page = max(1, min(query.per_page, 50))
        page = max(1, query.page)
        words = query.words.strip().lower()
        if not words:
            rows, total = await self._repo.published(session, where, offset=(page - 1) * per_page, limit=per_page)
            items = tuple(self.item(r) for r in rows)
        else:
            rows, _ = await self._repo.published(session, where, offset=0, limit=SEARCH_WINDOW)
            # Masking only takes text away (and adds 某某/【电话】), so a word missing from the raw
            # text cannot be in the masked one: only the raw matches are masked, then checked.
            candidates = (r for r in rows if _raw_matches(self._flow, r, words))
            matching = [i for i in map(self.item, candidates) if _matches(i, words)]
            total = len(matching)
            items = tuple(matching[(page - 1) * per_page : page * per_page])
        return PublicPage(items=items, total=total, page=page, pages=max(1, -(-total // per_page)))

    async def districts(self, session: AsyncSession) -> list[str]:
        return await self._repo.districts(session)


def _raw_matches(flow: Workflow, row: PublishedRow, words: str) -> bool:
    ticket = row.ticket
    names = [n for n in (flow.directory.name(ticket.department_code),) if n is not None]
    topic, kind = flow.taxonomy.topic_by_code(ticket.topic_code), flow.taxonomy.type_by_code(ticket.type_code)
    names += [x.name for x in (topic, kind) if x is not None]
    raw = " ".join(
        (
            ticket.number,
            ticket.details,
            row.answer,
            ticket.district or "",
            ticket.address,
            *(f"{n.zh} {n.en}" for n in names),
        )
    ).lower()
    return all(w in raw for w in words.split())


def _matches(item: PublicItem, words: str) -> bool:
    """Every word in the masked text (never the original: that would tell whether a hidden name
    or number is in there) or the item's names."""
    haystack = " ".join(
        (
            item.number,
            item.question,
            item.answer,
            item.district,
            item.topic_name.zh,
            item.topic_name.en,
            item.type_name.zh,
            item.type_name.en,
            *((item.department.zh, item.department.en) if item.department else ()),
        )
    ).lower()
    return all(w in haystack for w in words.split())


async def hide(
    flow: Workflow, session: AsyncSession, who: Staff | str, ticket: Ticket, reason: str, now: datetime
) -> None:
    """Take an item off /public (and its text out of Open311), with a reason; audited. ``who`` is
    a staff member (the chat command) or an actor string (the console, a script)."""
    await _set_hidden(flow, session, who, ticket, reason.strip() or "-", now)


async def unhide(flow: Workflow, session: AsyncSession, who: Staff | str, ticket: Ticket, now: datetime) -> None:
    await _set_hidden(flow, session, who, ticket, None, now)


async def _set_hidden(
    flow: Workflow, session: AsyncSession, who: Staff | str, ticket: Ticket, reason: str | None, now: datetime
) -> None:
    by = who if isinstance(who, str) else actor(who)
    await PublicResultsRepository().hide(session, ticket, reason, now)
    kind = "public_hidden" if reason is not None else "public_shown"
    detail = {"reason": reason} if reason is not None else {}
    await flow.tickets.add_event(session, ticket.id, kind, by, detail, now)
    await flow.audit.record(session, actor=by, action=kind, ticket_id=ticket.id, allowed=True, detail=detail, now=now)
