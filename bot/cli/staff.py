"""``wenzheng staff add|remove|list|token|revoke``: staff accounts and /staff logins, managed at run time.

The config seeds departments (and may list staff); people joining or leaving a department should not
need a config change and a restart, so they are managed here, against the same database the service
uses. Every failure an operator can cause is one line on stderr and exit code 2, so scripts can rely
on it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.runner import OperatorError, on_database, text_table
from bot.config import AppConfig
from storage.models import Staff, utcnow
from storage.staff import DepartmentSeed, Role, StaffRepository

ROLES = tuple(role.value for role in Role)
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_MAX_NAME = 64  # the column's width
_MAX_EXTERNAL_ID = 128


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = subparsers.add_parser("staff", help="manage staff and their /staff login tokens")
    commands = staff.add_subparsers(dest="staff_command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", help="add a staff member (or update one with that name)")
    add.add_argument("name")
    add.add_argument("--department", required=True, metavar="CODE", help="a department code from the config")
    add.add_argument("--role", choices=ROLES, default=Role.HANDLER.value)
    add.add_argument(
        "--identity",
        action="append",
        default=[],
        metavar="CHANNEL:ID",
        help="how they appear on a channel, e.g. telegram:1001 (repeatable)",
    )
    remove = commands.add_parser("remove", help="deactivate a staff member and revoke their tokens")
    remove.add_argument("name")
    commands.add_parser("list", help="list staff")
    token = commands.add_parser("token", help="issue a new /staff login token (shown once), revoking the previous one")
    token.add_argument("name")
    revoke = commands.add_parser("revoke", help="revoke all of a staff member's login tokens")
    revoke.add_argument("name")
    for command in (add, remove, commands.choices["list"], token, revoke):
        command.add_argument("--config", default="config.yaml")


async def run(args: argparse.Namespace, config: AppConfig, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Perform ``args.staff_command``; the exit code is the result, output goes to stdout/stderr."""

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        match args.staff_command:
            case "add":
                await _add(sessions, config, args.name, args.department, args.role, args.identity, clock())
            case "remove":
                await _remove(sessions, args.name, clock())
            case "list":
                await _list(sessions)
            case "token":
                await _token(sessions, config, args.name, clock())
            case "revoke":
                await _revoke(sessions, args.name, clock())
            case other:
                raise OperatorError(f"unknown staff command {other!r}")

    return await on_database(config, work)


# --- commands ---------------------------------------------------------------------------------------


def _department_seeds(config: AppConfig) -> list[DepartmentSeed]:
    return [
        DepartmentSeed(
            code=d.code,
            name_zh=d.name.zh,
            name_en=d.name.en,
            topics=tuple(d.topics),
            districts=tuple(d.districts),
            telegram_chat_id=d.telegram_chat_id,
        )
        for d in config.departments
    ]


def _parse_identities(config: AppConfig, values: Sequence[str]) -> list[tuple[str, str]]:
    """``CHANNEL:ID`` pairs. The channel must be one the service has, so a typo does not silently
    create an identity nobody can ever match."""
    known = sorted(type(config.channels).model_fields)
    parsed: list[tuple[str, str]] = []
    for value in values:
        channel, sep, external_id = value.partition(":")
        channel, external_id = channel.strip().lower(), external_id.strip()
        if not sep or not channel or not external_id or not _CHANNEL.match(channel):
            raise OperatorError(f"--identity {value!r}: expected CHANNEL:ID, e.g. telegram:1001")
        if channel not in known:
            raise OperatorError(f"--identity {value!r}: unknown channel {channel!r} (known: {', '.join(known)})")
        if len(external_id) > _MAX_EXTERNAL_ID:
            raise OperatorError(f"--identity {value!r}: the id is longer than {_MAX_EXTERNAL_ID} characters")
        parsed.append((channel, external_id))
    return parsed


