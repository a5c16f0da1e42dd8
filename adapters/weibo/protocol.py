"""The Weibo fan-service (粉丝服务平台) wire format, without any I/O.

Kept apart from the channel so every rule the platform imposes (how a push is signed, what a
message looks like, how ``data`` is encoded, the 300-character text limit, which error codes mean
the citizen is gone) can be read in one place and tested without a server.

The formats follow the platform's published pages (接收普通消息, 接收事件推送, 发送被动响应消息,
messages/reply): a push is ``{type, receiver_id, sender_id, created_at, text, data}``; ``data`` is an
object in the published examples and a string in the field tables, so both are accepted, the
string form being URL-encoded JSON, which is also how we encode ``data`` in everything we send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote_plus

from adapters.base import (
    BadRequest,
    ConversationRef,
    Inbound,
    Location,
    MediaRef,
    MessageKind,
    RecipientUnreachable,
    SendError,
)
from adapters.sanitize import clean_json, coordinate

CHANNEL = "weibo"
TEXT_LIMIT = 300  # a text must be shorter than this (the platform: "less than 300 Chinese characters")
MAX_BODY_BYTES = 64 * 1024  # pushes are small; anything larger is refused before it is parsed
MAX_CLOCK_SKEW = timedelta(minutes=5)  # older (or later) signed timestamps are refused as replays
NONCE_TTL_SECONDS = 2 * MAX_CLOCK_SKEW.total_seconds()  # a nonce is remembered as long as its timestamp is valid
REPLY_WINDOW = timedelta(hours=48)  # the platform lets an account reply this long after the user's last action
MAX_CREATED_AT = 64
_UID = re.compile(r"^[1-9][0-9]{0,19}$")
_NONCE = re.compile(r"^[\x21-\x7e]{1,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")

# The account's custom menu (set up in the fan-service console): each CLICK button's key names a
# dialog command, sent to the dialog as if typed, so the menu and typing behave the same.
MENU_COMMANDS: Mapping[str, str] = MappingProxyType({"WZ_NEW": "我要问政", "WZ_MY": "我的", "WZ_HELP": "帮助"})

# Event subtypes and what the dialog sees. Following (also by scanning a QR code) is a
# subscription (the welcome); unfollowing ends every reply (the dispatcher marks the identity
# unreachable). scan and view open the reply window but ask for no answer.
_SUBSCRIBE = frozenset({"follow", "subscribe", "scan_follow"})
_UNFOLLOW = frozenset({"unfollow", "unsubscribe"})
_SILENT = frozenset({"scan", "view"})
UNFOLLOW_EVENT = "unfollow"

# Error codes of the Weibo API error table after which no retry can succeed: the user does not
# exist (20003), is not (or no longer) a follower (20301: "can't send direct message to user who
# is not your follower"), or refuses messages from us in their privacy settings (20508). Every
# other error, 5xx and timeouts included, is retried with backoff and finally dead-lettered.
UNREACHABLE_CODES: Mapping[str, str] = MappingProxyType(
    {"20003": "user does not exist", "20301": "not a follower", "20508": "refused by the user's settings"}
)


# --- authenticity ----------------------------------------------------------------------------------


def signature(app_secret: str, timestamp: str, nonce: str) -> str:
    """sha1 of the app secret, timestamp and nonce sorted and joined, as WeChat does it."""
    return hashlib.sha1("".join(sorted((app_secret, timestamp, nonce))).encode()).hexdigest()


def check_signature(app_secret: str, query: Mapping[str, str], now: datetime) -> str | None:
    """Why a request is refused (a short reason for the log), or None when it is authentic and
    fresh. The nonce's novelty is checked by the caller, which owns the replay cache."""
    given, timestamp, nonce = query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
    if not app_secret:
        return "no app secret configured"
    if not given or not _TIMESTAMP.match(timestamp) or not _NONCE.match(nonce):
        return "missing or malformed signature parameters"
    expected = signature(app_secret, timestamp, nonce)
    if not hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace")):
        return "bad signature"
    if abs(now.timestamp() - int(timestamp)) > MAX_CLOCK_SKEW.total_seconds():
        return "stale timestamp"
    return None


