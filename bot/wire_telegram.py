"""Builds the Telegram channel from the config, and the ``wenzheng telegram`` commands.

python-telegram-bot is imported inside the functions, not at the top: ``bot.cli`` imports this
module to register its commands, and a service with Telegram disabled should not load the SDK.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from adapters.telegram.config import TelegramConfig
from adapters.telegram.limits import SERVICE_LIMITS
from bot.channels import ChannelDeps
from bot.config import AppConfig, ConfigError

if TYPE_CHECKING:
    from adapters.telegram.books import SendBooks
    from adapters.telegram.channel import TelegramChannel

# The command menu Telegram shows next to the input field; the dialog understands each of them.
COMMANDS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "zh": (
            ("start", "开始问政"),
            ("new", "提交新的问政"),
            ("my", "我的问政和办理进度"),
            ("cancel", "取消当前填写"),
            ("help", "帮助"),
            ("lang", "切换语言 / Language"),
        ),
        "en": (
            ("start", "Start an inquiry"),
            ("new", "File a new inquiry"),
            ("my", "My inquiries and their progress"),
            ("cancel", "Cancel what you are filling in"),
            ("help", "Help"),
            ("lang", "Switch language / 语言"),
        ),
    }
)


def check_settings(settings: TelegramConfig) -> None:
    """Refuse to start a channel that would fail on every message, or accept forged updates: the
    token must be a bot token, and a webhook needs a secret (setWebhook's character set)."""
    from adapters.telegram.channel import SECRET
    from adapters.telegram.client import TOKEN

    if not TOKEN.match(settings.token):
        raise ConfigError("config key channels.telegram.token: expected a bot token like 123456789:AA… from BotFather")
    if settings.mode == "webhook" and not SECRET.match(settings.secret_token):
        raise ConfigError(
            "config key channels.telegram.secret_token: required in webhook mode, 1-256 characters of A-Z a-z 0-9 _ -"
        )
    if settings.secret_token and not SECRET.match(settings.secret_token):
        raise ConfigError("config key channels.telegram.secret_token: only A-Z a-z 0-9 _ - are allowed (1-256)")


def build(settings: TelegramConfig, deps: ChannelDeps) -> TelegramChannel:
    from adapters.telegram.channel import TelegramChannel

    check_settings(settings)
    return TelegramChannel(
        token=settings.token,
        secret_token=settings.secret_token,
        api_base_url=settings.api_base_url,
        sink=deps.sink,
        clock=deps.clock,
        max_body_bytes=deps.max_body_bytes,
        staff_groups=deps.staff_group_chats,
        polling=settings.mode == "polling",
        limits=SERVICE_LIMITS,
        books=_shared_books(deps),
    )


def _shared_books(deps: ChannelDeps) -> SendBooks | None:
    """With Redis configured (several workers), the flood limits and partial-send progress are
    kept there, so the limits hold for the bot as a whole; None keeps them in this process."""
    if not deps.redis_url:
        return None
    from redis.asyncio import Redis

    from adapters.telegram.redis_books import RedisBooks

    redis = Redis.from_url(deps.redis_url, socket_timeout=5, socket_connect_timeout=5)
    clock = deps.clock
    return RedisBooks(redis=redis, now=lambda: clock().timestamp(), limits=SERVICE_LIMITS)


# --- wenzheng telegram … --------------------------------------------------------------------------


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    telegram = subparsers.add_parser("telegram", help="Telegram bot set-up")
    commands = telegram.add_subparsers(dest="telegram_command", required=True, metavar="COMMAND")
    hook = commands.add_parser(
        "set-webhook",
        help="register server.public_url + /webhooks/telegram with Telegram, and the bot's command menu",
    )
    hook.add_argument("--config", default="config.yaml")
    hook.add_argument(
        "--drop-pending-updates", action="store_true", help="discard updates Telegram queued while no webhook was set"
    )


async def run_cli(args: argparse.Namespace, config: AppConfig) -> int:
    """``wenzheng telegram set-webhook``: 0 done, 1 Telegram refused, 2 the config is not ready."""
    if args.telegram_command != "set-webhook":
        print(f"wenzheng: unknown telegram command {args.telegram_command}", file=sys.stderr)
        return 2
    settings = config.channels.telegram
    public = (config.server.public_url or "").rstrip("/")
    try:
        check_settings(settings.model_copy(update={"mode": "webhook"}))
        if not public.startswith("https://"):
            raise ConfigError("config key server.public_url: Telegram delivers webhooks to an https:// URL only")
        if settings.mode == "polling":
            raise ConfigError("config key channels.telegram.mode: is polling; a webhook would stop it (set webhook)")
    except ConfigError as exc:
        print(f"wenzheng: {exc}", file=sys.stderr)
        return 2
    return await _set_webhook(
        settings, public, drop_pending=bool(args.drop_pending_updates), default_locale=config.dialog.default_locale
    )


async def _set_webhook(settings: TelegramConfig, public: str, *, drop_pending: bool, default_locale: str) -> int:
    from telegram import BotCommand
    from telegram.error import TelegramError

    from adapters.telegram.channel import WEBHOOK_PATH
    from adapters.telegram.client import ALLOWED_UPDATES, new_bot

    url = public + WEBHOOK_PATH
    bot, requests = new_bot(settings.token, settings.api_base_url)
    try:
        me = await bot.get_me()
        await bot.set_webhook(
            url,
            secret_token=settings.secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending,
        )
        for language in (None, "zh", "en"):  # None: users whose language has no menu of its own
            menu = COMMANDS[language or default_locale]
            await bot.set_my_commands([BotCommand(c, d) for c, d in menu], language_code=language)
    except TelegramError as exc:
        print(f"wenzheng: telegram refused: {exc.message}", file=sys.stderr)
        return 1
    finally:
        for request in requests:
            await request.shutdown()
    print(f"webhook set for @{me.username}: {url}")
    print("updates: " + ", ".join(ALLOWED_UPDATES))
    print("command menu set in zh and en: " + " ".join("/" + c for c, _ in COMMANDS["zh"]))
    return 0
