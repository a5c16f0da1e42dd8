"""The common message format: what is stored comes back whole."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.base import Choice, ConversationRef, Inbound, Location, MediaRef, MessageKind, Outbound, Purpose


def test_an_inbound_survives_storage_with_every_structured_part() -> None:
    """The recovery sweep rebuilds messages from storage: a lost ``group`` flag would let the
    intake dialog answer a stranger inside a staff group, a lost ``reply_to`` would turn a reply
    to a card into plain text."""
    original = Inbound(
        channel="telegram",
        conversation=ConversationRef("telegram", "bot", "-1001"),
        message_key="update:7",
        kind=MessageKind.LOCATION,
        received_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
        text="这里",
        location=Location(36.06, 120.38, "香港中路"),
        media=(MediaRef("image", "f1", "https://x/y.jpg"),),
        choice_id="c",
        event="e",
        sender_id="1001",
        raw="{}",
        locale_hint="en",
        reply_to="555",
        group=True,
    )
    again = Inbound.restore(
        conversation=original.conversation,
        message_key=original.message_key,
        kind=original.kind.value,
        received_at=original.received_at,
        text=original.text,
        payload=original.payload(),
        raw=original.raw,
    )
    assert again == original


def test_an_outbound_survives_the_outbox() -> None:
    message = Outbound("请评价", (Choice("rate:WZ20261122-0001:1", "满意"),), True, Purpose.RATING, "WZ20261122-0001")
    assert Outbound.from_dict(message.to_dict()) == message


def test_numbered_text_is_the_fallback_for_buttons() -> None:
    message = Outbound("请确认：", (Choice("a", "提交"), Choice("b", "修改")))
    assert message.as_numbered_text() == "请确认：\n\n1. 提交\n2. 修改"
    assert Outbound("只有文字").as_numbered_text() == "只有文字"
