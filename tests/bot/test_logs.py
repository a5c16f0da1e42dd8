"""Personal data is masked and secrets are redacted in every log line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from bot.app import SERVICES, build_app
from bot.logs import JsonFormatter, SecretRedactor, config_secrets, mask_personal_data
from storage.models import Ticket
from tests.adapters.telegram.test_telegram import SECRET as TG_SECRET
from tests.adapters.telegram.test_telegram import TOKEN as TG_TOKEN
from tests.adapters.telegram.test_telegram import start as start_telegram
from tests.app_helpers import Clock, make_config


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("call +86 138-1234-5678 now", "call +86 138****5678 now"),
        ("身份证110101199003071234", "身份证110101********1234"),
        ("身份证11010119900307123X", "身份证110101********123X"),
        ("座机0532-88886666", "座机0532-****6666"),
        ("订单号2026112200001", "订单号2026112200001"),
        ("WZ20261122-0007", "WZ20261122-0007"),
    ],
)
def test_mask_personal_data(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


def test_formatter_masks_the_rendered_line() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "citizen said %s", ("我的电话是13812345678",), None)
    line = JsonFormatter().format(record)
    assert "13812345678" not in line
    assert json.loads(line)["message"] == "citizen said 我的电话是138****5678"


# --- the service's own log: each request and each filing, as masked JSON lines -----------------------


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    rendered = [formatter.format(r) for r in caplog.records if r.name == logger]
    assert all("13812345678" not in line for line in rendered)  # masked in the rendered line
    return [json.loads(line) for line in rendered]


async def test_each_request_and_each_filing_is_logged_masked_and_without_query_strings(
    aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock(), run_workers=False))
    assert (await client.get("/healthz?signature=5ecre7516&nonce=n0nce")).status == 200
    assert (await client.get("/no/such/page/13812345678")).status == 404
    await client.post("/chat/api/session")
    details = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险，我的电话13812345678"
    said = await client.post("/chat/api/messages", json={"id": "msg-00000001", "text": details})
    assert said.status == 200
    filed = await client.post("/chat/api/messages", json={"id": "msg-00000002", "choice": {"id": "confirm:submit"}})
    number = (await filed.json())["replies"][0]["ticket_number"]
    assert number and number.startswith("WZ")

    requests = lines(caplog, "bot.access")
    health = next(r for r in requests if r["path"] == "/healthz")
    assert (health["method"], health["status"]) == ("GET", 200) and health["duration_ms"] >= 0
    assert all("5ecre7516" not in json.dumps(r) and "n0nce" not in json.dumps(r) for r in requests)
    missing = next(r for r in requests if r["status"] == 404)
    assert missing["path"] == "/no/such/page/138****5678"
    posts = [r for r in requests if r["method"] == "POST" and r["path"] == "/chat/api/messages"]
    assert [r["status"] for r in posts] == [200, 200]

    async with client.server.app[SERVICES].sessions() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
    (filing,) = lines(caplog, "tickets.intake_port")
    assert {k: filing[k] for k in ("ticket", "channel", "type", "topic", "department")} == {
        "ticket": number,
        "channel": "webchat",
        "type": ticket.type_code,
        "topic": "urban",
        "department": "urban",
    }
    assert ticket.phone == "13812345678" and "phone" not in filing and "details" not in filing


# --- no secret in any log line (issue 12, item 5) ------------------------------------------------------


def test_config_secrets_and_the_redactor_cover_every_kind_of_secret(tmp_path: Path) -> None:
    base = make_config(tmp_path, "postgresql+asyncpg://wz:db-pass%2Fword@db.example/wz", redis_url=None)
    channels = base.channels.model_copy(
        update={
            "telegram": base.channels.telegram.model_copy(update={"token": "123456:tg-TOKEN-abcdef"}),
            "wechat": base.channels.wechat.model_copy(
                update={"app_secret": "wx-app-secret", "token": "wx-token-123", "encoding_aes_key": "A" * 43}
            ),
            "weibo": base.channels.weibo.model_copy(
                update={"app_secret": "wb-app-secret", "access_token": "wb-access-token"}
            ),
        }
    )
    storage = base.storage.model_copy(update={"redis_url": "redis://:redis-pass-9@cache.example:6379/0"})
    config = base.model_copy(update={"channels": channels, "storage": storage})
    found = set(config_secrets(config))
    assert {"123456:tg-TOKEN-abcdef", "wx-app-secret", "wx-token-123", "A" * 43} <= found
    assert {"wb-app-secret", "wb-access-token", "db-pass/word", "redis-pass-9"} <= found

    redactor = SecretRedactor(secrets=found)
    line = "GET https://api.telegram.org/bot123456:tg-TOKEN-abcdef/getMe key=%s url=%s"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, line, ("wb-access-token", config.storage.database_url), None
    )
    try:
        raise RuntimeError("connect failed: redis://:redis-pass-9@cache.example")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    record.__dict__["chat"] = "secret wx-app-secret"
    assert redactor.filter(record)
    rendered = JsonFormatter().format(record)
    for secret in found:
        assert secret not in rendered and quote(secret, safe="") not in rendered
    assert "***" in json.loads(rendered)["message"] and "***" in json.loads(rendered)["error"]
    # Credentials nobody configured are caught by their shape.
    other = redactor.redact("https://api.weixin.qq.com/cgi-bin/message?access_token=RUNTIME-TOKEN&x=1 /bot42:ZZZ/x")
    assert "RUNTIME-TOKEN" not in other and "ZZZ" not in other


async def test_a_telegram_send_logs_neither_the_bot_token_nor_the_secret(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx logged every Bot API URL at INFO, token included (643 lines in one run)."""
    caplog.set_level(logging.DEBUG)
    tg = await start_telegram(aiohttp_server, aiohttp_client, tmp_path)
    assert await tg.say("你好") != []  # in through the webhook, out through the outbox: sendMessage
    assert tg.fake.called("sendMessage")
    logging.getLogger("telegram.ext").debug("calling %s", f"http://127.0.0.1:1/bot{TG_TOKEN}/sendMessage")
    assert caplog.records
    rendered = caplog.text + "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for secret in (TG_TOKEN, TG_SECRET, TG_TOKEN.split(":")[1]):
        assert secret not in rendered
    assert "/bot***/sendMessage" in rendered  # redacted by the installed filter, not merely unlogged
