"""Telegram outbound: one outbox row as one or more sendMessage calls, paced by the send limits,
with Telegram's answers translated to what the outbox understands."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram import Bot
from telegram.error import (
    BadRequest as TelegramBadRequest,
)
from telegram.error import (
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from adapters.base import ConversationRef, Deferred, DeliveryContext, Outbound, RecipientUnreachable, SendError
from adapters.telegram.books import SendBooks
from adapters.telegram.render import Part, render


class Throttled(Deferred):
    """Not sent yet: Telegram's flood limits ask this chat, or the bot, to pause. The outbox
    brings the message back after ``retry_after`` seconds; nothing was sent, no attempt used."""

    def __init__(self, chat_id: str, wait: float) -> None:
        super().__init__(f"waiting {wait:.2f}s for Telegram's rate limits (chat {chat_id})", retry_after=wait)


def _seconds(exc: RetryAfter) -> float:
    """``retry_after`` as seconds, whichever type this PTB release gives it (int, now timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """The channel's ``send``. Keeps, by outbox row, the parts of a long message already delivered,
    so a retry sends only the rest (in Redis with several workers: the retry may be another's)."""

    def __init__(self, bot: Bot, books: SendBooks) -> None:
        self._bot = bot
        self._books = books

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext | None = None
    ) -> str | None:
        """Send one outbox row; the Telegram message id (of the last part, the one with the
        buttons) so a reply to a card is traced to its ticket.

        ``ref.account`` is ignored: a citizen's ref names our bot, a staff ref says ``staff``,
        and both address the same bot, by chat id alone. Telegram has no reply window.
        """
        chat = ref.chat_id
        private = not chat.startswith("-")  # groups and supergroups have negative ids
        parts = render(message, private=private)
        start = min(await self._books.parts_done(delivery_id), len(parts) - 1)
        sent: str | None = None
        for index in range(start, len(parts)):
            wait = await self._books.wait_for(chat, delivery_id, group=not private)
            if wait > 0:
                raise Throttled(chat, wait)
            sent = await self._send_part(chat, delivery_id, parts[index])
            if index + 1 < len(parts):
                await self._books.set_parts_done(delivery_id, index + 1)
                await self._books.keep_front(chat, delivery_id)  # the next part waits its second, first in line
        if start or len(parts) > 1:
            await self._books.clear_parts(delivery_id)
        return sent

    async def _send_part(self, chat: str, delivery_id: str, part: Part) -> str:
        """One sendMessage, with Telegram's answers translated to what the outbox understands."""
        target: int | str = int(chat) if chat.lstrip("-").isdigit() else chat
        try:
            result = await self._bot.send_message(chat_id=target, text=part.text, reply_markup=part.markup)
        except RetryAfter as exc:
            pause = _seconds(exc)
            await self._books.keep_front(chat, delivery_id, pause)
            raise SendError(
                f"telegram flood control: retry after {pause:g}s", retryable=True, retry_after=pause
            ) from exc
        except Forbidden as exc:  # blocked by the user, never started, removed from the group
            await self._books.clear_parts(delivery_id)
            raise RecipientUnreachable(f"telegram: {exc.message}") from exc
        except ChatMigrated as exc:
            raise SendError(
                f"telegram: group {chat} is now supergroup {exc.new_chat_id}; update telegram_chat_id",
                retryable=False,
            ) from exc
        except TelegramBadRequest as exc:  # before NetworkError, which it subclasses
            await self._books.clear_parts(delivery_id)
            raise SendError(f"telegram refused the message: {exc.message}", retryable=False) from exc
        except InvalidToken as exc:  # fixable by the operator: keep the message for a while
            raise SendError("telegram rejected the bot token", retryable=True) from exc
        except NetworkError as exc:  # timeouts, 5xx, connection errors
            await self._books.keep_front(chat, delivery_id)
            raise SendError(f"telegram unreachable: {exc.message}", retryable=True) from exc
        except TelegramError as exc:
            raise SendError(f"telegram: {exc.message}", retryable=False) from exc
        return str(result.message_id)
