"""The inbound sanitiser: a clean message passes untouched, a dirty field is cleaned wherever it is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from adapters.base import ConversationRef, Inbound, Location, MediaRef, MessageKind
from adapters.sanitize import clean_inbound

CLEAN = Inbound(
    channel="webchat",
    conversation=ConversationRef("webchat", "web", "c1"),
    message_key="k1",
    kind=MessageKind.TEXT,
    received_at=datetime(2026, 12, 6, tzinfo=UTC),
    text="路灯坏了\n晚上很黑",
    location=Location(36.06, 120.38, "香港中路"),
    media=(MediaRef("image", "m1", None),),
    choice_id="confirm:submit",
    raw="{}",
)


def test_a_clean_message_is_returned_as_it_is() -> None:
    assert clean_inbound(CLEAN) is CLEAN


def test_a_dirty_field_anywhere_is_cleaned_and_the_rest_kept() -> None:
    dirty = replace(
        CLEAN,
        text="路灯\ud800坏了\x00",
        location=Location(36.06, 120.38, "香港\x07中路"),
        media=(MediaRef("image", "m\ud8001", None),),
        reply_to="r\x00",
    )
    cleaned = clean_inbound(dirty)
    assert cleaned.text == "路灯\ufffd坏了"
    assert cleaned.location == Location(36.06, 120.38, "香港中路")
    assert cleaned.media == (MediaRef("image", "m\ufffd1", None),)
    assert cleaned.reply_to == "r"
    assert (cleaned.choice_id, cleaned.message_key, cleaned.raw) == (CLEAN.choice_id, CLEAN.message_key, CLEAN.raw)
