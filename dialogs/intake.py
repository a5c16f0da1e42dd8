"""The intake form, declared as data: details first (a description usually answers the rest),
then whatever the description did not reveal: topic, place, type.

Every value guessed from free text is marked as guessed and shown on the summary, so the citizen
confirms it with one tap instead of answering a question we could answer ourselves.
"""

from __future__ import annotations

from dataclasses import replace

from adapters.base import Inbound, MessageKind, Outbound
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
from dialogs.places import answer_outside, ask_outside, place_from_address, place_from_pin, with_place
from dialogs.ports import Place
from dialogs.state import IntakeDraft
from dialogs.streets import street_hint
from dialogs.taxonomy import Bilingual
from dialogs.texts import both, text

SKIP = Option("skip", Bilingual(*both("btn_skip")), aliases=("无", "没有", "不需要", "none", "no", "/skip"))


def fill_from_text(ctx: Context, draft: IntakeDraft, said: str) -> IntakeDraft:
    """Fill the slots the citizen has not answered yet from a free-text description."""
    found = ctx.extractor.extract(said)
    guessed = set(draft.guessed)
    if draft.type_code is None and (found.type_code is not None or not found.type_candidates):
        # Without a classifier the keywords fall back to the default type; with one, an unsure
        # type stays open and is asked with the likeliest as buttons.
        draft = replace(draft, type_code=found.type_code or ctx.taxonomy.default_type)
        guessed.add("type")
    if draft.topic_code is None and found.topic_code is not None:
        draft = replace(draft, topic_code=found.topic_code)
        guessed.add("topic")
    if draft.place is None and found.address is not None and (found.address.district or found.address.city):
        # The description itself is kept as details; the place keeps what was recognised.
        street = street_hint(found.address.detail)
        draft = with_place(ctx, draft, replace(place_from_address(found.address), address=street))
        guessed.add("location")
    if draft.phone is None and found.phone is not None:
        draft = replace(draft, phone=found.phone)
    return replace(draft, guessed=frozenset(guessed))


def _confirmed(draft: IntakeDraft, slot: str) -> frozenset[str]:
    return draft.guessed - {slot}


# --- type and topic: asked with the likeliest first when the guess was unsure -----------------

LIKELY_SHOWN = 3
MORE = "more"


def _more_option(prefix: str) -> Option:
    return Option(f"{prefix}:{MORE}", Bilingual(*both("btn_more_choices")), aliases=("更多", "全部", "more", "all"))


def _likely(ctx: Context, draft: IntakeDraft, slot: str, options: tuple[Option, ...]) -> tuple[Option, ...]:
    """The options the classifier ranks likeliest for the description, best first; empty when
    there is no ranking (no classifier, no description) or when the short list would be the
    whole list anyway."""
    if not draft.details:
        return ()
    found = ctx.extractor.classify(draft.details)
    ranked = found.topic_candidates if slot == "topic" else found.type_candidates
    by_id = {o.id: o for o in options}
    likely = tuple(by_id[f"{slot}:{c.code}"] for c in ranked if f"{slot}:{c.code}" in by_id)[:LIKELY_SHOWN]
    return likely if len(likely) == LIKELY_SHOWN and len(options) > LIKELY_SHOWN + 1 else ()


def _ask_ranked(ctx: Context, draft: IntakeDraft, slot: str, options: tuple[Option, ...], ask: str) -> Outbound:
    likely = _likely(ctx, draft, slot, options)
    if not likely:
        return Outbound(text(ask, ctx.locale), choices=options_to_choices(options, ctx.locale))
    shown = (*likely, _more_option(slot))
    return Outbound(text(f"{ask}_likely", ctx.locale), choices=options_to_choices(shown, ctx.locale))


