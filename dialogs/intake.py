"""The intake form, declared as data: details first (a description usually answers the rest),
then whatever the description did not reveal: topic, place, type.

Every value guessed from free text is marked as guessed and shown on the summary, so the citizen
confirms it with one tap instead of answering a question we could answer ourselves.
"""

from __future__ import annotations

from dataclasses import replace

from adapters.base import Inbound, MessageKind, Outbound
from dialogs.address import Address, street_hint
from dialogs.forms import (
    Accepted,
    Context,
    Form,
    Option,
    Rejected,
    Slot,
    match_option,
    normalize,
    options_to_choices,
)
from dialogs.ports import Place
from dialogs.state import IntakeDraft
from dialogs.taxonomy import Bilingual
from dialogs.texts import both, text

SKIP = Option("skip", Bilingual(*both("btn_skip")), aliases=("无", "没有", "不需要", "none", "no", "/skip"))


def place_from_address(address: Address) -> Place:
    return Place(
        province=address.province,
        city=address.city,
        district=address.district,
        address=address.label.strip(),
    )


def fill_from_text(ctx: Context, draft: IntakeDraft, said: str) -> IntakeDraft:
    """Fill the slots the citizen has not answered yet from a free-text description."""
    found = ctx.extractor.extract(said)
    guessed = set(draft.guessed)
    if draft.type_code is None:
        draft = replace(draft, type_code=found.type_code or ctx.taxonomy.default_type)
        guessed.add("type")
    if draft.topic_code is None and found.topic_code is not None:
        draft = replace(draft, topic_code=found.topic_code)
        guessed.add("topic")
    if draft.place is None and found.address is not None and (found.address.district or found.address.city):
        # The description itself is kept as details; the place keeps what was recognised.
        street = street_hint(found.address.detail)
        draft = replace(draft, place=replace(place_from_address(found.address), address=street))
        guessed.add("location")
    if draft.phone is None and found.phone is not None:
        draft = replace(draft, phone=found.phone)
    return replace(draft, guessed=frozenset(guessed))


def _confirmed(draft: IntakeDraft, slot: str) -> frozenset[str]:
    return draft.guessed - {slot}


# --- type ---------------------------------------------------------------------------------------


def type_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(f"type:{t.code}", t.name) for t in ctx.taxonomy.types)


def _ask_type(ctx: Context, draft: IntakeDraft) -> Outbound:
    return Outbound(text("ask_type", ctx.locale), choices=options_to_choices(type_options(ctx), ctx.locale))


def _accept_type(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    option = match_option(type_options(ctx), inbound)
    if option is None and inbound.kind is MessageKind.TEXT:
        code = ctx.extractor.extract(inbound.text).type_code
        option = next((o for o in type_options(ctx) if o.id == f"type:{code}"), None)
    if option is None:
        return Rejected(text("choose_from_list", ctx.locale))
    return Accepted(replace(draft, type_code=option.id.removeprefix("type:"), guessed=_confirmed(draft, "type")))


# --- topic --------------------------------------------------------------------------------------


def topic_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(f"topic:{t.code}", t.name) for t in ctx.taxonomy.topics)


def _ask_topic(ctx: Context, draft: IntakeDraft) -> Outbound:
    return Outbound(text("ask_topic", ctx.locale), choices=options_to_choices(topic_options(ctx), ctx.locale))


