"""The hot-topic digest to supervisors known on Telegram: 订阅热点 through the real webhook, the
daily run on the app's clock, the digest as a ``sendMessage`` to the supervisor's private chat at
the fake Bot API (in each supervisor's language), and after 退订热点 no digest the next day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_app
from bot.config import StaffConfig, StaffIdentityConfig
from tests.adapters.telegram.fake_api import FakeTelegramAPI
from tests.adapters.telegram.test_telegram import (
    STAFF,
    TOKEN,
    ClientFactory,
    ServerFactory,
    Tg,
    _close_telegram,
    telegram_config,
)
from tests.app_helpers import Clock
from tests.tickets.hot_data import METRO, corpus, load

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

SHANGHAI = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)  # the run of 2026-12-01 covers the days before it
SUPERVISOR = "1002"  # 李四, urban's supervisor, in Chinese
SUPERVISOR_EN = "1003"  # Wang Wu, a supervisor who reads English


def local(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
async def tg(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[Tg]:
    clock = Clock(now=local(1, 8, 0))
    fake = FakeTelegramAPI(clock, TOKEN)
    api = await aiohttp_server(fake.app())
    config = telegram_config(tmp_path, str(api.make_url("")))
    supervisors = [
        StaffConfig(
            name="李四",
            department="urban",
            role="supervisor",
            identities=[StaffIdentityConfig(channel="telegram", id=SUPERVISOR)],
        ),
        StaffConfig(
            name="Wang Wu",
            department="urban",
            role="supervisor",
            locale="en",
            identities=[StaffIdentityConfig(channel="telegram", id=SUPERVISOR_EN)],
        ),
    ]
    app = build_app(config.model_copy(update={"staff": [*config.staff, *supervisors]}), clock=clock, run_workers=False)
    app.on_cleanup.append(_close_telegram)
    world = Tg(await aiohttp_client(app), fake, clock, aiohttp_client)
    yield world
    assert world.fake.violations == []


async def staff_says(tg: Tg, chat: str, text: str) -> list[str]:
    """A staff member writes to the bot in their private chat (the webhook, as Telegram posts it)."""
    before = len(tg.fake.sent(chat))
    sender = {"id": int(chat), "is_bot": False, "first_name": "Staff", "language_code": "zh-hans"}
    update = tg.update("private_text", text=text, chat={"id": int(chat), "type": "private"}, **{"from": sender})
    await tg.push(update)
    await tg.deliver()
    return tg.fake.texts(chat)[before:]


async def test_a_supervisor_on_telegram_subscribes_gets_the_digest_and_unsubscribes(tg: Tg) -> None:
    async with tg.services.sessions.begin() as session:
        numbers = await load(session, corpus(END))
    assert any("已订阅热点日报" in t for t in await staff_says(tg, SUPERVISOR, "订阅热点"))
    assert any("Subscribed" in t for t in await staff_says(tg, SUPERVISOR_EN, "subscribe"))
    assert any("只有主管" in t for t in await staff_says(tg, STAFF, "订阅热点"))  # 张三 handles; no digest
    worker = tg.services.timer_worker

    tg.clock.now = local(1, 8, 29)
    assert not await worker.run_daily()
    tg.clock.now = local(1, 8, 31)
    sent_before = {chat: len(tg.fake.sent(chat)) for chat in (SUPERVISOR, SUPERVISOR_EN, STAFF)}
    assert await worker.run_daily()
    await tg.deliver()

    digests = tg.fake.sent(SUPERVISOR)[sent_before[SUPERVISOR] :]
    assert len(digests) == 1, [c.text for c in digests]
    digest = digests[0]
    assert digest.method == "sendMessage" and digest.params["chat_id"] == int(SUPERVISOR)
    assert digest.text.startswith("【热点日报】2026-12-01：近7天明显上升、至少5位市民反映的问题3个")
    assert "地铁" in digest.text and "8位市民" in digest.text and "市南区8、崂山区1" in digest.text
    assert "青岛市崂山区｜停车｜6件（6位市民）" in digest.text and "济南市" in digest.text
    assert "广场舞" not in digest.text  # one citizen writing thirty times is not a topic
    assert sum(n in digest.text for n in numbers[: len(METRO)]) == 5  # the first five numbers, then "…"

    english = tg.fake.sent(SUPERVISOR_EN)[sent_before[SUPERVISOR_EN] :]
    assert [c.text.splitlines()[0] for c in english] == [
        "[Hot topics] 2026-12-01: 3 rising in the last 7 days, each raised by 5+ citizens"
    ]
    assert "8 citizens" in english[0].text and "地铁" in english[0].text
    assert len(tg.fake.sent(STAFF)) == sent_before[STAFF]  # a handler who did not (could not) subscribe

    assert any("已退订热点日报" in t for t in await staff_says(tg, SUPERVISOR, "退订热点"))
    assert any("Unsubscribed" in t for t in await staff_says(tg, SUPERVISOR_EN, "unsubscribe hot"))
    tg.clock.now += timedelta(days=1)
    before = {chat: len(tg.fake.sent(chat)) for chat in (SUPERVISOR, SUPERVISOR_EN)}
    assert await worker.run_daily()  # the day's run still happens: nobody is sent it
    await tg.deliver()
    assert {chat: len(tg.fake.sent(chat)) for chat in (SUPERVISOR, SUPERVISOR_EN)} == before
