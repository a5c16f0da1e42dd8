"""Every push and card the ticket domain sends, to citizens and to staff, in one place.

Who hears about what is a rule of its own (the citizen on their channel unless they blocked or
unsubscribed; staff on the /staff page always and on the chat apps they are known on; a
department's Telegram staff group when it has one), and so is the wording of a card. Keeping
them here means a change to either is made once. Everything is written to the outbox in the
caller's transaction: a push exists exactly when its cause does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Choice, ConversationRef, Outbound, Purpose
from dialogs.privacy import mask_personal_data
from dialogs.staff_commands import Verb, button_id
from dialogs.texts import text
from storage.models import Staff, Ticket

if TYPE_CHECKING:
    from tickets.context import Workflow

STAFF_WEB = "staffweb"
RATING_SCORES = (1, 2, 3)  # 满意 / 基本满意 / 不满意


def staff_ref(staff_id: int) -> ConversationRef:
    """A staff member's /staff page mailbox."""
    return ConversationRef(STAFF_WEB, "web", f"staff-{staff_id}")


# --- citizens ---------------------------------------------------------------------------------------


async def tell_citizen(flow: Workflow, session: AsyncSession, ticket: Ticket, message: Outbound, now: datetime) -> None:
    identity = await flow.identities.get(session, ticket.identity_id)
    if identity is None or not identity.reachable:
        # Blocked or unsubscribed: nothing can reach them; the history still shows the change.
        await flow.tickets.add_event(session, ticket.id, "notify_skipped", "system", {"why": "unreachable"}, now)
        return
    ref = ConversationRef(identity.channel, identity.account, identity.chat_id)
    await flow.outbox.enqueue(session, ref, message, now, ticket_id=ticket.id)


async def push_status(
    flow: Workflow,
    session: AsyncSession,
    ticket: Ticket,
    key: str,
    now: datetime,
    *,
    linked: bool = True,
    **values: object,
) -> None:
    """A status push to the citizen in their language: ``key`` with the ticket's number and
    ``values``. ``linked`` pushes carry the ticket number (platforms may render a link or a
    template for it); the closing ones do not, nothing follows them."""
    message = Outbound(
        text(key, ticket.locale, number=ticket.number, **values),
        purpose=Purpose.STATUS,
        ticket_number=ticket.number if linked else None,
    )
    await tell_citizen(flow, session, ticket, message, now)

    def to_follower(locale: str) -> Outbound:
        said = text("followed_prefix", locale, number=ticket.number) + text(key, locale, number=ticket.number, **values)
        return Outbound(said, purpose=Purpose.STATUS, ticket_number=ticket.number)

    await tell_followers(flow, session, ticket, to_follower, now)


def rating_prompt(ticket: Ticket, locale: str | None = None, *, following: bool = False) -> Outbound:
    """满意 / 基本满意 / 不满意 buttons for the ticket's answer; ``following``: to a follower, in
    their language, headed like their other pushes of it."""
    loc = locale or ticket.locale
    head = text("followed_prefix", loc, number=ticket.number) if following else ""
    return Outbound(
        head + text("rating_prompt", loc, number=ticket.number),
        choices=tuple(Choice(f"rate:{ticket.number}:{n}", text(f"rate_{n}", loc)) for n in RATING_SCORES),
        purpose=Purpose.RATING,
        ticket_number=ticket.number,
    )


async def tell_followers(
    flow: Workflow, session: AsyncSession, ticket: Ticket, build: Callable[[str], Outbound], now: datetime
) -> None:
    """Everyone following the ticket (关注 at filing, or 关联 by staff), each in their language
    (``build(locale)``), on their channel; nothing to those who blocked or unsubscribed."""
    for follower in await flow.duplicates.repo.followers(session, ticket.id):
        identity = await flow.identities.get(session, follower.identity_id)
        if identity is None or not identity.reachable:
            continue
        ref = ConversationRef(identity.channel, identity.account, identity.chat_id)
        await flow.outbox.enqueue(session, ref, build(follower.locale), now, ticket_id=ticket.id)


