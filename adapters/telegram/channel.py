"""Telegram: Bot API updates in (webhook or long polling), messages out through the outbox.

python-telegram-bot is used as the Bot API client and for its types (``Update.de_json``), not for
its application framework: updates enter our own aiohttp app and our one Dispatcher, so Telegram
follows the same rules as every other channel (stored before acknowledged, deduplicated by
``update_id``, replies only through the outbox). Staff use the same bot: in a department's staff
group (whose chat id the config names) or in a private chat; a reply to a ticket card is traced to
its ticket by the dispatcher through the message id ``send`` returns.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from aiohttp import web
from telegram import CallbackQuery, Chat, ChatMemberUpdated, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    TelegramError,
)

from adapters.base import (
    BadRequest,
    Capabilities,
    ConversationRef,
    DeliveryContext,
    Inbound,
    InboundSink,
    MediaRef,
    MessageKind,
    Outbound,
    Route,
    TemporarilyUnavailable,
)
from adapters.http_common import ERRORS, error_response, read_json
from adapters.sanitize import int64, location
from adapters.telegram.books import LocalBooks, SendBooks
from adapters.telegram.client import bot_id_from_token, new_bot
from adapters.telegram.limits import Limits, SendLimiter
from adapters.telegram.polling import poll
from adapters.telegram.render import button_label, mark_choice
from adapters.telegram.send import TelegramSender

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What the bot asks Telegram for (setWebhook and getUpdates): everything else is never sent to us.
SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token

log = logging.getLogger(__name__)
# What reading a malformed update can raise (a field of the wrong type, missing, out of range).
_MALFORMED = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError)

_ERRORS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {**ERRORS, "forbidden": ("请求未通过验证。", "The request could not be verified.")}
)
# Message contents the dialog cannot use; it answers them politely instead of ignoring them.
_UNSUPPORTED = (
    "audio",
    "document",
    "animation",
    "sticker",
    "video",
    "video_note",
    "contact",
    "dice",
    "game",
    "poll",
    "story",
    "paid_media",
    "invoice",
)


def _ident(value: object) -> str:
    """Telegram ids are signed 64-bit integers; anything else (a string, a 256-digit number that
    would overflow a key column) means a payload Telegram would never send: ValueError, 400."""
    return str(int64(value))


def _locale(user: User | None) -> str | None:
    code = (user.language_code or "").lower() if user is not None else ""
    return "zh" if code.startswith("zh") else "en" if code.startswith("en") else None


class TelegramChannel:
    name = CHANNEL
    capabilities = Capabilities(inline_reply=False, buttons=True, location_request=True)

    def __init__(
        self,
        *,
        token: str,
        secret_token: str,
        api_base_url: str,
        sink: InboundSink,
        clock: Callable[[], datetime],
        max_body_bytes: int,
        staff_groups: Collection[str] = (),
        polling: bool = False,
        poll_timeout: float = 25.0,
        limits: Limits | None = None,
        books: SendBooks | None = None,
    ) -> None:
        self._account = bot_id_from_token(token)
        self._secret = secret_token.encode("ascii") if secret_token.isascii() else b""
        self._sink = sink
        self._clock = clock
        self._max_body = max_body_bytes
        self._staff_groups = frozenset(staff_groups)
        self._polling = polling
        self._poll_timeout = poll_timeout
        self._bot, self._requests = new_bot(token, api_base_url, polling=polling)
        # Shared books (Redis) when the service runs several workers; else this process's own.
        self._limiter = books or LocalBooks(SendLimiter(lambda: clock().timestamp(), limits))
        self._sender = TelegramSender(self._bot, self._limiter)

    def routes(self) -> list[Route]:
        return [Route("POST", WEBHOOK_PATH, self.webhook)]

    # --- inbound: webhook -------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """200 only once every message in the update is stored; 503 makes Telegram deliver it
        again. The secret is checked before the body is read, so a forged update costs nothing."""
        if not self._authentic(request):
            log.warning("telegram webhook refused: bad secret token", extra={"channel": CHANNEL})
            return error_response(403, "forbidden", _ERRORS)
        try:
            data = await read_json(request, self._max_body)
        except BadRequest as exc:
            return error_response(exc.status, exc.reason, _ERRORS)
        try:
            update = self._parse(data)
            inbounds = self._inbounds(update, json.dumps(data, ensure_ascii=False))
        except _MALFORMED:
            log.warning("telegram webhook: not a Bot API update", extra={"channel": CHANNEL})
            return error_response(400, "malformed", _ERRORS)
        try:
            await self._process(update, inbounds)
        except TemporarilyUnavailable:
            return error_response(503, "unavailable", _ERRORS)
        return web.Response(status=200)

    def _authentic(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER)
        if not self._secret or given is None or not given.isascii():
            return False
        return hmac.compare_digest(given.encode("ascii"), self._secret)

    def _parse(self, data: Any) -> Update:
        if not isinstance(data, dict):
            raise ValueError("not an update")
        _ident(data.get("update_id"))
        try:
            return Update.de_json(data, self._bot)
        except Exception as exc:  # PTB raises whatever the malformed field provokes
            raise ValueError(f"unreadable update: {type(exc).__name__}") from exc

    async def _process(self, update: Update, inbounds: list[Inbound]) -> None:
        """Hand the messages to the dispatcher, then settle a pressed button. A redelivered update
        (every message a duplicate) calls nothing on Telegram: it was settled the first time."""
        results = [await self._sink.handle(inbound, inline=False) for inbound in inbounds]
        query = update.callback_query
        if query is not None and (not results or not all(r.duplicate for r in results)):
            await self._settle(query, mark=bool(inbounds))

    async def _settle(self, query: CallbackQuery, *, mark: bool) -> None:
        """Stop the button's spinner, and mark the pressed button so the chat shows the choice.
        Failures are logged only: the choice is stored and answered either way."""
        try:
            await self._bot.answer_callback_query(query.id, read_timeout=5.0, connect_timeout=5.0)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc, extra={"channel": CHANNEL})
        message = query.message
        if not mark or query.data is None or not isinstance(message, Message) or message.reply_markup is None:
            return
        try:
            marked = mark_choice(message.reply_markup, query.data)
        except (TypeError, ValueError, AttributeError):  # a keyboard Telegram never sent (a label not text)
            log.info("pressed button not marked: unreadable keyboard", extra={"channel": CHANNEL})
            return
        if marked is None:
            return
        try:
            await self._limiter.note_edit()
            await self._bot.edit_message_reply_markup(
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=marked,
                read_timeout=5.0,
                connect_timeout=5.0,
            )
        except TelegramError as exc:
            log.info("marking the pressed button failed: %s", exc, extra={"channel": CHANNEL})

    # --- inbound: parsing -------------------------------------------------------------------------

    def _inbounds(self, update: Update, raw: str) -> list[Inbound]:
        """The messages an update carries for the dialog: none (not for us), one, or two (a photo
        and its caption). Raises ValueError/TypeError/AttributeError for a malformed update."""
        key = f"update:{_ident(update.update_id)}"
        if update.message is not None:
            return self._from_message(update.message, key, raw)
        if update.edited_message is not None:
            # A corrected text is a new message to the dialog; other edits (live locations moving,
            # captions) carry nothing it could use and would flood it.
            edited = update.edited_message
            return self._from_message(edited, f"edit:{update.update_id}", raw) if edited.text else []
        if update.callback_query is not None:
            return self._from_callback(update.callback_query, key, raw)
        if update.my_chat_member is not None:
            return self._from_membership(update.my_chat_member, key, raw)
        return []

    def _place(self, chat: Chat) -> tuple[ConversationRef, bool] | None:
        """The conversation and whether it is a group; None for chats that are not ours to serve:
        channels, and groups other than the departments' staff groups (staff commands in a
        random group would post ticket details there)."""
        chat_id = _ident(chat.id)
        if chat.type == ChatType.PRIVATE:
            return ConversationRef(CHANNEL, self._account, chat_id), False
        if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and chat_id in self._staff_groups:
            return ConversationRef(CHANNEL, self._account, chat_id), True
        return None

    def _from_message(self, message: Message, key: str, raw: str) -> list[Inbound]:
        if message.migrate_to_chat_id and _ident(message.chat.id) in self._staff_groups:
            log.warning(
                "staff group %s became supergroup %s: set that department's telegram_chat_id to the new id",
                message.chat.id,
                message.migrate_to_chat_id,
                extra={"channel": CHANNEL},
            )
        placed = self._place(message.chat)
        user = message.from_user
        if placed is None or (user is not None and user.is_bot):
            return []
        ref, group = placed
        reply = message.reply_to_message
        common: dict[str, Any] = {
            "channel": CHANNEL,
            "conversation": ref,
            "received_at": self._clock(),
            "sender_id": _ident(user.id) if user is not None else None,
            "raw": raw,
            "locale_hint": _locale(user),
            "reply_to": _ident(reply.message_id) if reply is not None else None,
            "group": group,
        }
        if message.text is not None:
            if not isinstance(message.text, str):
                raise TypeError("text must be a string")
            return [Inbound(message_key=key, kind=MessageKind.TEXT, text=message.text, **common)]
        first = self._content(message, key, common)
        if first is None:
            return []  # a service message: someone joined, a pin, a new title
        # In a staff group only words are for the bot (commands, replies to cards); a photo or a
        # sticker there is staff talking to each other. Its caption may still be a command.
        found = [] if group else [first]
        if message.caption:
            found.append(
                Inbound(message_key=f"{key}:caption", kind=MessageKind.TEXT, text=str(message.caption), **common)
            )
        return found

    @staticmethod
    def _content(message: Message, key: str, common: dict[str, Any]) -> Inbound | None:
        if message.photo:
            # Sizes are checked to be ids-sized integers before they are multiplied: "路灯" times a
            # 401-digit number raised OverflowError, and a long text times a large one ate memory.
            largest = max(message.photo, key=lambda p: (int64(p.width) * int64(p.height), p.file_size or 0))
            return Inbound(
                message_key=key, kind=MessageKind.IMAGE, media=(MediaRef("image", str(largest.file_id)),), **common
            )
        document = message.document
        if document is not None and (document.mime_type or "").startswith("image/"):
            # A photo sent "as a file" (uncompressed) is still a photo of the problem.
            return Inbound(
                message_key=key, kind=MessageKind.IMAGE, media=(MediaRef("image", str(document.file_id)),), **common
            )
        if message.location is not None:
            venue = message.venue
            label = f"{venue.title} {venue.address}".strip() if venue is not None else ""
            where = location(message.location.latitude, message.location.longitude, label)
            return Inbound(message_key=key, kind=MessageKind.LOCATION, location=where, **common)
        if message.voice is not None:
            return Inbound(message_key=key, kind=MessageKind.VOICE, **common)
        if any(getattr(message, attribute, None) for attribute in _UNSUPPORTED):
            return Inbound(message_key=key, kind=MessageKind.UNSUPPORTED, **common)
        return None

    def _from_callback(self, query: CallbackQuery, key: str, raw: str) -> list[Inbound]:
        message = query.message
        if query.data is None or message is None:
            return []  # a game button, or a button under an inline-mode message: no chat to answer
        if not isinstance(query.data, str):
            raise TypeError("callback data must be a string")
        placed = self._place(message.chat)
        if placed is None:
            return []
        ref, group = placed
        markup = message.reply_markup if isinstance(message, Message) else None
        return [
            Inbound(
                channel=CHANNEL,
                conversation=ref,
                message_key=key,
                kind=MessageKind.CHOICE,
                received_at=self._clock(),
                text=button_label(markup, query.data),
                choice_id=query.data,
                sender_id=_ident(query.from_user.id),
                raw=raw,
                locale_hint=_locale(query.from_user),
                group=group,
            )
        ]

    def _from_membership(self, change: ChatMemberUpdated, key: str, raw: str) -> list[Inbound]:
        """A citizen blocking the bot (``kicked``) or coming back (``member``). In groups it only
        tells the operator the chat id to configure; the dialog has nothing to say there."""
        status = change.new_chat_member.status
        if change.chat.type != ChatType.PRIVATE:
            log.info(
                "bot is now %s in %s %s (%s)",
                status,
                change.chat.type,
                change.chat.id,
                change.chat.title,
                extra={"channel": CHANNEL},
            )
            return []
        event = {ChatMemberStatus.BANNED.value: "blocked", ChatMemberStatus.MEMBER.value: "unblocked"}.get(str(status))
        if event is None:
            return []
        return [
            Inbound(
                channel=CHANNEL,
                conversation=ConversationRef(CHANNEL, self._account, _ident(change.chat.id)),
                message_key=key,
                kind=MessageKind.EVENT,
                received_at=self._clock(),
                event=event,
                sender_id=_ident(change.from_user.id),
                raw=raw,
                locale_hint=_locale(change.from_user),
            )
        ]

    # --- inbound: long polling --------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """``mode: polling`` (development without a public URL): fetch updates and feed them
        through the same path as the webhook. The offset advances only past stored updates, so
        an update that met a storage outage is fetched again. In webhook mode: returns at once."""
        if not self._polling:
            return
        await poll(self._bot, stop, timeout=self._poll_timeout, handle=self._polled)

    async def _polled(self, update: Update) -> None:
        try:
            raw = json.dumps(update.to_dict(), ensure_ascii=False)
            await self._process(update, self._inbounds(update, raw))
        except _MALFORMED:
            log.warning("telegram update %s skipped: malformed", update.update_id)

    # --- outbound ---------------------------------------------------------------------------------

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext | None = None
    ) -> str | None:
        """One outbox row (``TelegramSender``): the Telegram message id of its last part."""
        return await self._sender.send(ref, message, delivery_id, context)

    async def close(self) -> None:
        """Close the Bot API connections (the app's cleanup calls this)."""
        for request in self._requests:
            await request.shutdown()
        await self._limiter.close()
