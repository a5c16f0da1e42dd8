"""Wiring for the WeChat channel: the channel from ``channels.wechat``, and ``wenzheng wechat menu``.

``build`` runs only when the channel is enabled, and only then is wechatpy loaded (the channel's
module is imported inside it), so the CLI can register ``wenzheng wechat`` without a deployment
that has WeChat off paying for the SDK. The adapter gets only what it needs: the dispatcher, the
session store (nonces, the shared access_token, menu ids) and the clock.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from adapters.wechat.api import (
    MENU_COMMANDS,
    MENU_CREATE,
    ApiError,
    ApiUnavailable,
    Credentials,
    WechatApi,
    account_menu,
)
from adapters.wechat.config import WechatConfig
from bot.channels import ChannelDeps
from bot.config import AppConfig, ConfigError
from storage.sessions import MemorySessionStore, RedisSessionStore, SessionStore

if TYPE_CHECKING:
    from adapters.wechat.channel import WechatChannel, WechatSettings
    from bot.channels import WebhookChannel


def settings_from(config: WechatConfig) -> WechatSettings:
    """The adapter's settings, refusing at start what could only fail later, one key at a time."""
    from adapters.wechat.channel import WechatSettings
    from adapters.wechat.crypto import aes_key

    for key in ("token", "app_id", "app_secret"):
        if not getattr(config, key):
            raise ConfigError(f"config key channels.wechat.{key}: required when the WeChat channel is enabled")
    if config.encoding_aes_key:
        try:
            aes_key(config.encoding_aes_key)
        except ValueError as exc:
            raise ConfigError(f"config key channels.wechat.encoding_aes_key: {exc}") from exc
    if not config.api_base_url.startswith(("https://", "http://")):
        raise ConfigError("config key channels.wechat.api_base_url: must be an http(s) URL")
    return WechatSettings(
        token=config.token,
        app_id=config.app_id,
        app_secret=config.app_secret,
        encoding_aes_key=config.encoding_aes_key,
        api_base_url=config.api_base_url,
        status_template_id=config.status_template_id,
    )


def build(settings: WechatConfig, deps: ChannelDeps) -> WechatChannel:
    from adapters.wechat.channel import MAX_BODY_BYTES, WechatChannel

    wechat = replace(settings_from(settings), max_body_bytes=min(MAX_BODY_BYTES, deps.max_body_bytes))
    return WechatChannel(wechat, deps.sink, deps.store, deps.clock)


def _conforms(channel: WechatChannel) -> WebhookChannel:
    """Checked by mypy only: the channel is what ``bot.channels`` expects of a platform."""
    return channel


# --- wenzheng wechat menu --------------------------------------------------------------------------


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wechat = subparsers.add_parser("wechat", help="WeChat official account set-up")
    commands = wechat.add_subparsers(dest="wechat_command", required=True, metavar="COMMAND")
    menu = commands.add_parser("menu", help=f"install the account menu ({' / '.join(MENU_COMMANDS.values())})")
    menu.add_argument("--config", default="config.yaml")


async def run_cli(args: argparse.Namespace, config: AppConfig) -> int:
    """``wenzheng wechat menu``. The token comes from the same store the service uses (Redis when
    configured): fetching a private one would retire the token the running workers hold."""
    if args.wechat_command != "menu":  # argparse allows nothing else; kept for a clear failure
        print(f"wenzheng: unknown wechat command {args.wechat_command!r}", file=sys.stderr)
        return 2
    try:
        settings = settings_from(config.channels.wechat)
    except ConfigError as exc:
        print(f"wenzheng: {exc}", file=sys.stderr)
        return 2
    redis_url = config.storage.redis_url
    store: SessionStore = RedisSessionStore.from_url(redis_url) if redis_url else MemorySessionStore()
    api = WechatApi(settings.api_base_url, Credentials(settings.app_id, settings.app_secret), store)
    try:
        await api.post(MENU_CREATE, account_menu())
    except (ApiError, ApiUnavailable) as exc:
        print(f"wenzheng: the menu was not installed: {exc}", file=sys.stderr)
        return 1
    finally:
        await api.close()
        await store.close()
    print(f"WeChat menu installed: {' / '.join(MENU_COMMANDS.values())}")
    return 0
