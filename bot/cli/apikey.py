"""``wenzheng apikey add|list|revoke``: keys for Open311 clients that file requests
(``POST /open311/v2/requests``). A key is printed once and stored as a SHA-256 only."""

from __future__ import annotations

import argparse
import re
import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.runner import OperatorError, on_database, text_table
from bot.config import AppConfig
from storage.models import utcnow
from storage.public_results import ApiKeyRepository

_NAME = re.compile(r"^[\w.@-]{1,64}$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apikey = subparsers.add_parser("apikey", help="manage Open311 API keys")
    commands = apikey.add_subparsers(dest="apikey_command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help="create a key for a client (printed once)")
    add.add_argument("name", help="who the key is for, e.g. the app's name")
    revoke = commands.add_parser("revoke", help="revoke a client's key")
    revoke.add_argument("name")
    listing = commands.add_parser("list", help="list keys (names and dates, never the keys)")
    for command in (add, revoke, listing):
        command.add_argument("--config", default="config.yaml")


async def run(args: argparse.Namespace, config: AppConfig, *, clock: Callable[[], datetime] = utcnow) -> int:
    repo = ApiKeyRepository()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions.begin() as session:
            match args.apikey_command:
                case "add":
                    if not _NAME.match(args.name):
                        raise OperatorError("a key name is 1-64 letters, digits, '.', '@', '_' or '-'")
                    if await repo.by_name(session, args.name) is not None:
                        raise OperatorError(f"a key named {args.name!r} exists; revoke it or pick another name")
                    key = secrets.token_urlsafe(32)
                    await repo.add(session, args.name, key, clock())
                    print(key)
                    print(f"POST /open311/v2/requests.json with api_key={key} (shown once)")
                case "revoke":
                    if not await repo.revoke(session, args.name, clock()):
                        raise OperatorError(f"no live key named {args.name!r}")
                    print(f"revoked {args.name}")
                case "list":
                    rows = [
                        (k.name, k.created_at.isoformat(timespec="seconds"), "revoked" if k.revoked_at else "live")
                        for k in await repo.all(session)
                    ]
                    for line in text_table([("name", "created", "state"), *rows]):
                        print(line)
                case other:
                    raise OperatorError(f"unknown apikey command {other!r}")

    return await on_database(config, work)
