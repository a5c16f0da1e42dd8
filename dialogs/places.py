"""The place of an inquiry as the form keeps it: from a typed address or a shared pin, and the
one question a place may raise, "this is outside our area, file it anyway?".

A service answers for one city (``dialog.service_city``) or province. A place outside it is
usually a slip (the citizen's home town, a chain shop's head office), and filing it silently
sends the ticket to a department that cannot act on it, so the citizen is asked once.
"""

from __future__ import annotations

from dataclasses import replace

from adapters.base import Inbound, Location, Outbound
from dialogs.address import Address, AddressParser
from dialogs.forms import Accepted, Context, Option, match_option, options_to_choices
from dialogs.ports import Place
from dialogs.state import IntakeDraft
from dialogs.taxonomy import Bilingual
from dialogs.texts import both, text

KEEP_PLACE = Option(
    "place:keep", Bilingual(*both("btn_keep_place")), aliases=("仍要", "提交", "是", "是的", "yes", "keep", "submit")
)
CHANGE_PLACE = Option(
    "place:change", Bilingual(*both("btn_change_place")), aliases=("修改", "改", "否", "不", "change", "no")
)


def place_from_address(address: Address) -> Place:
    """The levels as recognised and, as the address, only what the text adds to them (the street),
    so nothing shown to staff names a level twice."""
    return Place(
        province=address.province,
        city=address.city,
        district=address.district,
        address=address.detail.strip(),
    )


def place_from_pin(addresses: AddressParser, pin: Location) -> Place:
    """A shared pin. The platform's label names the place when it parses to a district; else the
    district comes from the coordinates (dialogs/geo.py), unless the label names another city.
    The label stays as the address staff see, and the coordinates are kept."""
    label = pin.label.strip()
    parsed = addresses.parse(label) if label else None
    if (parsed is None or parsed.district is None) and pin.lat is not None and pin.lon is not None:
        located = addresses.place_at(pin.lat, pin.lon)
        if located is not None and (parsed is None or parsed.city in (None, located.city)):
            parsed = replace(located, detail=parsed.detail if parsed else label, label=label)
    base = place_from_address(parsed) if parsed is not None else Place(address=label)
    return replace(base, lat=pin.lat, lon=pin.lon)


def with_place(ctx: Context, draft: IntakeDraft, place: Place) -> IntakeDraft:
    """The draft with a new place, marked for the area question when it lies outside the area."""
    outside = ctx.addresses.outside_area(place.province, place.city)
    return replace(draft, place=place, location_skipped=False, outside_area=outside)


def ask_outside(ctx: Context, draft: IntakeDraft) -> Outbound:
    place = draft.place.describe() if draft.place is not None else ""
    return Outbound(
        text("location_outside", ctx.locale, place=place),
        choices=options_to_choices((KEEP_PLACE, CHANGE_PLACE), ctx.locale),
    )


def answer_outside(draft: IntakeDraft, inbound: Inbound) -> Accepted | None:
    """仍要提交 keeps the place, 修改地点 clears it so it is asked again; None for anything else
    (a new address or pin), which the location slot then takes as the new place."""
    option = match_option((KEEP_PLACE, CHANGE_PLACE), inbound)
    confirmed = draft.guessed - {"location"}
    if option is KEEP_PLACE:
        return Accepted(replace(draft, outside_area=False, guessed=confirmed))
    if option is CHANGE_PLACE:
        return Accepted(replace(draft, place=None, outside_area=False, location_skipped=False, guessed=confirmed))
    return None
