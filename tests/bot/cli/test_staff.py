"""``wenzheng staff …`` through ``bot.cli.staff.run`` on a real, temporary database."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import staff as staff_cli
from bot.config import AppConfig
from storage.database import create_engine, session_factory
from storage.staff import StaffRepository
from tests.app_helpers import Clock, make_config


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wenzheng")
    staff_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["staff", *argv])


@pytest.fixture
def config(tmp_path: Path, engine: AsyncEngine, database_url: str) -> AppConfig:
    """The shipped config on a migrated database of each kind (SQLite would migrate itself)."""
    return make_config(tmp_path, database_url)


async def staff(config: AppConfig, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = await staff_cli.run(parse(*argv), config, clock=Clock())
    out, err = capsys.readouterr()
    return code, out, err


async def verifies(config: AppConfig, token: str) -> str | None:
    engine = create_engine(config.storage.database_url)
    try:
        async with session_factory(engine)() as session:
            person = await StaffRepository().by_token(session, token)
            return None if person is None else person.name
    finally:
        await engine.dispose()


async def test_added_staff_are_listed_with_department_role_and_identities(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("add", "张三", "--department", "transport", "--identity", "telegram:1001", "--identity", "wechat:oStaff")
    code, out, _ = await staff(config, *add, capsys=capsys)
    assert code == 0 and "张三" in out
    code, _, _ = await staff(config, "add", "Li Si", "--department", "urban", "--role", "supervisor", capsys=capsys)
    assert code == 0
    code, out, _ = await staff(config, "list", capsys=capsys)
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "DEPARTMENT", "ROLE", "ACTIVE", "IDENTITIES"]
    assert sorted(r.split() for r in rows) == [
        ["Li", "Si", "urban", "supervisor", "yes", "-"],
        ["张三", "transport", "handler", "yes", "telegram:1001", "wechat:oStaff"],
    ]


async def test_a_token_is_printed_once_with_the_page_url_and_verifies_until_revoked(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    await staff(config, "add", "张三", "--department", "transport", capsys=capsys)
    code, out, _ = await staff(config, "token", "张三", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    token = lines[1]
    assert lines[2] == "Sign in at http://127.0.0.1:8080/staff"
    assert lines[3] == "or to the console at http://127.0.0.1:8080/console/login"
    assert await verifies(config, token) == "张三"
    code, out, _ = await staff(config, "revoke", "张三", capsys=capsys)
    assert code == 0 and "1" in out
    assert await verifies(config, token) is None


async def test_remove_deactivates_and_revokes(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    await staff(config, "add", "张三", "--department", "transport", capsys=capsys)
    _, out, _ = await staff(config, "token", "张三", capsys=capsys)
    token = out.splitlines()[1]
    code, _, _ = await staff(config, "remove", "张三", capsys=capsys)
    assert code == 0
    assert await verifies(config, token) is None
    _, out, _ = await staff(config, "list", capsys=capsys)
    assert out.splitlines()[1].split()[:4] == ["张三", "transport", "handler", "no"]
    code, _, err = await staff(config, "token", "张三", capsys=capsys)
    assert code == 2 and "deactivated" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("add", "张三", "--department", "moon"), "unknown department 'moon'"),
        (("add", "张三", "--department", "transport", "--identity", "telegram"), "expected CHANNEL:ID"),
        (("add", "张三", "--department", "transport", "--identity", "telegarm:1"), "unknown channel 'telegarm'"),
        (("token", "nobody"), "no staff member named 'nobody'"),
        (("revoke", "nobody"), "no staff member named 'nobody'"),
        (("remove", "nobody"), "no staff member named 'nobody'"),
    ],
)
async def test_operator_mistakes_are_one_line_and_exit_code_2(
    config: AppConfig, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = await staff(config, *argv, capsys=capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err


async def test_an_identity_cannot_be_taken_from_another_staff_member(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    await staff(config, "add", "张三", "--department", "transport", "--identity", "telegram:1001", capsys=capsys)
    again = ("add", "李四", "--department", "urban", "--identity", "telegram:1001")
    code, _, err = await staff(config, *again, capsys=capsys)
    assert code == 2 and "already belongs to 张三" in err


@pytest.mark.postgres
async def test_an_unmigrated_server_database_is_left_to_the_operator(
    postgres_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await staff(make_config(tmp_path, postgres_database), "list", capsys=capsys)
    assert code == 2 and out == ""
    assert err.strip() == "wenzheng: run `wenzheng db upgrade` first"


@pytest.fixture
def postgres_database(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite is migrated in place")
    return database_url


async def test_token_rotates_the_old_one_is_revoked_and_the_expiry_is_printed(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    await staff(config, "add", "张三", "--department", "transport", capsys=capsys)
    _, out, _ = await staff(config, "token", "张三", capsys=capsys)
    old = out.splitlines()[1]
    assert "It expires on 2027-02-20 (server.staff_token_days: 90)." in out  # 90 days after 2026-11-22
    code, out, _ = await staff(config, "token", "张三", capsys=capsys)
    new = out.splitlines()[1]
    assert code == 0 and new != old and "previous token of 张三 was revoked" in out
    assert await verifies(config, old) is None
    assert await verifies(config, new) == "张三"
