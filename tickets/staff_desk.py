"""What staff see when they talk to the bot: a command in, the workflow acts, a short answer out.

Authorization lives here, before any action: staff act only on their own department's tickets
(admins on all), and every attempt, allowed or refused, lands in the audit log. A refused attempt
changes nothing and relays nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Inbound, Outbound
from dialogs.formatting import moment
from dialogs.staff_commands import Malformed, StaffCommand, Verb, parse_staff_command
from dialogs.taxonomy import Taxonomy
from dialogs.texts import text
from storage.models import Staff, Ticket
from storage.tickets import TicketRepository
from tickets import (
    duplicates,
    escalation,
    follower_rating,
    hot_desk,
    linking,
    public_results,
    routing,
    staff_actions,
    supervision_desk,
)
from tickets.context import Refused, Workflow
from tickets.lifecycle import IllegalTransition, Status


class StaffDesk:
    def __init__(self, *, workflow: Workflow, tickets: TicketRepository, taxonomy: Taxonomy, tz: ZoneInfo) -> None:
        self._workflow = workflow
        self._tickets = tickets
        self._taxonomy = taxonomy
        self._tz = tz

    async def handle(
        self, session: AsyncSession, staff: Staff, inbound: Inbound, now: datetime, reply_to: str | None = None
    ) -> tuple[Outbound, ...]:
        loc = staff.locale
        parsed = parse_staff_command(inbound, reply_to)
        if parsed is None:
            if inbound.group:
                return ()  # staff talking to each other in their group: not for the bot
            return (Outbound(text("staff_help", loc)),)
        if isinstance(parsed, Malformed):
            return (Outbound(text("staff_usage", loc, usage=parsed.usage)),)
        if parsed.verb is Verb.HELP:
            return (Outbound(text("staff_help", loc)),)
        if parsed.verb is Verb.QUEUE:
            await staff_actions.listed(self._workflow, session, staff, "queue", now)
            return (await self._queue(session, staff, now),)
        if parsed.verb is Verb.FAILED:
            if not staff_actions.supervises(staff):
                await staff_actions.refuse(self._workflow, session, staff, "failed", None, "supervisors only", now)
                return (Outbound(text("staff_forbidden_list", loc)),)
            await staff_actions.listed(self._workflow, session, staff, "failed", now)
            return (await self._failed(session, staff),)
        if parsed.verb in hot_desk.VERBS:
            return (await hot_desk.handle(self._workflow, session, staff, parsed.verb, now),)
        if parsed.verb is Verb.SUPERVISED:
            return (await supervision_desk.listing(self._workflow, session, staff, now),)
        _done, reply = await self.perform(session, staff, parsed, now)
        return (reply,)

    async def perform(
        self, session: AsyncSession, staff: Staff, parsed: StaffCommand, now: datetime, *, locale: str | None = None
    ) -> tuple[bool, Outbound]:
        """One command on one ticket, for the chat and the console alike: the department check, the
        audited refusal and the all-or-nothing step live here only. True when it was done;
        ``locale``: the console's chosen language, else the person's own."""
        loc = locale or staff.locale
        assert parsed.number is not None
        ticket = await self._tickets.by_number(session, parsed.number)
        if ticket is None:
            await staff_actions.refuse(
                self._workflow, session, staff, parsed.verb.value, None, f"unknown {parsed.number}", now
            )
            return False, Outbound(text("staff_unknown_ticket", loc, number=parsed.number))
        if not staff_actions.authorize(staff, ticket):
            await staff_actions.refuse(
                self._workflow, session, staff, parsed.verb.value, ticket, "other department", now
            )
            return False, Outbound(text("staff_forbidden", loc, number=ticket.number))
        try:
            async with session.begin_nested():  # a refused step leaves no half-done change behind
                reply = await self._act(session, staff, ticket, parsed, now, loc)
        except IllegalTransition as exc:
            await staff_actions.refuse(self._workflow, session, staff, parsed.verb.value, ticket, str(exc), now)
            return False, Outbound(
                text(
                    "staff_illegal",
                    loc,
                    number=ticket.number,
                    status=text(f"status_{exc.status.value}", loc),
                    action=text(f"action_{parsed.verb.value}", loc),
                )
            )
        except Refused as refused:
            await staff_actions.refuse(self._workflow, session, staff, parsed.verb.value, ticket, refused.key, now)
            return False, Outbound(text(refused.key, loc, **refused.values))
        return True, reply

    async def _act(
        self, session: AsyncSession, staff: Staff, ticket: Ticket, command: StaffCommand, now: datetime, loc: str
    ) -> Outbound:
        verb = command.verb
        if verb is Verb.SHOW:
            return await self._show(session, staff, ticket, now)
        await _ACTIONS[verb](self._workflow, session, staff, ticket, command, now)
        return Outbound(
            text(
                "staff_done",
                loc,
                action=text(f"action_{verb.value}", loc),
                number=ticket.number,
                status=text(f"status_{ticket.status}", loc),
            ),
            ticket_number=ticket.number,
        )

    async def _show(self, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> Outbound:
        """The full ticket, phone included: an explicit, audited look by authorized staff."""
        loc = staff.locale
        await staff_actions.viewed(self._workflow, session, staff, ticket, now)
        events = await self._tickets.events(session, ticket.id)
        history = "\n".join(f"{moment(e.created_at, loc, self._tz)} {e.kind} {e.actor}" for e in events[-10:])
        kind = self._taxonomy.type_by_code(ticket.type_code)
        topic = self._taxonomy.topic_by_code(ticket.topic_code)
        dept = self._workflow.directory.name(ticket.department_code)
        place = " ".join(p for p in ("".join(x for x in (ticket.city, ticket.district) if x), ticket.address) if p)
        suggested = duplicates.suggestion_lines(
            self._workflow, await duplicates.suggestions(self._workflow, session, ticket, now), loc
        )
        followers = await follower_rating.tally(self._workflow, session, ticket)
        if followers:
            counts = {f"s{n}": followers.get(n, 0) for n in (1, 2, 3)}
            suggested = "\n".join(x for x in (text("follower_ratings", loc, **counts), suggested) if x)
        return Outbound(
            text(
                "staff_show",
                loc,
                number=ticket.number,
                status=text(f"status_{ticket.status}", loc),
                department=dept.get(loc) if dept else "-",
                type=kind.name.get(loc) if kind else ticket.type_code,
                topic=topic.name.get(loc) if topic else ticket.topic_code,
                place=place or "-",
                details=ticket.details,
                phone=ticket.phone or "-",
                answer_due=moment(ticket.answer_due_at, loc, self._tz),
                history=history,
            )
            + (f"\n{suggested}" if suggested else ""),
            ticket_number=ticket.number,
        )

    async def _failed(self, session: AsyncSession, staff: Staff) -> Outbound:
        loc = staff.locale
        rows = await staff_actions.dead_letters(self._workflow, session, staff)
        if not rows:
            return Outbound(text("staff_failed_none", loc))
        lines = [text("staff_failed_title", loc, count=len(rows))]
        for number, message in rows:
            lines.append(
                text(
                    "staff_failed_line",
                    loc,
                    number=number,
                    channel=message.channel,
                    when=moment(message.created_at, loc, self._tz),
                    error=(message.last_error or message.status)[:80],
                )
            )
        return Outbound("\n".join(lines))

    async def _queue(self, session: AsyncSession, staff: Staff, now: datetime) -> Outbound:
        loc = staff.locale
        rows = await staff_actions.queue(self._workflow, session, staff)
        if not rows:
            return Outbound(text("staff_queue_empty", loc))
        lines = [text("staff_queue_title", loc)]
        for ticket in rows:
            topic = self._taxonomy.topic_by_code(ticket.topic_code)
            lines.append(
                text(
                    "staff_queue_line",
                    loc,
                    number=ticket.number,
                    status=text(f"status_{Status(ticket.status).value}", loc),
                    topic=topic.name.get(loc) if topic else ticket.topic_code,
                    due=moment(ticket.answer_due_at, loc, self._tz),
                    overdue=text("staff_overdue_mark", loc) if ticket.answer_due_at < now else "",
                )
            )
        return Outbound("\n".join(lines))


Act = Callable[[Workflow, AsyncSession, Staff, Ticket, StaffCommand, datetime], Awaitable[None]]


async def _extend(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, command: StaffCommand, now: datetime
) -> None:
    try:
        new_day = date.fromisoformat(command.argument or "")
    except ValueError as exc:
        raise Refused("staff_bad_date") from exc
    await staff_actions.extend(flow, session, staff, ticket, new_day, command.text, now)


async def _assign(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, command: StaffCommand, now: datetime
) -> None:
    await staff_actions.assign(flow, session, staff, ticket, command.argument or "", now)


# What each verb on one ticket does (SHOW answers with the ticket itself; the listing verbs and
# HELP need no ticket and are answered in ``StaffDesk.handle``).
_ACTIONS: Final[Mapping[Verb, Act]] = MappingProxyType(
    {
        Verb.CLAIM: lambda flow, session, staff, ticket, c, now: staff_actions.claim(flow, session, staff, ticket, now),
        Verb.ASSIGN: _assign,
        Verb.NOTE: lambda flow, session, staff, ticket, c, now: staff_actions.note(
            flow, session, staff, ticket, c.text, now
        ),
        Verb.REPLY: lambda flow, session, staff, ticket, c, now: staff_actions.reply(
            flow, session, staff, ticket, c.text, now
        ),
        Verb.TRANSFER: lambda flow, session, staff, ticket, c, now: routing.transfer(
            flow, session, staff, ticket, c.argument or "", c.text, now
        ),
        Verb.EXTEND: _extend,
        Verb.REJECT: lambda flow, session, staff, ticket, c, now: staff_actions.reject(
            flow, session, staff, ticket, c.text, now
        ),
        Verb.CLOSE: lambda flow, session, staff, ticket, c, now: staff_actions.close(flow, session, staff, ticket, now),
        Verb.DUPLICATE: lambda flow, session, staff, ticket, c, now: linking.link(  # 重复 is 关联
            flow, session, staff, ticket, c.argument or "", now
        ),
        Verb.RETOPIC: lambda flow, session, staff, ticket, c, now: routing.retopic(
            flow, session, staff, ticket, c.argument or "", c.text, now
        ),
        Verb.UNSUPERVISE: lambda flow, session, staff, ticket, c, now: escalation.clear(
            flow, session, staff, ticket, c.text, now
        ),
        Verb.LINK: lambda flow, session, staff, ticket, c, now: linking.link(
            flow, session, staff, ticket, c.argument or "", now
        ),
        Verb.UNLINK: lambda flow, session, staff, ticket, c, now: linking.unlink(flow, session, staff, ticket, now),
        Verb.HIDE: lambda flow, session, staff, ticket, c, now: public_results.hide(
            flow, session, staff, ticket, c.text, now
        ),
        Verb.UNHIDE: lambda flow, session, staff, ticket, c, now: public_results.unhide(
            flow, session, staff, ticket, now
        ),
    }
)
