"""``wenzheng`` command line: serve, migrate, check the config, staff, reports."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from bot import wire_telegram, wire_wechat
from bot.app import build_app
from bot.cli import apikey as apikey_cli
from bot.cli import demo as demo_cli
from bot.cli import model as model_cli
from bot.cli import report as report_cli
from bot.cli import staff as staff_cli
from bot.cli.workers import serve as serve_workers
from bot.config import AppConfig, ConfigError, load_config
from bot.logs import config_secrets, configure_logging
from storage.database import create_engine
from storage.migrate import upgrade

log = logging.getLogger("wenzheng")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wenzheng", description="Citizen inquiry intake bot")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--config", default="config.yaml")
    serve.add_argument("--host", help="override server.host")
    serve.add_argument("--port", type=int, help="override server.port")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes on one port (PostgreSQL + Redis when more than 1)"
    )
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    up.add_argument("--config", default="config.yaml")
    check = sub.add_parser("check-config", help="validate the config and exit")
    check.add_argument("--config", default="config.yaml")
    staff_cli.register(sub)
    report_cli.register(sub)
    demo_cli.register(sub)
    model_cli.register(sub)
    apikey_cli.register(sub)
    wire_wechat.register_cli(sub)
    wire_telegram.register_cli(sub)
    return parser


def _load(path: str) -> AppConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"wenzheng: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _serve(config: AppConfig, host: str | None, port: int | None, workers: int = 1) -> None:
    configure_logging(config.log_level, config_secrets(config))
    bind_host = host or config.server.host
    bind_port = port if port is not None else config.server.port
    if workers != 1:
        raise SystemExit(serve_workers(config, bind_host, bind_port, workers))
    log.info("serving on http://%s:%d/chat", bind_host, bind_port)
    try:
        app = build_app(config)
    except ConfigError as exc:  # a channel's own checks (e.g. a malformed EncodingAESKey)
        print(f"wenzheng: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    web.run_app(app, host=bind_host, port=bind_port, print=None, access_log=None)


async def _upgrade(config: AppConfig) -> None:
    engine = create_engine(config.storage.database_url)
    try:
        await upgrade(engine, timezone=config.server.timezone)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    config = _load(args.config)
    if args.command == "serve":
        _serve(config, args.host, args.port, args.workers)
    elif args.command == "db":
        configure_logging(config.log_level, config_secrets(config))
        asyncio.run(_upgrade(config))
        print("database is up to date")
    elif args.command == "staff":
        raise SystemExit(asyncio.run(staff_cli.run(args, config)))
    elif args.command == "report":
        raise SystemExit(asyncio.run(report_cli.run(args, config)))
    elif args.command == "apikey":
        raise SystemExit(asyncio.run(apikey_cli.run(args, config)))
    elif args.command == "demo":
        raise SystemExit(asyncio.run(demo_cli.run(args, config)))
    elif args.command == "model":
        raise SystemExit(asyncio.run(model_cli.run(args, config)))
    elif args.command == "wechat":
        raise SystemExit(asyncio.run(wire_wechat.run_cli(args, config)))
    elif args.command == "telegram":
        configure_logging(config.log_level, config_secrets(config))
        raise SystemExit(asyncio.run(wire_telegram.run_cli(args, config)))
    elif args.command == "check-config":
        print(f"{args.config}: ok")