# --- inbound -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed push that asks nothing of us (an unknown type or subtype): 200, logged."""

    reason: str


def decode_data(value: Any) -> dict[str, Any]:
    """``data`` as an object: given as one, or as URL-encoded JSON, or absent. Anything else is a
    payload the platform would not send (400)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise BadRequest(400, "data is neither an object nor URL-encoded JSON")
    if not value.strip():
        return {}
    try:
        decoded = clean_json(json.loads(unquote_plus(value)))
    except (ValueError, RecursionError) as exc:
        raise BadRequest(400, "data is not URL-encoded JSON") from exc
    if not isinstance(decoded, dict):
        raise BadRequest(400, "data is not a JSON object")
    return decoded


def _uid(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not _UID.match(str(value)):
        raise BadRequest(400, f"{name} is not a user id")
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(400, "text is not a string")
    return value


def _file_id(data: Mapping[str, Any]) -> str:
    """The receiving account's file id (``tovfid``), else the sender's (``vfid``)."""
    for name in ("tovfid", "vfid"):
        value = data.get(name)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    raise BadRequest(400, "image without a file id")


def _coordinate(data: Mapping[str, Any], name: str, bound: float) -> float:
    """A number or a numeric string, finite and on the globe (a 401-digit integer included: 400)."""
    try:
        return coordinate(data.get(name), bound)
    except ValueError as exc:
        raise BadRequest(400, f"position without a valid {name}") from exc


def post_url(data: Mapping[str, Any]) -> str | None:
    """The mentioning post's address: ``data.url`` when given, else built from its ``mid``."""
    url = data.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return url
    mid = data.get("mid")
    if isinstance(mid, int | str) and not isinstance(mid, bool) and re.fullmatch(r"[0-9A-Za-z]{1,32}", str(mid)):
        return f"https://m.weibo.cn/status/{mid}"
    return None


