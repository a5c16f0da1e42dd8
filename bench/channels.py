"""How the load generator talks to each channel: the extension point for WeChat, Telegram, Weibo.

A channel joins the pipeline benchmark by adding a ``ChannelClient`` here (open a citizen, send one
turn in the platform's own wire format, read the reply texts) and moving its name from ``NOT_BUILT``
to ``CLIENTS``. Until then its rows say "not yet: channel not built".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import ClientSession

from bench.conversation import Turn


@dataclass(frozen=True, slots=True)
class Citizen:
    """One simulated citizen: a number (picks the first message) and the channel's credential."""

    index: int
    credential: str


class ChannelClient(Protocol):
    name: str

    async def open(self, http: ClientSession, base_url: str, index: int) -> Citizen: ...

    async def send(self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str) -> list[str]:
        """Send one turn; the reply texts (empty when the server answers without any). Raises
        ``ChannelError`` on a non-2xx answer."""
        ...


class ChannelError(Exception):
    pass


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

    async def send(self, http: ClientSession, base_url: str, citizen: Citizen, turn: Turn, msg_id: str) -> list[str]:
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
                return []
            data = await answer.json()
        return [str(r.get("text", "")) for r in data.get("replies", [])]


CLIENTS: dict[str, ChannelClient] = {"webchat": WebchatClient()}

NOT_BUILT: dict[str, str] = {
    "wechat": "channel not built (WeChat safe-mode XML, AES + signature per turn)",
    "telegram": "channel built (adapters/telegram.py), its load client is not written yet (Telegram JSON with "
    "X-Telegram-Bot-Api-Secret-Token)",
    "weibo": "channel not built (Weibo fan-service JSON)",
}
