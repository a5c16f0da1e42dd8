"""The Weibo wire format without a server: signatures, recorded pushes, keys, texts, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from adapters.base import BadRequest, Choice, Inbound, Location, MediaRef, MessageKind, Outbound, RecipientUnreachable
from adapters.weibo.protocol import (
    TEXT_LIMIT,
    Ignored,
    api_error,
    check_signature,
    decode_data,
    message_key,
    parse_push,
    passive_reply,
    signature,
    split_text,
    window_open,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "weibo"
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SECRET = "weibo-app-secret"


def load(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def parse(name: str) -> Inbound | Ignored:
    return parse_push(load(name), NOW)


# --- signatures ----------------------------------------------------------------------------------


def test_signature_is_sha1_of_the_sorted_secret_timestamp_and_nonce() -> None:
    assert signature(SECRET, "1795000000", "nonce-1") == "65e3988f8f9552b087d3003be9cdbad724e73b1d"
    assert signature(SECRET, "1795000000", "nonce-1") == signature("nonce-1", SECRET, "1795000000")


def signed(timestamp: int, nonce: str = "n-1", secret: str = SECRET) -> dict[str, str]:
    return {"timestamp": str(timestamp), "nonce": nonce, "signature": signature(secret, str(timestamp), nonce)}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (signed(int(NOW.timestamp())), None),
        (signed(int(NOW.timestamp()) - 299), None),
        ({**signed(int(NOW.timestamp())), "signature": signed(int(NOW.timestamp()))["signature"].upper()}, None),
        ({**signed(int(NOW.timestamp())), "signature": "0" * 40}, "bad signature"),
        (signed(int(NOW.timestamp()), secret="someone-else"), "bad signature"),
        ({k: v for k, v in signed(int(NOW.timestamp())).items() if k != "signature"}, "missing"),
        ({k: v for k, v in signed(int(NOW.timestamp())).items() if k != "nonce"}, "missing"),
        ({k: v for k, v in signed(int(NOW.timestamp())).items() if k != "timestamp"}, "missing"),
        ({**signed(int(NOW.timestamp())), "timestamp": "yesterday"}, "missing"),
        (signed(int(NOW.timestamp()) - 301), "stale"),
        (signed(int(NOW.timestamp()) + 301), "stale"),
    ],
    ids=[
        "fresh",
        "almost-stale",
        "upper-case",
        "wrong",
        "other-secret",
        "no-signature",
        "no-nonce",
        "no-timestamp",
        "timestamp-not-a-number",
        "stale",
        "future",
    ],
)
def test_check_signature(query: dict[str, str], reason: str | None) -> None:
    refused = check_signature(SECRET, query, NOW)
    assert (refused is None) if reason is None else (refused is not None and reason in refused)


def test_an_empty_secret_verifies_nothing() -> None:
    """Otherwise anyone could sign with the empty string."""
    assert check_signature("", signed(int(NOW.timestamp()), secret=""), NOW) is not None


# --- recorded pushes -------------------------------------------------------------------------------

CITIZEN = "2489518277"
ACCOUNT = "1902538057"


@pytest.mark.parametrize(
    ("name", "kind", "expect"),
    [
        ("text.json", MessageKind.TEXT, {"text": "香港中路的路灯坏了一个星期了，晚上很危险"}),
        ("position.json", MessageKind.LOCATION, {"location": Location(36.06203, 120.384428, ""), "text": ""}),
        ("position_data_urlencoded.json", MessageKind.LOCATION, {"location": Location(36.06203, 120.384428, "")}),
        ("image.json", MessageKind.IMAGE, {"media": (MediaRef("image", "weibo:821804469"),), "text": ""}),
        ("voice.json", MessageKind.VOICE, {"text": ""}),
        ("event_follow.json", MessageKind.EVENT, {"event": "subscribe"}),
        ("event_subscribe.json", MessageKind.EVENT, {"event": "subscribe"}),
        ("event_scan_follow.json", MessageKind.EVENT, {"event": "subscribe"}),
        ("event_unfollow.json", MessageKind.EVENT, {"event": "unfollow"}),
        ("event_unsubscribe.json", MessageKind.EVENT, {"event": "unfollow"}),
        ("event_scan.json", MessageKind.EVENT, {"event": "scan"}),
        ("event_view.json", MessageKind.EVENT, {"event": "view"}),
        ("event_click_new.json", MessageKind.TEXT, {"text": "我要问政"}),
        ("event_click_my.json", MessageKind.TEXT, {"text": "我的"}),
        ("event_click_help.json", MessageKind.TEXT, {"text": "帮助"}),
        ("event_click_unknown_key.json", MessageKind.EVENT, {"event": "click"}),
        (
            "mention.json",
            MessageKind.TEXT,
            {
                "text": "@青岛市民热线 香港中路的路灯坏了一个星期了，晚上很危险\n原微博：https://m.weibo.cn/status/4981234567890123"
            },
        ),
    ],
)
def test_recorded_push(name: str, kind: MessageKind, expect: dict[str, Any]) -> None:
    inbound = parse(name)
    assert isinstance(inbound, Inbound)
    assert inbound.kind is kind
    assert inbound.channel == "weibo" and inbound.sender_id == CITIZEN
    assert (inbound.conversation.account, inbound.conversation.chat_id) == (ACCOUNT, CITIZEN)
    assert inbound.message_key.startswith(f"{CITIZEN}:Sun Nov 22 16:00:00 +0800 2026:")
    assert inbound.raw == load(name).decode()
    for attribute, value in expect.items():
        assert getattr(inbound, attribute) == value, attribute


@pytest.mark.parametrize("name", ["unknown_type.json", "event_unknown_subtype.json"])
def test_unknown_types_are_ignored_not_refused(name: str) -> None:
    assert isinstance(parse(name), Ignored)


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("bad_*.json")))
def test_bad_pushes_are_refused_with_400(name: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse(name)
    assert refused.value.status == 400


def test_a_mention_with_its_post_url() -> None:
    body = json.loads(load("mention.json"))
    body["data"] = {"url": "https://weibo.com/1902538057/PxYz123"}
    inbound = parse_push(json.dumps(body).encode(), NOW)
    assert isinstance(inbound, Inbound) and inbound.text.endswith("原微博：https://weibo.com/1902538057/PxYz123")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ("", {}),
        ({"subtype": "follow"}, {"subtype": "follow"}),
        (quote(json.dumps({"text": "中文 消息"}, ensure_ascii=False), safe=""), {"text": "中文 消息"}),
        ("%7B%22text%22%3A+%22a+b%22%7D", {"text": "a b"}),  # Java's URLEncoder writes spaces as "+"
    ],
)
def test_decode_data(value: Any, expected: dict[str, Any]) -> None:
    assert decode_data(value) == expected


@pytest.mark.parametrize("value", ["longitude=1&latitude=2", "%7Bbroken", "%5B1%2C2%5D", 42, ["a"], "[[[" * 5000])
def test_decode_data_refuses_what_is_not_url_encoded_json(value: Any) -> None:
    with pytest.raises(BadRequest):
        decode_data(value)


# --- redelivery keys ---------------------------------------------------------------------------------


def test_two_messages_in_the_same_second_have_two_keys_and_a_redelivery_has_the_same() -> None:
    created = "Sun Nov 22 16:00:00 +0800 2026"
    first = message_key(CITIZEN, created, "text", "路灯坏了", {})
    assert first == message_key(CITIZEN, created, "text", "路灯坏了", {})
    assert first != message_key(CITIZEN, created, "text", "井盖松了", {})
    assert first != message_key(CITIZEN, created, "voice", "路灯坏了", {})
    encoded = parse("position_data_urlencoded.json")
    plain = parse("position.json")
    assert isinstance(encoded, Inbound) and isinstance(plain, Inbound)
    assert encoded.message_key == plain.message_key  # the same push, however data was encoded


# --- outbound --------------------------------------------------------------------------------------


def test_passive_reply_swaps_the_roles_and_url_encodes_the_text() -> None:
    inbound = parse("text.json")
    assert isinstance(inbound, Inbound)
    reply = passive_reply(inbound, "中文消息")
    assert reply == {
        "result": True,
        "receiver_id": int(CITIZEN),
        "sender_id": int(ACCOUNT),
        "type": "text",
        "data": "%7B%22text%22%3A%20%22%E4%B8%AD%E6%96%87%E6%B6%88%E6%81%AF%22%7D",
    }
    assert decode_data(reply["data"]) == {"text": "中文消息"}


def test_split_text_keeps_every_piece_under_the_limit_and_choices_whole() -> None:
    message = Outbound(
        "请确认您的问政内容：\n内容：" + "路灯坏了很久了，" * 60,
        choices=(Choice("a", "提交"), Choice("b", "修改"), Choice("c", "取消")),
    )
    pieces = split_text(message.as_numbered_text())
    assert len(pieces) >= 2 and all(0 < len(p) < TEXT_LIMIT for p in pieces)
    assert pieces[-1].endswith("1. 提交\n2. 修改\n3. 取消")
    assert "".join(pieces).replace("\n", "") == message.as_numbered_text().replace("\n", "")
    assert split_text("短消息") == ["短消息"]
    assert all(len(p) < TEXT_LIMIT for p in split_text("字" * 1000))


def test_the_window_is_48_hours_from_the_last_action() -> None:
    assert window_open(NOW - timedelta(hours=47, minutes=59), NOW)
    assert not window_open(NOW - timedelta(hours=48, seconds=1), NOW)
    assert not window_open(None, NOW)


def test_api_errors() -> None:
    gone = api_error(400, {"request": "/2/messages/reply.json", "error_code": "20301", "error": "not follower"})
    assert isinstance(gone, RecipientUnreachable) and not gone.retryable
    busy = api_error(403, {"request": "/2/messages/reply.json", "error_code": 10023, "error": "rate limit"})
    assert busy.retryable and not isinstance(busy, RecipientUnreachable) and "10023" in str(busy)
    outage = api_error(502, None)
    assert outage.retryable and outage.retry_after is None
    assert api_error(429, None, "30").retry_after == 30.0