async def _add(
    sessions: async_sessionmaker[AsyncSession],
    config: AppConfig,
    name: str,
    department: str,
    role: str,
    identity_args: Sequence[str],
    now: datetime,
) -> None:
    name = name.strip()
    if not name or len(name) > _MAX_NAME:
        raise OperatorError(f"the name must be 1 to {_MAX_NAME} characters")
    if role not in ROLES:
        raise OperatorError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    identities = _parse_identities(config, identity_args)
    repo = StaffRepository()
    async with sessions.begin() as session:
        await repo.seed(session, _department_seeds(config), [], now)
        dept = await repo.department(session, department)
        if dept is None or not dept.active:
            codes = ", ".join(d.code for d in config.departments)
            raise OperatorError(f"unknown department {department!r} (known: {codes})")
        existing = await repo.by_name(session, name)
        for channel, external_id in identities:
            holder = await repo.by_identity(session, channel, external_id)
            if holder is not None and holder.name != name:
                raise OperatorError(f"identity {channel}:{external_id} already belongs to {holder.name}")
        person = await repo.add(session, name, department, role, now)
        for channel, external_id in identities:
            await repo.add_identity(session, person.id, channel, external_id)
    verb = "added" if existing is None else "updated"
    print(f"{verb} {name}: {dept.name_zh} ({department}), {role}")


async def _remove(sessions: async_sessionmaker[AsyncSession], name: str, now: datetime) -> None:
    repo = StaffRepository()
    async with sessions.begin() as session:
        person = await _named(repo, session, name)
        revoked = await repo.revoke_tokens(session, person.id, now)
        await repo.deactivate(session, person.id, now)
    print(f"deactivated {name}; {revoked} login token(s) revoked")


async def _list(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = StaffRepository()
    async with sessions() as session:
        people = await repo.all(session)
        identities = await repo.identities(session, [p.id for p in people])
    if not people:
        print("no staff yet: add one with `wenzheng staff add NAME --department CODE`")
        return
    by_person: dict[int, list[str]] = {}
    for ident in identities:
        by_person.setdefault(ident.staff_id, []).append(f"{ident.channel}:{ident.external_id}")
    rows = [["NAME", "DEPARTMENT", "ROLE", "ACTIVE", "IDENTITIES"]]
    rows += [
        [p.name, p.department_code, p.role, "yes" if p.active else "no", " ".join(by_person.get(p.id, [])) or "-"]
        for p in people
    ]
    for line in text_table(rows):
        print(line)


async def _token(sessions: async_sessionmaker[AsyncSession], config: AppConfig, name: str, now: datetime) -> None:
    repo = StaffRepository()
    async with sessions.begin() as session:
        person = await _named(repo, session, name)
        if not person.active:
            raise OperatorError(f"{name} is deactivated: add them again before issuing a token")
        # Rotation: a new token replaces the old ones (and ends the pages signed in with them).
        revoked = await repo.revoke_tokens(session, person.id, now)
        token = await repo.issue_token(session, person.id, now)
    expires = now + timedelta(days=config.server.staff_token_days)
    print(f"Login token for {name} (shown only this once; it is stored only as a hash):")
    print(token)
    print(f"Sign in at {_staff_url(config)}")
    print(f"or to the console at {_staff_url(config, '/console/login')}")
    print(f"It expires on {expires:%Y-%m-%d} (server.staff_token_days: {config.server.staff_token_days}).")
    if revoked:
        print(f"The previous token of {name} was revoked ({revoked}); pages signed in with it are signed out.")


async def _revoke(sessions: async_sessionmaker[AsyncSession], name: str, now: datetime) -> None:
    repo = StaffRepository()
    async with sessions.begin() as session:
        person = await _named(repo, session, name)
        revoked = await repo.revoke_tokens(session, person.id, now)
    print(f"revoked {revoked} login token(s) of {name}")


# --- helpers ----------------------------------------------------------------------------------------


async def _named(repo: StaffRepository, session: AsyncSession, name: str) -> Staff:
    person = await repo.by_name(session, name.strip())
    if person is None:
        raise OperatorError(f"no staff member named {name!r} (see `wenzheng staff list`)")
    return person


def _staff_url(config: AppConfig, path: str = "/staff") -> str:
    if config.server.public_url:
        return config.server.public_url.rstrip("/") + path
    host = config.server.host
    if host in ("0.0.0.0", "::", ""):  # bound to every interface: this machine can still reach it
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.server.port}{path}"
