"""The common message format every channel translates to and from.

A channel (Rasa's idea) turns a platform payload into ``Inbound`` values and renders ``Outbound``
values back; nothing platform-specific travels past this module. Values are frozen and slotted so
they can be shared between tasks and hashed, and structured data (a map pin, a button press) keeps
its structure instead of being squeezed into text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from aiohttp import web


class MessageKind(StrEnum):
    TEXT = "text"
    LOCATION = "location"
    IMAGE = "image"
    VOICE = "voice"
    CHOICE = "choice"
    EVENT = "event"
    UNSUPPORTED = "unsupported"


class Purpose(StrEnum):
    """Why a message is sent; channels use it to pick a delivery form (e.g. WeChat templates)."""

    REPLY = "reply"
    STATUS = "status"
    RATING = "rating"


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Enough to reach a citizen who is not talking right now: (channel, our account, their chat)."""

    channel: str
    account: str
    chat_id: str

    def key(self) -> str:
        return f"{self.channel}:{self.account}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class Location:
    lat: float | None = None
    lon: float | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A platform's handle on a photo (file id, media id, URL); the bytes stay on the platform."""

    kind: str
    ref: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    channel: str
    conversation: ConversationRef
    message_key: str
    kind: MessageKind
    received_at: datetime
    text: str = ""
    location: Location | None = None
    media: tuple[MediaRef, ...] = ()
    choice_id: str | None = None
    event: str | None = None
    sender_id: str | None = None
    raw: str = ""
    locale_hint: str | None = None  # the platform's or browser's language, for a citizen we don't know yet
    reply_to: str | None = None  # the platform id of the message this one replies to (a staff card)
    group: bool = False  # said in a group chat (a department's staff group), not to the bot alone

    def payload(self) -> dict[str, Any]:
        """The structured parts, for storage; the inverse is ``Inbound.restore``."""
        return {
            "location": None
            if self.location is None
            else {"lat": self.location.lat, "lon": self.location.lon, "label": self.location.label},
            "media": [{"kind": m.kind, "ref": m.ref, "url": m.url} for m in self.media],
            "choice_id": self.choice_id,
            "event": self.event,
            "sender_id": self.sender_id,
            "reply_to": self.reply_to,
            "group": self.group,
            "locale_hint": self.locale_hint,
        }

    @staticmethod
    def restore(
        *,
        conversation: ConversationRef,
        message_key: str,
        kind: str,
        received_at: datetime,
        text: str,
        payload: Mapping[str, Any],
        raw: str = "",
    ) -> Inbound:
        loc = payload.get("location")
        return Inbound(
            channel=conversation.channel,
            conversation=conversation,
            message_key=message_key,
            kind=MessageKind(kind),
            received_at=received_at,
            text=text,
            location=None if loc is None else Location(loc.get("lat"), loc.get("lon"), loc.get("label", "")),
            media=tuple(MediaRef(m["kind"], m["ref"], m.get("url")) for m in payload.get("media", [])),
            choice_id=payload.get("choice_id"),
            event=payload.get("event"),
            sender_id=payload.get("sender_id"),
            raw=raw,
            reply_to=payload.get("reply_to"),
            group=bool(payload.get("group", False)),
            locale_hint=payload.get("locale_hint"),
        )


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    choices: tuple[Choice, ...] = ()
    request_location: bool = False
    purpose: Purpose = Purpose.REPLY
    ticket_number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
            "request_location": self.request_location,
            "purpose": self.purpose.value,
            "ticket_number": self.ticket_number,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Outbound:
        return Outbound(
            text=str(data["text"]),
            choices=tuple(Choice(str(c["id"]), str(c["label"])) for c in data.get("choices", [])),
            request_location=bool(data.get("request_location", False)),
            purpose=Purpose(data.get("purpose", "reply")),
            ticket_number=data.get("ticket_number"),
        )

    def as_numbered_text(self) -> str:
        """The fallback rendering for platforms without buttons: the citizen answers with a digit."""
        if not self.choices:
            return self.text
        lines = [self.text, ""]
        lines += [f"{i}. {c.label}" for i, c in enumerate(self.choices, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Capabilities:
    inline_reply: bool
    buttons: bool
    location_request: bool
    reply_window_hours: float | None = None


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What platform reply windows depend on, supplied by the outbox worker (channels keep no
    state of their own): when the citizen last wrote, and how many messages we sent since."""

    now: datetime
    last_inbound_at: datetime | None = None
    sent_since_inbound: int = 0
    reachable: bool = True  # False after unsubscribe/unfollow/block: the worker sends nothing then


class SendError(Exception):
    """A platform refused or failed a send. ``retryable`` decides between backoff and dead letter."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class RecipientUnreachable(SendError):
    """The citizen blocked us, unsubscribed or the window closed for good: stop trying."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class Deferred(SendError):
    """Not now, by our own limits (a per-chat rate): try again after ``retry_after``. Not a
    failure, so it uses up none of the message's attempts."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)


class OutsideWindow(SendError):
    """The platform's reply window is closed (Weibo: 48 h after the citizen's last message). The
    message is held, shown to staff, and sent when the citizen writes again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class BadRequest(Exception):
    """A payload the platform would never send: answered with ``status`` and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Any = field(compare=False)


@runtime_checkable
class Channel(Protocol):
    """What the dispatcher needs of a platform. Channels hold their clients; they don't inherit them."""

    name: str
    capabilities: Capabilities

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
    ) -> str | None:
        """Deliver one message; the platform's id for it (so a reply to it can be traced), or None."""
        ...


# Set on every request by the app's first middleware (``bot.overload.stamp_arrival``): when it
# arrived, in ``time.monotonic()`` seconds. Budgets (WeChat's and Weibo's 5 s) count from it.
ARRIVED = web.RequestKey("arrived", float)


def arrival(request: web.Request) -> float | None:
    return request.get(ARRIVED)


class TemporarilyUnavailable(Exception):
    """Storage is down: the message was not stored. Channels answer with a retryable status
    (503) so the platform, or the page, sends it again; nothing is acknowledged unstored."""


@dataclass(frozen=True, slots=True)
class Handled:
    """The dispatcher's answer. ``duplicate``: a redelivery, answered from storage, nothing re-run."""

    replies: tuple[Outbound, ...]
    duplicate: bool = False
    # The budget ran out after the message was committed: answer the platform "success", the replies
    # follow via the outbox. Past the budget without a commit the dispatcher raises
    # ``TemporarilyUnavailable`` instead, so nothing is acknowledged unstored.
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class RequestNonce:
    """A signed request's nonce, recorded durably in the same transaction as the message it carried.

    Where the signature does not cover the body (Weibo; WeChat in plain mode) a captured query
    could carry any body: the nonce is kept with the body's hash until the request's timestamp is
    no longer acceptable (``expires_at``), across restarts and workers. The same nonce with the same
    body is the platform retrying (answered like a redelivery); with another body it is refused."""

    nonce: str
    body_sha256: str
    expires_at: datetime


class NonceReused(BadRequest):
    """The nonce was seen with another body: a replayed signature (403), nothing stored."""

    def __init__(self) -> None:
        super().__init__(403, "nonce already used with another body")


class InboundSink(Protocol):
    """The dispatcher as a channel sees it: one call per inbound message.

    ``inline`` says the channel will deliver the replies in its HTTP answer; otherwise the
    dispatcher queues them in the outbox in the same transaction that marks the message processed.
    """

    async def handle(
        self,
        inbound: Inbound,
        *,
        inline: bool = True,
        inline_limit: int | None = None,
        budget: float | None = None,
        inline_fits: Callable[[Outbound], bool] | None = None,
        nonce: RequestNonce | None = None,
        arrived: float | None = None,
    ) -> Handled: ...


def route_table(routes: Sequence[Route]) -> list[web.RouteDef]:
    return [web.route(r.method, r.path, r.handler) for r in routes]