async def ask_followers_to_rate(flow: Workflow, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """With the answer: each follower is asked to rate it too (``tickets.follower_rating``)."""
    await tell_followers(flow, session, ticket, lambda locale: rating_prompt(ticket, locale, following=True), now)


# --- staff ------------------------------------------------------------------------------------------


async def tell_staff(
    flow: Workflow,
    session: AsyncSession,
    people: Sequence[Staff],
    build: Callable[[str], Outbound],
    ticket: Ticket,
    now: datetime,
) -> None:
    """Every channel a staff member is on: the /staff page always, plus their chat apps."""
    identities = await flow.staff.identities(session, [p.id for p in people])
    for person in people:
        message = build(person.locale)
        await flow.outbox.enqueue(session, staff_ref(person.id), message, now, ticket_id=ticket.id)
        for ident in identities:
            if ident.staff_id == person.id and ident.channel in flow.staff_channels:
                ref = ConversationRef(ident.channel, "staff", ident.external_id)
                await flow.outbox.enqueue(session, ref, message, now, ticket_id=ticket.id)


async def notify_staff(
    flow: Workflow,
    session: AsyncSession,
    people: Sequence[Staff],
    ticket: Ticket,
    key: str,
    now: datetime,
    *,
    due: datetime | None = None,
    **values: object,
) -> None:
    """A one-line notice to staff (a reminder, 督办, a citizen's 补充) in each person's language;
    ``due`` is shown as each of them reads a time."""

    def build(locale: str) -> Outbound:
        shown = values if due is None else {**values, "due": flow.due(due, locale)}
        return Outbound(
            text(key, locale, number=ticket.number, **shown), purpose=Purpose.STATUS, ticket_number=ticket.number
        )

    await tell_staff(flow, session, people, build, ticket, now)


def card_text(flow: Workflow, ticket: Ticket, locale: str) -> str:
    """The ticket's facts under a heading; a new (or transferred) ticket's is 【新问政】."""
    return text("card_new", locale, number=ticket.number) + "\n" + card_facts(flow, ticket, locale)


def card_facts(flow: Workflow, ticket: Ticket, locale: str) -> str:
    kind = flow.taxonomy.type_by_code(ticket.type_code)
    topic = flow.taxonomy.topic_by_code(ticket.topic_code)
    place = "".join(p for p in (ticket.city, ticket.district) if p) + (f" {ticket.address}" if ticket.address else "")
    details = ticket.details if len(ticket.details) <= 500 else ticket.details[:500] + "…"
    return text(
        "card",
        locale,
        number=ticket.number,
        type=kind.name.get(locale) if kind else ticket.type_code,
        topic=topic.name.get(locale) if topic else ticket.topic_code,
        place=place.strip() or "-",
        details=mask_personal_data(details),  # cards may land in group chats
        photos=len(ticket.media),
        phone=mask_personal_data(ticket.phone) if ticket.phone else "-",
        respond_due=flow.due(ticket.respond_due_at, locale),
        answer_due=flow.due(ticket.answer_due_at, locale),
    )


async def send_card(
    flow: Workflow, session: AsyncSession, ticket: Ticket, now: datetime, extra_key: str | None, **extra: object
) -> None:
    """The ticket's card (接单 / 查看 buttons) to its department's handlers and, when the Telegram
    channel is on, to the department's staff group, where a reply to the card answers the ticket
    (see the dispatcher)."""
    handlers = await flow.handlers(session, ticket.department_code)

    def build(locale: str) -> Outbound:
        card = card_text(flow, ticket, locale)
        if extra_key is not None:
            card += "\n" + text(extra_key, locale, **extra)
        return Outbound(
            card,
            choices=(
                Choice(button_id(Verb.CLAIM, ticket.number), text("btn_claim", locale)),
                Choice(button_id(Verb.SHOW, ticket.number), text("btn_show", locale)),
            ),
            purpose=Purpose.STATUS,
            ticket_number=ticket.number,
        )

    await tell_staff(flow, session, handlers, build, ticket, now)
    dept = flow.directory.get(ticket.department_code)
    if dept is not None and dept.telegram_chat_id and "telegram" in flow.staff_channels:
        group = ConversationRef("telegram", "staff", dept.telegram_chat_id)
        await flow.outbox.enqueue(session, group, build("zh"), now, ticket_id=ticket.id)


async def send_assignment_card(
    flow: Workflow, session: AsyncSession, colleague: Staff, ticket: Ticket, *, by: str, now: datetime
) -> None:
    """分派: the card to the colleague it was given to, headed by who gave it."""

    def build(locale: str) -> Outbound:
        return Outbound(
            text("card_assigned", locale, number=ticket.number, by=by) + "\n" + card_facts(flow, ticket, locale),
            choices=(Choice(button_id(Verb.SHOW, ticket.number), text("btn_show", locale)),),
            purpose=Purpose.STATUS,
            ticket_number=ticket.number,
        )

    await tell_staff(flow, session, [colleague], build, ticket, now)


async def send_rework_card(
    flow: Workflow,
    session: AsyncSession,
    people: Sequence[Staff],
    ticket: Ticket,
    key: str,
    comment: str,
    now: datetime,
) -> None:
    """不满意: the card again, headed by why it is back (``card_reopened`` or ``card_escalated``),
    not as a new inquiry: it is the same ticket, back."""

    def build(locale: str) -> Outbound:
        return Outbound(
            text(key, locale, number=ticket.number, comment=mask_personal_data(comment))
            + "\n"
            + card_facts(flow, ticket, locale),
            choices=(Choice(button_id(Verb.CLAIM, ticket.number), text("btn_claim", locale)),),
            purpose=Purpose.STATUS,
            ticket_number=ticket.number,
        )

    await tell_staff(flow, session, people, build, ticket, now)
