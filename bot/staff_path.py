"""The staff side of the inbound path: who of the senders is staff, and which ticket's card a staff
member replied to. The dispatcher runs their messages through the staff desk, not the dialog."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Inbound
from bot.channels import PLATFORMS
from storage.models import SentMessage, Staff, Ticket
from storage.staff import StaffRepository
from tickets.notices import STAFF_WEB


async def staff_member(session: AsyncSession, staff: StaffRepository, inbound: Inbound) -> Staff | None:
    """Staff write to the same bot: known by their channel identity (or, on /staff, by login)."""
    sender = inbound.sender_id or inbound.conversation.chat_id
    if inbound.channel == STAFF_WEB:
        found = await staff.get(session, int(sender)) if sender.isdigit() else None
        return found if found is not None and found.active else None
    if not on_platform(inbound):
        return None
    return await staff.by_identity(session, inbound.channel, sender)


def on_platform(inbound: Inbound) -> bool:
    """Only the platforms hold pushes for a reply window and know staff by their chat identity:
    the web chat needs neither lookup (two statements per message)."""
    return inbound.channel in PLATFORMS


async def card_ticket(session: AsyncSession, inbound: Inbound) -> str | None:
    """The ticket of the card a staff member replied to, on channels with replies."""
    if inbound.reply_to is None:
        return None
    stmt = (
        select(Ticket.number)
        .join(SentMessage, SentMessage.ticket_id == Ticket.id)
        .where(
            SentMessage.channel == inbound.channel,
            SentMessage.chat_id == inbound.conversation.chat_id,
            SentMessage.platform_id == inbound.reply_to,
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()