def _accept_ranked(
    ctx: Context, draft: IntakeDraft, inbound: Inbound, slot: str, options: tuple[Option, ...], ask: str
) -> str | Rejected:
    """The chosen code, or a Rejected that shows the full list ("其他") or asks again.

    A number ("2") counts against the list that was shown last: the short list when the guess
    was unsure, so "2" is its second button, not the second of all options."""
    likely = _likely(ctx, draft, slot, options)
    shown = (*likely, _more_option(slot)) if likely else options
    option = match_option(shown, inbound) or match_option(options, inbound)
    if option is not None and option.id == f"{slot}:{MORE}":
        full = Outbound(text(ask, ctx.locale), choices=options_to_choices(options, ctx.locale))
        return Rejected(text("all_choices_follow", ctx.locale), prompt=full)
    if option is None and inbound.kind is MessageKind.TEXT:
        code = ctx.extractor.answer(inbound.text, slot)
        option = next((o for o in options if o.id == f"{slot}:{code}"), None)
    if option is None:
        return Rejected(text("choose_from_list", ctx.locale))
    return option.id.removeprefix(f"{slot}:")


def type_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(f"type:{t.code}", t.name) for t in ctx.taxonomy.types)


def _ask_type(ctx: Context, draft: IntakeDraft) -> Outbound:
    return _ask_ranked(ctx, draft, "type", type_options(ctx), "ask_type")


def _accept_type(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    code = _accept_ranked(ctx, draft, inbound, "type", type_options(ctx), "ask_type")
    if isinstance(code, Rejected):
        return code
    return Accepted(replace(draft, type_code=code, guessed=_confirmed(draft, "type")))


def topic_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(f"topic:{t.code}", t.name) for t in ctx.taxonomy.topics)


def _ask_topic(ctx: Context, draft: IntakeDraft) -> Outbound:
    return _ask_ranked(ctx, draft, "topic", topic_options(ctx), "ask_topic")


def _accept_topic(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    code = _accept_ranked(ctx, draft, inbound, "topic", topic_options(ctx), "ask_topic")
    if isinstance(code, Rejected):
        return code
    return Accepted(replace(draft, topic_code=code, guessed=_confirmed(draft, "topic")))


# --- location -----------------------------------------------------------------------------------


def location_required(ctx: Context, draft: IntakeDraft) -> bool:
    kind = ctx.taxonomy.type_by_code(draft.type_code)
    return kind is None or kind.location_required


def _location_needed(ctx: Context, draft: IntakeDraft) -> bool:
    return draft.outside_area or location_required(ctx, draft)


def _ask_location(ctx: Context, draft: IntakeDraft) -> Outbound:
    if draft.outside_area:
        return ask_outside(ctx, draft)
    if location_required(ctx, draft):
        return Outbound(text("ask_location", ctx.locale), request_location=True)
    return Outbound(
        text("ask_location_optional", ctx.locale), choices=(SKIP.choice(ctx.locale),), request_location=True
    )


def _accept_location(ctx: Context, draft: IntakeDraft, inbound: Inbound) -> Accepted | Rejected:
    if draft.outside_area:
        answered = answer_outside(draft, inbound)
        if answered is not None:
            return answered
        draft = replace(draft, outside_area=False)  # a new address instead: judged afresh below
    if inbound.kind is MessageKind.LOCATION and inbound.location is not None:
        place = place_from_pin(ctx.addresses, inbound.location)
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
            place = place_from_address(parsed)
    elif inbound.kind is MessageKind.CHOICE and not location_required(ctx, draft):
        if match_option((SKIP,), inbound) is None:
            return Rejected(text("location_unclear", ctx.locale))
        return Accepted(replace(draft, place=None, location_skipped=True, guessed=_confirmed(draft, "location")))
    else:
        return Rejected(text("location_unclear", ctx.locale))
    placed = with_place(ctx, replace(draft, guessed=_confirmed(draft, "location")), place)
    notes = () if placed.outside_area else (text("location_saved", ctx.locale, place=place.describe()),)
    return Accepted(placed, notes)  # outside the area: the question that follows shows the place


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
    phone = ctx.extractor.phone(inbound.text) if inbound.kind is MessageKind.TEXT else None
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
            missing=lambda d: (d.place is None and not d.location_skipped) or d.outside_area,
            needed=_location_needed,
            clear=lambda d: replace(d, place=None, location_skipped=False, outside_area=False),
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