def message_key(sender_id: str, created_at: str, kind: str, text: str, data: Mapping[str, Any]) -> str:
    """``sender_id:created_at:hash``. The platform's own advice (sender_id + created_at) would merge
    two messages sent in the same second, so the content is hashed in; a redelivery carries the
    same content and gets the same key. ``data`` is hashed decoded, so its encoding doesn't matter."""
    canonical = json.dumps(
        {"type": kind, "text": text, "data": data}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return f"{sender_id}:{created_at}:{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


def parse_push(body: bytes, received_at: datetime) -> Inbound | Ignored:
    """One push to one ``Inbound`` (or ``Ignored``); ``BadRequest(400)`` for anything malformed."""
    try:
        # Cleaned before anything is read or hashed: lone surrogates (escaped, or raw CESU-8 bytes,
        # which Python's reader takes) become U+FFFD and NUL goes, so the key and the stored text
        # are the same storable string on every retry.
        payload = clean_json(json.loads(body))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequest(400, "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise BadRequest(400, "body is not a JSON object")
    kind = payload.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadRequest(400, "type is missing")
    receiver = _uid(payload.get("receiver_id"), "receiver_id")
    sender = _uid(payload.get("sender_id"), "sender_id")
    created_at = payload.get("created_at")
    if isinstance(created_at, int) and not isinstance(created_at, bool):
        created_at = str(created_at)
    if not isinstance(created_at, str) or not created_at.strip() or len(created_at) > MAX_CREATED_AT:
        raise BadRequest(400, "created_at is missing")
    text = _text(payload.get("text"))
    data = decode_data(payload.get("data"))
    raw = body.decode("utf-8", "replace")
    base = Inbound(
        channel=CHANNEL,
        conversation=ConversationRef(CHANNEL, receiver, sender),
        message_key=message_key(sender, created_at, kind, text, data),
        kind=MessageKind.TEXT,
        received_at=received_at,
        sender_id=sender,
        raw=raw,
    )
    if kind == "text":
        return replace(base, kind=MessageKind.TEXT, text=text)
    if kind == "position":
        lat, lon = _coordinate(data, "latitude", 90), _coordinate(data, "longitude", 180)
        return replace(base, kind=MessageKind.LOCATION, location=Location(lat, lon, ""))
    if kind == "image":
        return replace(base, kind=MessageKind.IMAGE, media=(MediaRef("image", f"weibo:{_file_id(data)}"),))
    if kind == "voice":  # the text is the platform's default copy ("发了一个语音消息"), not the citizen's words
        return replace(base, kind=MessageKind.VOICE)
    if kind == "mention":
        url = post_url(data)
        said = text.strip()
        linked = f"{said}\n原微博：{url}" if url and said else (url or said)
        return replace(base, kind=MessageKind.TEXT, text=linked)
    if kind == "event":
        return _event(data, base)
    return Ignored(f"unknown message type {kind[:40]!r}")


def _event(data: Mapping[str, Any], base: Inbound) -> Inbound | Ignored:
    subtype = data.get("subtype")
    if not isinstance(subtype, str):
        raise BadRequest(400, "event without a subtype")
    if subtype in _SUBSCRIBE:
        return replace(base, kind=MessageKind.EVENT, event="subscribe")
    if subtype in _UNFOLLOW:
        return replace(base, kind=MessageKind.EVENT, event=UNFOLLOW_EVENT)
    if subtype in _SILENT:
        return replace(base, kind=MessageKind.EVENT, event=subtype)
    if subtype == "click":
        key = data.get("key")
        command = MENU_COMMANDS.get(key) if isinstance(key, str) else None
        if command is None:  # a button of someone else's menu design: it opened the window, nothing more
            return replace(base, kind=MessageKind.EVENT, event="click")
        return replace(base, kind=MessageKind.TEXT, text=command)
    return Ignored(f"unknown event subtype {subtype[:40]!r}")


# --- outbound ------------------------------------------------------------------------------------------


def encode_data(text: str) -> str:
    """``{"text": ...}`` as URL-encoded UTF-8 JSON: the form the platform wants in ``data``."""
    return quote(json.dumps({"text": text}, ensure_ascii=False), safe="")


def fits(text: str) -> bool:
    """Whether one Weibo text can carry it (a passive reply is exactly one text)."""
    return 0 < len(text) < TEXT_LIMIT


def passive_reply(push: Inbound, text: str) -> dict[str, Any]:
    """The HTTP answer to a push that carries our reply: the roles swap (we send, they receive)."""
    return {
        "result": True,
        "receiver_id": int(push.conversation.chat_id),
        "sender_id": int(push.conversation.account),
        "type": "text",
        "data": encode_data(text),
    }


def split_text(text: str, limit: int = TEXT_LIMIT - 1) -> list[str]:
    """Pieces of at most ``limit`` characters, cut after a line break when there is one in the
    second half of a piece (so numbered choices stay whole), else at the limit."""
    pieces: list[str] = []
    rest = text.strip() or text
    while len(rest) > limit:
        cut = rest.rfind("\n", limit // 2, limit)
        cut = cut + 1 if cut != -1 else limit
        pieces.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest:
        pieces.append(rest)
    return pieces


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """The platform refuses replies 48 hours after the user's last action, so we don't try."""
    return last_inbound_at is not None and now - last_inbound_at <= REPLY_WINDOW


def api_error(status: int, body: Any, retry_after: str | None = None) -> SendError:
    """What a failed ``messages/reply`` call means for the outbox (``{request, error_code, error}``)."""
    code = str(body.get("error_code", "")) if isinstance(body, dict) else ""
    detail = str(body.get("error", ""))[:200] if isinstance(body, dict) else ""
    message = f"weibo HTTP {status}" + (f" error {code}: {detail}" if code else "")
    if code in UNREACHABLE_CODES:
        return RecipientUnreachable(f"{message} ({UNREACHABLE_CODES[code]})")
    wait = float(retry_after) if status == 429 and retry_after and retry_after.isdigit() else None
    return SendError(message, retryable=True, retry_after=wait)
