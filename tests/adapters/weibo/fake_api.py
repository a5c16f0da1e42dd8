"""A fake Weibo fan-service platform on loopback: both directions, with the platform's rules.

Inbound, it plays Weibo pushing a user's message: signs the request with the app secret, posts
the JSON to ``/webhooks/weibo`` and checks the passive reply it gets back. Outbound, it serves
``POST /2/messages/reply.json`` and enforces what the real platform enforces: the access token,
the form encoding, texts under 300 characters, replies only within 48 hours of the user's last
action and never after they unfollowed. A refused reply is also recorded as a violation, so a test
fails when the channel sends something it should have held back.

The platform's side of the window is its own: it learns what users did from the pushes sent
through ``push``, exactly as the real platform knows what it delivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web
from aiohttp.test_utils import TestClient

WINDOW = timedelta(hours=48)
# Pushes that open (or reopen) the 48-hour reply window: a message, a follow or subscription,
# a QR scan or a menu click (the platform's list for messages/reply).
_WINDOW_TYPES = frozenset({"text", "position", "image", "voice", "mention"})
_WINDOW_EVENTS = frozenset({"follow", "subscribe", "scan", "scan_follow", "click", "view"})
_UNFOLLOW_EVENTS = frozenset({"unfollow", "unsubscribe"})
# The public docs name no code for "no reply quota left"; the fake uses 10014 (insufficient
# permissions), which the channel retries. Unfollowed users get 20301 (not a follower).
NO_QUOTA = "10014"
NOT_FOLLOWER = "20301"
TEXT_TOO_LONG = "20013"
INVALID_TOKEN = "21332"


def sign(app_secret: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted((app_secret, timestamp, nonce))).encode()).hexdigest()


def decode_data(value: str) -> dict[str, Any]:
    decoded = json.loads(unquote_plus(value))
    assert isinstance(decoded, dict), f"data is not a JSON object: {value!r}"
    return decoded


@dataclass
class Delivered:
    receiver_id: str
    text: str
    at: datetime


@dataclass
class User:
    last_action_at: datetime | None = None
    following: bool = True


@dataclass
class Passive:
    """What the webhook answered to one push."""

    status: int
    body: str
    text: str | None = None  # the passive reply's text, when there was one


@dataclass(frozen=True)
class Failure:
    at_call: int  # the 1-based number of the API call that fails
    status: int
    body: dict[str, Any] | None
    delay: float


@dataclass
class FakeWeibo:
    clock: Callable[[], datetime]
    app_secret: str
    access_token: str
    account_id: str = "1902538057"
    sent: list[Delivered] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    failures: deque[Failure] = field(default_factory=deque)
    calls: int = 0

    # --- the reply API ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2/messages/reply.json", self._reply)
        return app

    def fail_next(self, status: int, body: dict[str, Any] | None = None, *, delay: float = 0.0, after: int = 0) -> None:
        """Script a failed call (an outage, an error body, a slow answer): the next one not yet
        scripted, or the one after ``after`` more successful calls."""
        last = self.failures[-1].at_call if self.failures else self.calls
        self.failures.append(Failure(last + after + 1, status, body, delay))

    def user_wrote(self, user_id: str) -> None:
        """The user acted just now (for tests that drive the channel without pushes)."""
        self.users[user_id] = User(last_action_at=self.clock())

    @staticmethod
    def _error(status: int, code: str, message: str) -> web.Response:
        body = {"request": "/2/messages/reply.json", "error_code": code, "error": message}
        return web.json_response(body, status=status)

    def _refuse(self, status: int, code: str, message: str) -> web.Response:
        self.violations.append(message)
        return self._error(status, code, message)

    async def _reply(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.failures and self.failures[0].at_call <= self.calls:
            failure = self.failures.popleft()
            if failure.delay:
                await asyncio.sleep(failure.delay)
            return web.json_response(failure.body or {}, status=failure.status)
        if request.content_type != "application/x-www-form-urlencoded":
            return self._refuse(400, "10007", f"unsupported media type {request.content_type}")
        form = await request.post()
        if form.get("access_token") != self.access_token:
            return self._refuse(401, INVALID_TOKEN, "invalid access_token")
        receiver = str(form.get("receiver_id", ""))
        if form.get("type") != "text" or not receiver.isdigit():
            return self._refuse(400, "10008", f"bad parameters {dict(form)!r}")
        try:
            text = decode_data(str(form.get("data", "")))["text"]
        except (ValueError, KeyError, AssertionError):
            return self._refuse(400, "10008", f"data is not URL-encoded JSON: {form.get('data')!r}")
        if not isinstance(text, str) or not 0 < len(text) < 300:
            return self._refuse(400, TEXT_TOO_LONG, f"text of {len(text)} characters")
        now = self.clock()
        user = self.users.get(receiver)
        if user is None or not user.following:
            return self._refuse(400, NOT_FOLLOWER, f"reply to {receiver}, who does not follow the account")
        if user.last_action_at is None or now - user.last_action_at > WINDOW:
            return self._refuse(403, NO_QUOTA, f"reply to {receiver} outside the 48-hour window: {text[:30]!r}")
        self.sent.append(Delivered(receiver, text, now))
        return web.json_response(
            {
                "result": True,
                "sender_id": self.account_id,
                "receiver_id": receiver,
                "type": "text",
                "data": form["data"],
            }
        )

    def texts(self, receiver_id: str | None = None) -> list[str]:
        return [d.text for d in self.sent if receiver_id is None or d.receiver_id == receiver_id]

    # --- pushes ---------------------------------------------------------------------------------------

    def _learn(self, payload: Any) -> None:
        """What the platform knows about a user from what it pushed."""
        if not isinstance(payload, dict) or not str(payload.get("sender_id", "")).isdigit():
            return
        user = self.users.setdefault(str(payload["sender_id"]), User())
        data = payload.get("data")
        subtype = data.get("subtype") if isinstance(data, dict) else None
        if payload.get("type") == "event" and subtype in _UNFOLLOW_EVENTS:
            user.following = False
        elif payload.get("type") in _WINDOW_TYPES or (payload.get("type") == "event" and subtype in _WINDOW_EVENTS):
            user.following = True
            user.last_action_at = self.clock()

    def query(
        self, *, timestamp: int | None = None, nonce: str | None = None, secret: str | None = None
    ) -> dict[str, str]:
        stamp = str(int(self.clock().timestamp()) if timestamp is None else timestamp)
        once = nonce or secrets.token_hex(8)
        return {"timestamp": stamp, "nonce": once, "signature": sign(secret or self.app_secret, stamp, once)}

    async def push(self, client: TestClient[Any, Any], payload: Any, *, query: dict[str, str] | None = None) -> Passive:
        """Deliver one push (a dict, or raw bytes for malformed ones) the way Weibo does, and check
        that a passive reply, when there is one, is in the platform's format."""
        self._learn(payload)
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        response = await client.post(
            "/webhooks/weibo",
            params=self.query() if query is None else query,
            data=body,
            headers={"Content-Type": "application/json"},
        )
        text = await response.text()
        result = Passive(response.status, text)
        if response.status == 200 and text:
            reply = json.loads(text)
            assert reply["result"] is True and reply["type"] == "text", reply
            assert str(reply["receiver_id"]) == str(payload["sender_id"]), reply
            assert str(reply["sender_id"]) == str(payload["receiver_id"]), reply
            result.text = decode_data(reply["data"])["text"]
            assert isinstance(result.text, str) and 0 < len(result.text) < 300, result.text
        return result
