"""How the load generator talks to each channel, in the platform's own wire format.

A ``ChannelClient`` opens a citizen, sends one turn to the service's real endpoint and returns
the reply texts that came in the HTTP answer. ``follow`` then gets what the citizen needs before
the next turn when it did not come in the answer: the message carrying the buttons (Telegram),
the numbered choices or the inquiry number (WeChat and Weibo when the service answered without a
passive reply). Replies that come later arrive through the platform's API, i.e. through the fake
platform process (``bench/fake_platforms.py``), which the client long-polls; that wait is not part
of the message's latency and is measured apart.

The platform clients need the account's credentials (random per run, never real ones), given as
``Platforms``: written by the orchestrator to a file only its user can read, whose path the load
generator gets on its command line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote_plus

from aiohttp import ClientSession, ClientTimeout

from bench.conversation import FOLLOW, NUMBER, SEPARATE, SUBMIT, TURNS, Turn

# What the dialog shows for each choice the citizen presses (dialogs/texts*.py: btn_*).
CHOICE_LABELS: dict[str, tuple[str, ...]] = {
    SUBMIT: ("提交", "Submit"),
    FOLLOW: ("关注它", "Follow it"),
    SEPARATE: ("仍要单独提交", "File mine anyway"),
}
OFFER_ANSWER = TURNS
"""The ``index`` ``follow`` gets for the answer to 已有人反映: a number (关注它) or the summary (仍要单独提交)."""
POLL_S = 10.0  # one long-poll on the fake platform (its own cap is 30 s)
MAX_POLLS = 200  # long-polls within one ``follow``, whatever the deadline


class ChannelError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Citizen:
    """One simulated citizen: a number (picks the first message) and the channel's credential
    (web chat cookie, WeChat openid, Telegram chat id, Weibo uid)."""

    index: int
    credential: str


@dataclass(frozen=True, slots=True)
class Shown:
    """What the citizen has seen after a turn, as far as the next turn depends on it."""

    texts: tuple[str, ...] = ()
    buttons_message: str = ""  # Telegram: JSON of the Bot API Message that carried the buttons
    menu: tuple[tuple[str, str], ...] = ()  # WeChat msgmenu items (id, label) the citizen can tap
    choices: tuple[str, ...] = ()  # choice ids offered (buttons, or known labels of a numbered list or menu)
    seen: int = 0  # platform-API messages to this citizen read so far: the next fetch starts after them
    fetched: bool = False  # came through the platform API (the fake), not in the HTTP answer
    late: bool = False  # a passive-reply channel answered this turn without a reply
    missing: bool = False  # waited until the deadline without getting what was needed


@dataclass(frozen=True, slots=True)
class Platforms:
    """The credentials of one run's platform accounts, and where the fake platform APIs listen."""

    fake_url: str
    wechat_app_id: str
    wechat_app_secret: str
    wechat_token: str
    wechat_aes_key: str  # the 43-character EncodingAESKey
    wechat_account: str  # the official account's original id (ToUserName)
    telegram_token: str
    telegram_secret: str
    weibo_app_secret: str
    weibo_access_token: str
    weibo_account: str  # the account's uid (receiver_id)

    @staticmethod
    def random(fake_url: str) -> Platforms:
        return Platforms(
            fake_url=fake_url,
            wechat_app_id="wx" + secrets.token_hex(8),
            wechat_app_secret=secrets.token_hex(16),
            wechat_token=secrets.token_urlsafe(24).replace("-", "a").replace("_", "b"),
            wechat_aes_key=base64.b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            wechat_account="gh_" + secrets.token_hex(6),
            telegram_token=f"{secrets.randbelow(9 * 10**8) + 10**8}:AA{secrets.token_urlsafe(24)}",
            telegram_secret=secrets.token_urlsafe(32),
            weibo_app_secret=secrets.token_hex(16),
            weibo_access_token="2.00" + secrets.token_hex(16),
            weibo_account=str(secrets.randbelow(9 * 10**9) + 10**9),
        )

    def write(self, path: Path) -> Path:
        """Readable by our user only: they are credentials, even if made up for one run."""
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        return path

    @staticmethod
    def read(path: Path) -> Platforms:
        return Platforms(**json.loads(path.read_text(encoding="utf-8")))

    def channels_config(self) -> dict[str, dict[str, Any]]:
        """``channels.*`` of the service's config: every platform on, pointed at the fake."""
        return {
            "wechat": {
                "enabled": True,
                "app_id": self.wechat_app_id,
                "app_secret": self.wechat_app_secret,
                "token": self.wechat_token,
                "encoding_aes_key": self.wechat_aes_key,
                "api_base_url": self.fake_url,
                "status_template_id": "",
            },
            "telegram": {
                "enabled": True,
                "token": self.telegram_token,
                "secret_token": self.telegram_secret,
                "api_base_url": self.fake_url,
                "mode": "webhook",
            },
            "weibo": {
                "enabled": True,
                "app_secret": self.weibo_app_secret,
                "access_token": self.weibo_access_token,
                "api_base_url": self.fake_url,
            },
        }


