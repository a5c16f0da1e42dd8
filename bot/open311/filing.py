"""``POST requests``: an Open311 client files a ticket through the same path as a chat message:
``SqlIntakePort.file_ticket`` (the ticket, its number, routing to a department, deadlines,
timers and the staff's cards in the outbox, in one transaction).

The requester is a citizen of the ``open311`` channel, one per client key and e-mail/device, and
unreachable: pushes are skipped (recorded as such); the client polls ``requests/{id}``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Location, MediaRef
from bot.services import Services
from dialogs.places import place_from_address, place_from_pin
from dialogs.ports import FiledTicket, Place, TicketDraft
from storage.identities import IdentityRef
from storage.models import ApiKey
from storage.public_results import ApiKeyRepository
from tickets.intake_port import SqlIntakePort

CHANNEL = "open311"


@dataclass(frozen=True, slots=True)
class NewRequest:
    service_code: str
    description: str
    lat: float | None
    long: float | None
    address: str
    requester: str  # e-mail, device id or account id: who the client says filed it
    phone: str | None
    media_url: str | None
    publish: bool
    locale: str


async def authorize(services: Services, key: str) -> ApiKey | None:
    if not key:
        return None
    async with services.sessions() as session:
        return await ApiKeyRepository().find(session, key)


def place_for(services: Services, request: NewRequest) -> Place | None:
    if request.lat is not None and request.long is not None:
        return place_from_pin(services.addresses, Location(request.lat, request.long, request.address))
    if request.address:
        parsed = services.addresses.parse(request.address)
        return place_from_address(parsed) if parsed is not None else Place(address=request.address)
    return None


async def file_request(services: Services, key: ApiKey, request: NewRequest) -> FiledTicket:
    workflow = services.workflow
    async with services.sessions.begin() as session:
        port = await _port(services, session, key, request.requester or "-", request.locale)
        media = (MediaRef("image", request.media_url, request.media_url),) if request.media_url else ()
        filed = await port.file_ticket(
            TicketDraft(
                intake_key=uuid.uuid4().hex,
                type_code=workflow.taxonomy.default_type,
                topic_code=request.service_code,
                place=place_for(services, request),
                details=request.description,
                media=media,
                phone=request.phone,
                locale=request.locale,
                publish=request.publish,
            )
        )
    port.log_filings()
    services.metrics.tickets_filed.labels(CHANNEL).inc()
    return filed


async def _port(services: Services, session: AsyncSession, key: ApiKey, requester: str, locale: str) -> SqlIntakePort:
    workflow = services.workflow
    now = services.clock()
    identity = await workflow.identities.get_or_create(session, CHANNEL, key.name, requester[:128], now, locale)
    ref = IdentityRef(identity.id, identity.citizen_id, identity.channel)
    if identity.reachable:  # an Open311 client polls: nothing is pushed to it
        await workflow.identities.set_reachable(session, identity.id, False)
    return SqlIntakePort(
        session=session,
        tickets=workflow.tickets,
        identity=ref,
        deadlines=workflow.deadlines,
        tz=workflow.tz,
        now=now,
        workflow=workflow,
    )