def _accept_topic(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    option = match_option(topic_options(ctx), inbound)
    if option is None and inbound.kind is MessageKind.TEXT:
        code = ctx.extractor.extract(inbound.text).topic_code
        option = next((o for o in topic_options(ctx) if o.id == f"topic:{code}"), None)
    if option is None:
        return Rejected(text("choose_from_list", ctx.locale))
    return Accepted(replace(draft, topic_code=option.id.removeprefix("topic:"), guessed=_confirmed(draft, "topic")))


# --- location -----------------------------------------------------------------------------------


def location_required(ctx: Context, draft: IntakeDraft) -> bool:
    kind = ctx.taxonomy.type_by_code(draft.type_code)
    return kind is None or kind.location_required


def _ask_location(ctx: Context, draft: IntakeDraft) -> Outbound:
    if location_required(ctx, draft):
        return Outbound(text("ask_location", ctx.locale), request_location=True)
    return Outbound(
        text("ask_location_optional", ctx.locale), choices=(SKIP.choice(ctx.locale),), request_location=True
    )


def _accept_location(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    if inbound.kind is MessageKind.LOCATION and inbound.location is not None:
        pin = inbound.location
        parsed = ctx.addresses.parse(pin.label) if pin.label else None
        place = Place(
            province=parsed.province if parsed else None,
            city=parsed.city if parsed else None,
            district=parsed.district if parsed else None,
            address=pin.label,
            lat=pin.lat,
            lon=pin.lon,
        )
    elif inbound.kind is MessageKind.TEXT:
        if not location_required(ctx, draft) and match_option((SKIP,), inbound) is not None:
            return Accepted(replace(draft, place=None, location_skipped=True, guessed=_confirmed(draft, "location")))
        said = inbound.text.strip()
        parsed = ctx.addresses.parse(said)
        if parsed is None or not (parsed.district or parsed.city or parsed.detail):
            if len(normalize(said)) < 4:
                return Rejected(text("location_unclear", ctx.locale))
            place = Place(address=said)  # a street name alone still helps local staff
        else:
            place = replace(place_from_address(parsed), address=said)
    elif inbound.kind is MessageKind.CHOICE and not location_required(ctx, draft):
        if match_option((SKIP,), inbound) is None:
            return Rejected(text("location_unclear", ctx.locale))
        return Accepted(replace(draft, place=None, location_skipped=True, guessed=_confirmed(draft, "location")))
    else:
        return Rejected(text("location_unclear", ctx.locale))
    note = text("location_saved", ctx.locale, place=place.describe())
    return Accepted(replace(draft, place=place, location_skipped=False, guessed=_confirmed(draft, "location")), (note,))


# --- details ------------------------------------------------------------------------------------


def check_details(ctx: Context, said: str) -> str | None:
    """The reason a description cannot be used as it is, in the citizen's language, or None."""
    length = len(said.strip())
    if length > ctx.settings.max_details_chars:
        return text("details_too_long", ctx.locale, length=length, max=ctx.settings.max_details_chars)
    if len(normalize(said)) < ctx.settings.min_details_chars:
        return text("details_too_short", ctx.locale, min=ctx.settings.min_details_chars)
    return None


def _ask_details(ctx: Context, draft: IntakeDraft) -> Outbound:
    return Outbound(text("ask_details", ctx.locale))


def _accept_details(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    if inbound.kind is not MessageKind.TEXT:
        return Rejected(text("ask_details", ctx.locale))
    problem = check_details(ctx, inbound.text)
    if problem is not None:
        return Rejected(problem)
    updated = replace(draft, details=inbound.text.strip(), guessed=_confirmed(draft, "details"))
    return Accepted(fill_from_text(ctx, updated, inbound.text))


# --- phone (asked only from the summary) -----------------------------------------------------------


def _ask_phone(ctx: Context, draft: IntakeDraft) -> Outbound:
    return Outbound(text("ask_phone", ctx.locale), choices=(SKIP.choice(ctx.locale),))


def _accept_phone(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    if match_option((SKIP,), inbound) is not None:
        return Accepted(replace(draft, phone=None))
    phone = ctx.extractor.extract(inbound.text).phone if inbound.kind is MessageKind.TEXT else None
    if phone is None:
        return Rejected(text("phone_invalid", ctx.locale))
    return Accepted(replace(draft, phone=phone), (text("phone_saved", ctx.locale, phone=phone),))


def _never(ctx: Context, draft: IntakeDraft) -> bool:
    return False


def _always(ctx: Context, draft: IntakeDraft) -> bool:
    return True


INTAKE = Form(
    name="intake",
    slots=(
        Slot(
            "details",
            Bilingual(*both("field_details")),
            _ask_details,
            _accept_details,
            missing=lambda d: d.details is None,
            needed=_always,
            clear=lambda d: replace(d, details=None),
        ),
        Slot(
            "type",
            Bilingual(*both("field_type")),
            _ask_type,
            _accept_type,
            missing=lambda d: d.type_code is None,
            needed=_always,
            clear=lambda d: replace(d, type_code=None),
        ),
        Slot(
            "topic",
            Bilingual(*both("field_topic")),
            _ask_topic,
            _accept_topic,
            missing=lambda d: d.topic_code is None,
            needed=_always,
            clear=lambda d: replace(d, topic_code=None),
        ),
        Slot(
            "location",
            Bilingual(*both("field_location")),
            _ask_location,
            _accept_location,
            missing=lambda d: d.place is None and not d.location_skipped,
            needed=location_required,
            clear=lambda d: replace(d, place=None, location_skipped=False),
        ),
        Slot(
            "phone",
            Bilingual(*both("field_phone")),
            _ask_phone,
            _accept_phone,
            missing=lambda d: d.phone is None,
            needed=_never,
            clear=lambda d: replace(d, phone=None),
        ),
    ),
)