class ChannelClient(Protocol):
    name: str

    async def open(self, http: ClientSession, base_url: str, index: int) -> Citizen: ...

    async def send(
        self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown
    ) -> Shown:
        """Send one turn (``shown``: what the previous turn showed); what the HTTP answer showed
        (no texts when it carried none). Raises ``ChannelError`` on a non-2xx answer."""
        ...

    async def follow(
        self, http: ClientSession, citizen: Citizen, index: int, inline: Shown, deadline: float, after: int = 0
    ) -> Shown:
        """What turn ``index`` (``OFFER_ANSWER``: the answer to 已有人反映) showed the citizen,
        fetched from the platform API (its messages past the first ``after``) when the next turn
        needs it and the answer did not carry it; waits no later than ``deadline``
        (``time.monotonic()``)."""
        ...


def offered(shown: Shown) -> bool:
    """Whether the answer to the first message was 已有人反映 (follow it, or file anyway) rather than
    the summary."""
    return FOLLOW in shown.choices


# --- shared pieces -------------------------------------------------------------------------------------


def _run_tag(digits: int) -> int:
    """A random number per load-generator process: citizens of two runs against the same service
    never share an id (each conversation must start fresh)."""
    return secrets.randbelow(10**digits)


def _numeric_id(msg_id: str, bits: int = 52) -> int:
    """A platform message id (digits) unique to the load generator's message id."""
    return int(hashlib.sha256(msg_id.encode()).hexdigest(), 16) % (1 << bits) + 1


_NUMBERED = re.compile(r"^\s*(\d{1,2})[.、]\s*(.+?)\s*$")


def typed_choice(choice: str, shown: Shown) -> str:
    """What a citizen types for a button on a platform that shows choices as numbered text: the
    number in front of the choice's label, or the label itself when no numbered list was seen."""
    labels = CHOICE_LABELS.get(choice)
    if labels is None:
        raise ValueError(f"no label known for choice {choice!r}")
    for text in reversed(shown.texts):
        for line in text.splitlines():
            found = _NUMBERED.match(line)
            if found and found.group(2) in labels:
                return found.group(1)
    return labels[0]


def listed_choices(texts: tuple[str, ...], menu: tuple[tuple[str, str], ...] = ()) -> tuple[str, ...]:
    """The known choices a text-only answer offers: by their labels, in the last numbered list or
    in a WeChat msgmenu."""
    labels = [label for _, label in menu]
    for text in reversed(texts):
        listed = [m.group(2) for line in text.splitlines() if (m := _NUMBERED.match(line))]
        if listed:
            labels += listed
            break
    return tuple(choice for choice, known in CHOICE_LABELS.items() if any(label in known for label in labels))


def _numbered(text: str) -> bool:
    """Whether ``text`` shows choices as a numbered list."""
    return any(_NUMBERED.match(line) for line in text.splitlines())


def _has_number(texts: tuple[str, ...]) -> bool:
    return any(NUMBER.search(t) for t in texts)


