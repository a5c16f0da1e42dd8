"""The Bot API client: the bot's id from its token, and python-telegram-bot's ``Bot`` on our own
HTTP clients."""

from __future__ import annotations

import re

from telegram import Bot
from telegram.request import HTTPXRequest

# What the bot asks Telegram for (setWebhook and getUpdates): everything else is never sent to us.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
TOKEN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")


def bot_id_from_token(token: str) -> str:
    """The bot's user id is the token's part before ':'; it names our account in conversation refs
    without a getMe round trip at start."""
    found = TOKEN.match(token)
    if found is None:
        raise ValueError("a Telegram bot token looks like 123456789:AA…")
    return found.group(1)


def new_bot(
    token: str, api_base_url: str, *, polling: bool = False, pool_size: int = 8, timeout: float = 10.0
) -> tuple[Bot, tuple[HTTPXRequest, ...]]:
    """A Bot API client on ``api_base_url`` (tests point it at a fake server), and its HTTP
    clients, which only their owner can close (``Bot.shutdown`` skips a bot never initialized).

    httpx is asynchronous, so no call blocks the loop. The pool is larger than PTB's default of
    one connection so the outbox's sends and a webhook's button acknowledgements do not queue
    behind each other. Long polling gets a client of its own, so a held ``getUpdates`` never
    occupies a connection a send needs; without polling one client serves both roles.
    """
    base = api_base_url.rstrip("/")
    calls = HTTPXRequest(
        connection_pool_size=pool_size, read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout
    )
    updates = HTTPXRequest(connection_pool_size=1, read_timeout=timeout, connect_timeout=timeout) if polling else calls
    bot = Bot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        get_updates_request=updates,
        request=calls,
    )
    return bot, (calls, updates) if polling else (calls,)
