"""Dialog session state: a frozen value, serialised to JSON for the session store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from adapters.base import MediaRef
from dialogs.ports import Place


@dataclass(frozen=True, slots=True)
class IntakeDraft:
    """What the intake form has collected so far; ``guessed`` names slots filled from free text."""

    type_code: str | None = None
    topic_code: str | None = None
    place: Place | None = None
    location_skipped: bool = False
    details: str | None = None
    media: tuple[MediaRef, ...] = ()
    phone: str | None = None
    guessed: frozenset[str] = frozenset()
    outside_area: bool = False  # the place lies outside the service area and is not yet confirmed
    publish: bool = False  # 公开: the citizen agreed on the summary to publish it without name or contacts


@dataclass(frozen=True, slots=True)
class SessionState:
    locale: str
    updated_at: datetime
    form: str | None = None  # None: idle
    step: str | None = None
    draft: IntakeDraft = field(default_factory=IntakeDraft)
    history: tuple[str, ...] = ()  # slots answered, newest last: what "back" undoes
    intake_key: str | None = None  # one per form; makes a double "submit" file one ticket
    editing: bool = False  # a slot asked from the summary returns to the summary
    last_filed: str | None = None  # the number just filed: answers a late second tap on "submit"
    locale_explicit: bool = False  # the citizen chose a language: stop guessing it from their text
    rating_ticket: str | None = None  # 不满意 was tapped: the next text is the reason
    withdraw_ticket: str | None = None  # "撤回 N" was asked to confirm: the next answer decides
    # 已有人反映 was offered before the summary (dialogs/duplicate_offer.py): the ticket the next
    # answer is about.
    offered_ticket: str | None = None
    # The matter (topic and place) last looked up for 已有人反映: asked once per matter, not again
    # each time the summary is shown; an edit of the topic or the place looks again.
    checked_matter: str | None = None

    def idle(self) -> SessionState:
        return replace(
            self,
            form=None,
            step=None,
            draft=IntakeDraft(),
            history=(),
            intake_key=None,
            editing=False,
            offered_ticket=None,
            checked_matter=None,
        )

    def to_json(self) -> str:
        # Written out rather than dataclasses.asdict: this runs on every message, and asdict's
        # deep copy was most of the dialog's own time (measured in bench/, BENCHMARKS.md).
        d = self.draft
        place = d.place
        data = {
            "locale": self.locale,
            "updated_at": self.updated_at.isoformat(),
            "form": self.form,
            "step": self.step,
            "draft": {
                "type_code": d.type_code,
                "topic_code": d.topic_code,
                "place": None
                if place is None
                else {
                    "province": place.province,
                    "city": place.city,
                    "district": place.district,
                    "address": place.address,
                    "lat": place.lat,
                    "lon": place.lon,
                },
                "location_skipped": d.location_skipped,
                "details": d.details,
                "media": [{"kind": m.kind, "ref": m.ref, "url": m.url} for m in d.media],
                "phone": d.phone,
                "guessed": sorted(d.guessed),
                "outside_area": d.outside_area,
                "publish": d.publish,
            },
            "history": list(self.history),
            "intake_key": self.intake_key,
            "editing": self.editing,
            "last_filed": self.last_filed,
            "locale_explicit": self.locale_explicit,
            "rating_ticket": self.rating_ticket,
            "withdraw_ticket": self.withdraw_ticket,
            "offered_ticket": self.offered_ticket,
            "checked_matter": self.checked_matter,
        }
        return json.dumps(data, ensure_ascii=False)

    @staticmethod
    def from_json(raw: str) -> SessionState:
        data: dict[str, Any] = json.loads(raw)
        d = data["draft"]
        place = d.get("place")
        draft = IntakeDraft(
            type_code=d.get("type_code"),
            topic_code=d.get("topic_code"),
            place=None if place is None else Place(**place),
            location_skipped=bool(d.get("location_skipped", False)),
            details=d.get("details"),
            media=tuple(MediaRef(**m) for m in d.get("media", [])),
            phone=d.get("phone"),
            guessed=frozenset(d.get("guessed", [])),
            outside_area=bool(d.get("outside_area", False)),
            publish=bool(d.get("publish", False)),
        )
        return SessionState(
            locale=data["locale"],
            updated_at=datetime.fromisoformat(data["updated_at"]),
            form=data.get("form"),
            step=data.get("step"),
            draft=draft,
            history=tuple(data.get("history", [])),
            intake_key=data.get("intake_key"),
            editing=bool(data.get("editing", False)),
            last_filed=data.get("last_filed"),
            locale_explicit=bool(data.get("locale_explicit", False)),
            rating_ticket=data.get("rating_ticket"),
            withdraw_ticket=data.get("withdraw_ticket"),
            offered_ticket=data.get("offered_ticket"),
            checked_matter=data.get("checked_matter"),
        )