async def fetch_texts(
    http: ClientSession,
    fake_url: str,
    platform: str,
    recipient: str,
    deadline: float,
    done: Callable[[list[dict[str, Any]]], bool],
    after: int = 0,
) -> tuple[list[dict[str, Any]], bool]:
    """Long-poll the fake platform for ``recipient``'s messages past the first ``after`` until
    ``done(all new so far)`` or the deadline; (the new messages, whether ``done`` was reached)."""
    seen: list[dict[str, Any]] = []
    for _ in range(MAX_POLLS):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        wait = min(POLL_S, left)
        params = {"platform": platform, "to": recipient, "after": str(after + len(seen)), "wait": f"{wait:.2f}"}
        async with http.get(
            f"{fake_url}/_bench/texts", params=params, timeout=ClientTimeout(total=wait + 10)
        ) as answer:
            if answer.status != 200:
                raise ChannelError(f"fake platform: HTTP {answer.status}")
            data = await answer.json()
        seen.extend(data.get("texts", []))
        if done(seen):
            return seen, True
    return seen, done(seen)


# --- web chat ------------------------------------------------------------------------------------------


class WebchatClient:
    """``POST /chat/api/session`` once for the cookie, then ``POST /chat/api/messages``."""

    name = "webchat"
    cookie = "wz_chat"

    async def open(self, http: ClientSession, base_url: str, index: int) -> Citizen:
        async with http.post(f"{base_url}/chat/api/session") as answer:
            if answer.status != 200:
                raise ChannelError(f"session: HTTP {answer.status}")
            await answer.read()
            morsel = answer.cookies.get(self.cookie)
        # A server that sets no cookie (the bare ceiling) still gets a same-sized one.
        return Citizen(index, morsel.value if morsel is not None else secrets.token_urlsafe(32))

    async def send(
        self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown
    ) -> Shown:
        body: dict[str, Any] = {"id": msg_id}
        if turn.choice is not None:
            body["choice"] = {"id": turn.choice}
        else:
            body["text"] = turn.text or ""
        headers = {"Cookie": f"{self.cookie}={citizen.credential}"}
        async with http.post(f"{base_url}/chat/api/messages", json=body, headers=headers) as answer:
            if answer.status != 200:
                raise ChannelError(f"messages: HTTP {answer.status}")
            if answer.content_type != "application/json":
                await answer.read()
                return Shown()
            data = await answer.json()
        replies = data.get("replies", [])
        return Shown(
            tuple(str(r.get("text", "")) for r in replies),
            choices=tuple(str(c.get("id", "")) for r in replies for c in r.get("choices") or []),
        )

    async def follow(
        self, http: ClientSession, citizen: Citizen, index: int, inline: Shown, deadline: float, after: int = 0
    ) -> Shown:
        return inline  # every reply is in the answer


# --- WeChat (安全模式) ---------------------------------------------------------------------------------


def _xml_fields(xml: str) -> dict[str, str]:
    """Top-level fields of a WeChat XML document (the service's own answer, on loopback)."""
    root = ET.fromstring(xml)
    return {child.tag: child.text or "" for child in root}


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _wechat_xml(fields: dict[str, str | int]) -> str:
    body = "".join(
        f"<{name}>{value if isinstance(value, int) else _cdata(value)}</{name}>" for name, value in fields.items()
    )
    return f"<xml>{body}</xml>"


