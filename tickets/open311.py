"""Our tickets as Open311 GeoReport v2 service requests: which fields a request shows, by the
citizen's 公开 consent.

Every request is listed (status, dates, agency: what any 12345 hotline publishes in aggregate),
but the citizen's text (``description``), the answer in ``status_notes``, the street in
``address``, the coordinates and the photos only when the citizen consented and staff did not hide
it, masked like /public. Coordinates are rounded to about 100 m: a pin is often a front door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dialogs.public_mask import mask_for_public, names_in
from dialogs.taxonomy import Topic
from storage.models import Ticket
from storage.public_results import PublishedRow
from tickets.public_results import public_place
from tickets.routing import Directory

CLOSED_STATUSES = frozenset({"answered", "closed", "rejected", "withdrawn", "duplicate"})
OPEN_STATUSES = frozenset({"submitted", "accepted", "assigned", "in_progress", "reopened"})
COORDINATE_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """One ``<request>``; None fields are left out."""

    service_request_id: str
    status: str  # open | closed
    status_notes: str
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime
    address: str
    lat: float | None
    long: float | None
    media_url: str | None


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def statuses_for(open311: str) -> frozenset[str]:
    return CLOSED_STATUSES if open311 == "closed" else OPEN_STATUSES


def is_published(ticket: Ticket) -> bool:
    return bool(ticket.public_consent) and ticket.public_hidden_at is None


def service_request(
    row: PublishedRow, *, topic: Topic | None, directory: Directory, status_name: str, locale: str
) -> ServiceRequest:
    ticket = row.ticket
    public = is_published(ticket)
    department = directory.name(ticket.department_code)
    notes = status_name
    if public and row.answer:
        notes = f"{status_name}：{mask_for_public(row.answer, names_in(ticket.details))}"
    media = next((m.get("url") for m in ticket.media if str(m.get("url") or "").startswith("http")), None)
    return ServiceRequest(
        service_request_id=ticket.number,
        status=open311_status(ticket.status),
        status_notes=notes,
        service_name=topic.name.get(locale) if topic else ticket.topic_code,
        service_code=ticket.topic_code,
        description=mask_for_public(ticket.details) if public else None,
        agency_responsible=department.get(locale) if department else "",
        service_notice=None,  # nothing beyond status_notes to say about a filed request
        requested_datetime=ticket.created_at,
        updated_datetime=ticket.updated_at,
        expected_datetime=ticket.answer_due_at,
        address=public_place(ticket) if public else (ticket.district or ""),
        lat=round(ticket.lat, COORDINATE_DECIMALS) if public and ticket.lat is not None else None,
        long=round(ticket.lon, COORDINATE_DECIMALS) if public and ticket.lon is not None else None,
        media_url=str(media) if public and media else None,
    )