def _text(value: object) -> str:
    """wechatpy answers bytes or str depending on the call."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class WechatClient:
    """WeChat pushing a citizen's messages in 安全模式: each XML message AES-encrypted with the
    account's EncodingAESKey (wechatpy's ``PrpCrypto``, as WeChat does it), signed
    (``msg_signature`` over token, timestamp, nonce and the ciphertext; ``signature`` too), a fresh
    nonce and a unique ``MsgId`` per turn. The passive reply is checked and decrypted. A choice is
    typed as the number shown in front of it (passive replies have no buttons), or tapped when it
    came as a customer-service ``msgmenu``. When the service answers ``success`` (its 4 s passive
    budget ran out) the reply comes through the customer-service API, i.e. the fake platform."""

    name = "wechat"

    def __init__(self, platforms: Platforms) -> None:
        from wechatpy.crypto import PrpCrypto

        self._p = platforms
        self._crypto = PrpCrypto(base64.b64decode(platforms.wechat_aes_key + "="))
        self._run = f"{_run_tag(6):06d}"

    async def open(self, http: ClientSession, base_url: str, index: int) -> Citizen:
        return Citizen(index, f"oWZb{self._run}{index:018d}")  # 28 characters, like an openid

    def push_xml(self, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown) -> str:
        """The plain XML WeChat would push for this turn (encrypted by ``send``)."""
        fields: dict[str, str | int] = {
            "ToUserName": self._p.wechat_account,
            "FromUserName": citizen.credential,
            "CreateTime": int(time.time()),
            "MsgType": "text",
        }
        if turn.choice is not None:
            labels = CHOICE_LABELS.get(turn.choice, ())
            tapped = next((mid for mid, label in shown.menu if label in labels), None)
            fields["Content"] = typed_choice(turn.choice, shown) if tapped is None else labels[0]
            fields["MsgId"] = _numeric_id(msg_id, 62)
            if tapped is not None:
                fields["bizmsgmenuid"] = tapped
        else:
            fields["Content"] = turn.text or ""
            fields["MsgId"] = _numeric_id(msg_id, 62)
        return _wechat_xml(fields)

    def signed_push(self, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown) -> tuple[dict[str, str], bytes]:
        """The query string and body of one encrypted, signed push (tests replay it as WeChat does)."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        encrypted = _text(self._crypto.encrypt(self.push_xml(citizen, turn, msg_id, shown), self._p.wechat_app_id))
        body = _wechat_xml({"ToUserName": self._p.wechat_account, "Encrypt": encrypted})
        params = {
            "signature": _sha1_sorted(self._p.wechat_token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": citizen.credential,
            "encrypt_type": "aes",
            "msg_signature": _sha1_sorted(self._p.wechat_token, timestamp, nonce, encrypted),
        }
        return params, body.encode()

    async def send(
        self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown
    ) -> Shown:
        params, body = self.signed_push(citizen, turn, msg_id, shown)
        nonce = params["nonce"]
        async with http.post(
            f"{base_url}/webhooks/wechat", params=params, data=body, headers={"Content-Type": "text/xml"}
        ) as answer:
            text = await answer.text()
            if answer.status != 200:
                raise ChannelError(f"wechat: HTTP {answer.status}: {text[:80]}")
        if text == "success" or not text.startswith("<xml>"):
            return Shown()
        return Shown((self._reply_text(text, nonce, citizen),))

    def _reply_text(self, answer: str, nonce: str, citizen: Citizen) -> str:
        """The passive reply's text, after checking it as WeChat would."""
        envelope = _xml_fields(answer)
        encrypted = envelope.get("Encrypt", "")
        stamp, once = envelope.get("TimeStamp", ""), envelope.get("Nonce", "")
        expected = _sha1_sorted(self._p.wechat_token, stamp, once, encrypted)
        if envelope.get("Nonce") != nonce or envelope.get("MsgSignature") != expected:
            raise ChannelError("wechat: passive reply not signed for this push")
        fields = _xml_fields(_text(self._crypto.decrypt(encrypted, self._p.wechat_app_id)))
        if fields.get("ToUserName") != citizen.credential or fields.get("MsgType") != "text":
            raise ChannelError("wechat: passive reply to someone else, or not text")
        return fields.get("Content", "")

    async def follow(
        self, http: ClientSession, citizen: Citizen, index: int, inline: Shown, deadline: float, after: int = 0
    ) -> Shown:
        return await _passive_or_fetched(http, self._p.fake_url, "wechat", citizen, index, inline, deadline, after)


# --- Telegram --------------------------------------------------------------------------------------


class TelegramClient:
    """Telegram delivering updates to the webhook: Bot API ``Update`` JSON with the
    ``X-Telegram-Bot-Api-Secret-Token`` header. A button press is a ``callback_query`` on the
    message that carried the buttons, as Telegram sends it (the adapter reads the pressed label
    from that message's keyboard and marks the button on it). Telegram never answers inline: the
    200 means stored, dialog run, replies committed to the outbox; the replies arrive at the fake
    Bot API through the service's outbox worker, which keeps Telegram's limits."""

    name = "telegram"
    user: ClassVar[dict[str, Any]] = {"is_bot": False, "first_name": "市民", "language_code": "zh-hans"}

    def __init__(self, platforms: Platforms) -> None:
        self._p = platforms
        self._run = f"{_run_tag(4):04d}"

    async def open(self, http: ClientSession, base_url: str, index: int) -> Citizen:
        return Citizen(index, f"7{self._run}{index:08d}")  # a private chat's id is the user's id

    def _update(self, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown) -> dict[str, Any]:
        chat = int(citizen.credential)
        user = {"id": chat, **self.user}
        update_id = _numeric_id(msg_id, 52)
        if turn.choice is None:
            message = {
                "message_id": update_id % 10**9,
                "from": user,
                "chat": {"id": chat, "type": "private", "first_name": "市民"},
                "date": int(time.time()),
                "text": turn.text or "",
            }
            return {"update_id": update_id, "message": message}
        if not shown.buttons_message:
            raise ChannelError("telegram: no message with buttons to press")
        query = {
            "id": str(update_id),
            "from": user,
            "message": json.loads(shown.buttons_message),
            "chat_instance": str(-chat),
            "data": turn.choice,
        }
        return {"update_id": update_id, "callback_query": query}

    async def send(
        self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown
    ) -> Shown:
        body = json.dumps(self._update(citizen, turn, msg_id, shown), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self._p.telegram_secret}
        async with http.post(f"{base_url}/webhooks/telegram", data=body, headers=headers) as answer:
            await answer.read()
            if answer.status != 200:
                raise ChannelError(f"telegram: HTTP {answer.status}")
        return Shown()

    async def follow(
        self, http: ClientSession, citizen: Citizen, index: int, inline: Shown, deadline: float, after: int = 0
    ) -> Shown:
        if index not in (0, 1, OFFER_ANSWER):
            return Shown()

        def buttons(seen: list[dict[str, Any]]) -> bool:  # the summary's 提交, or 已有人反映's 关注它
            return any(_carries(s.get("message"), SUBMIT) or _carries(s.get("message"), FOLLOW) for s in seen)

        def number(seen: list[dict[str, Any]]) -> bool:
            return _has_number(tuple(s["text"] for s in seen))

        def summary_or_number(seen: list[dict[str, Any]]) -> bool:  # 仍要单独提交, or 关注它
            return number(seen) or any(_carries(s.get("message"), SUBMIT) for s in seen)

        wanted = {0: buttons, 1: number}.get(index, summary_or_number)
        seen, found = await fetch_texts(http, self._p.fake_url, "telegram", citizen.credential, deadline, wanted, after)
        # The last message with buttons (the summary's 提交, or 已有人反映's 关注它 / 仍要单独提交).
        carrier = next((s["message"] for s in reversed(seen) if _buttons(s.get("message"))), None)
        return Shown(
            tuple(s["text"] for s in seen),
            buttons_message=json.dumps(carrier, ensure_ascii=False) if carrier else "",
            choices=_buttons(carrier),
            fetched=True,
            missing=not found,
            seen=after + len(seen),
        )


def _buttons(message: Any) -> tuple[str, ...]:
    """The callback data of a Bot API message's inline keyboard."""
    if not isinstance(message, dict):
        return ()
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return tuple(str(b.get("callback_data")) for row in rows for b in row if b.get("callback_data"))


def _carries(message: Any, data: str) -> bool:
    return data in _buttons(message)


# --- Weibo ----------------------------------------------------------------------------------------------


class WeiboClient:
    """The Weibo fan-service platform pushing a citizen's private messages: JSON
    ``{type, receiver_id, sender_id, created_at, text, data}`` to ``/webhooks/weibo`` signed with
    ``signature`` = sha1 of the sorted app secret, timestamp and nonce (a fresh nonce each). The
    answer's passive reply (``data`` = URL-encoded JSON) is checked; an empty answer means the
    reply went through ``messages/reply`` (the fake platform), as with WeChat. Weibo has no
    buttons: choices are typed as their number."""

    name = "weibo"

    def __init__(self, platforms: Platforms) -> None:
        self._p = platforms
        self._run = f"{_run_tag(6):06d}"

    async def open(self, http: ClientSession, base_url: str, index: int) -> Citizen:
        return Citizen(index, f"6{self._run}{index:09d}")

    async def send(
        self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str, shown: Shown
    ) -> Shown:
        text = typed_choice(turn.choice, shown) if turn.choice is not None else (turn.text or "")
        push = {
            "type": "text",
            "receiver_id": int(self._p.weibo_account),
            "sender_id": int(citizen.credential),
            "created_at": datetime.now().astimezone().strftime("%a %b %d %H:%M:%S %z %Y"),
            "text": text,
            "data": {},
        }
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        params = {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": _sha1_sorted(self._p.weibo_app_secret, timestamp, nonce),
        }
        body = json.dumps(push, ensure_ascii=False).encode()
        async with http.post(
            f"{base_url}/webhooks/weibo", params=params, data=body, headers={"Content-Type": "application/json"}
        ) as answer:
            raw = await answer.text()
            if answer.status != 200:
                raise ChannelError(f"weibo: HTTP {answer.status}: {raw[:80]}")
        if not raw.strip():
            return Shown()
        reply = json.loads(raw)
        if reply.get("result") is not True or str(reply.get("receiver_id")) != citizen.credential:
            raise ChannelError("weibo: passive reply not for this citizen")
        decoded = json.loads(unquote_plus(str(reply.get("data", ""))))
        return Shown((str(decoded.get("text", "")),))

    async def follow(
        self, http: ClientSession, citizen: Citizen, index: int, inline: Shown, deadline: float, after: int = 0
    ) -> Shown:
        return await _passive_or_fetched(http, self._p.fake_url, "weibo", citizen, index, inline, deadline, after)


async def _passive_or_fetched(
    http: ClientSession,
    fake_url: str,
    platform: str,
    citizen: Citizen,
    index: int,
    inline: Shown,
    deadline: float,
    after: int = 0,
) -> Shown:
    """WeChat and Weibo answer in the HTTP response; when the passive budget ran out the reply went
    through the platform API instead, and turns 0 (the choices), 1 and the answer to 已有人反映
    (the number) need it."""
    if inline.texts or index not in (0, 1, OFFER_ANSWER):
        return Shown(inline.texts, choices=listed_choices(inline.texts), late=not inline.texts)

    def choices(seen: list[dict[str, Any]]) -> bool:  # the summary's, or 已有人反映's
        return any(s.get("menu") or _numbered(s["text"]) for s in seen)

    def number(seen: list[dict[str, Any]]) -> bool:
        return _has_number(tuple(s["text"] for s in seen))

    want: Callable[[list[dict[str, Any]]], bool] = {0: choices, 1: number}.get(
        index,
        lambda seen: number(seen) or choices(seen),  # 关注它 (a number), or 仍要单独提交 (the summary)
    )
    seen, found = await fetch_texts(http, fake_url, platform, citizen.credential, deadline, want, after)
    texts = tuple(s["text"] for s in seen)
    # The latest menu is the one to tap (the summary's, after 仍要单独提交 answered the offer).
    carrier: dict[str, Any] = next((s for s in reversed(seen) if s.get("menu")), {})
    menu = tuple((str(m[0]), str(m[1])) for m in carrier.get("menu", []))
    return Shown(
        texts,
        menu=menu,
        choices=listed_choices(texts, menu),
        fetched=True,
        late=True,
        missing=not found,
        seen=after + len(seen),
    )


# --- the registry ------------------------------------------------------------------------------------------


def _platform_client(
    make: Callable[[Platforms], ChannelClient],
) -> Callable[[Platforms | None], ChannelClient]:
    def build(platforms: Platforms | None) -> ChannelClient:
        if platforms is None:
            raise ValueError("this channel needs the platforms' credentials (--platforms)")
        return make(platforms)

    return build


CLIENTS: dict[str, Callable[[Platforms | None], ChannelClient]] = {
    "webchat": lambda _platforms: WebchatClient(),
    "wechat": _platform_client(WechatClient),
    "telegram": _platform_client(TelegramClient),
    "weibo": _platform_client(WeiboClient),
}
"""Each channel's client, built from the run's platform credentials (web chat needs none)."""

PLATFORM_CHANNELS = ("wechat", "telegram", "weibo")

NOT_BUILT: dict[str, str] = {}
"""Channels whose rows say "not yet" (none left)."""

WIRE_FORMATS: dict[str, str] = {
    "webchat": "web chat",
    "wechat": "wechat (safe-mode XML)",
    "telegram": "telegram (JSON + secret header)",
    "weibo": "weibo (fan-service JSON)",
}
