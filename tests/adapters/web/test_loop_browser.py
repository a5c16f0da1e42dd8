"""The whole 网络问政 loop in two tabs of a real headless Chromium, against the real app with its workers.

Two people, two browser contexts: a citizen on a phone-sized /chat files an inquiry, and 张三 of the
城市管理局 at /staff sees the new-ticket card arrive by itself, takes it up, answers it, and the citizen
rates the answer. Every push travels the production path (workflow → outbox → background worker →
mailbox → event stream); nothing is sent by hand. Needs Debian's Chromium at /usr/bin/chromium
(skipped without it, except under CI=true) and the ``playwright`` package; no browser is downloaded.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import BrowserContext, Page, async_playwright
from sqlalchemy import select

from bot.app import SERVICES, build_app
from bot.config import StaffConfig
from storage.models import Rating, Ticket
from storage.staff import StaffRepository
from tests.adapters.conftest import CHROMIUM_ARGS, serve
from tests.app_helpers import make_config

pytestmark = pytest.mark.browser

TEST_SECONDS = 45
STEP_MS = 10_000
TICKET = re.compile(r"WZ\d{8}-\d{4}")
FIRST_MESSAGE = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
ANSWER = "路灯已于今天修复，感谢您的反映。"
STAFF_NAME = "张三"


class Served(NamedTuple):
    url: str
    app: web.Application
    token: str


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Served]:
    """The real app, background workers included, on a free loopback port in this test's event loop;
    张三 (a handler at 城市管理局) is seeded from the config and given a /staff login token."""
    config = make_config(tmp_path)
    config = config.model_copy(
        update={
            "staff": [StaffConfig(name=STAFF_NAME, department="urban", role="handler")],
            "outbox": config.outbox.model_copy(update={"poll_seconds": 0.2}),
            "workflow": config.workflow.model_copy(update={"poll_seconds": 0.5}),
        }
    )
    app = build_app(config)  # run_workers=True: the outbox worker delivers every push by itself
    async with serve(app) as (url, _):  # startup ran: migrations, the staff seed, the workers
        services = app[SERVICES]
        staff = StaffRepository()
        async with services.sessions.begin() as session:
            person = await staff.by_name(session, STAFF_NAME)
            assert person is not None, "the configured staff member was not seeded at startup"
            token = await staff.issue_token(session, person.id, datetime.now(UTC))
        yield Served(url, app, token)


def _watch(page: Page, who: str, problems: list[str], refused: list[str]) -> None:
    """Script errors go to ``problems``; HTTP errors (which Chromium also logs to the console) to ``refused``."""
    page.on("pageerror", lambda exc: problems.append(f"{who} page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{who} console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda res: (
            refused.append(f"{who} {res.status} {res.request.method} {urlsplit(res.url).path}")
            if res.status >= 400
            else None
        ),
    )


async def _texts(page: Page, selector: str) -> list[str]:
    return await page.locator(selector).all_inner_texts()


async def test_citizen_and_staff_close_the_loop_in_two_tabs(chromium: str, server: Served, tmp_path: Path) -> None:
    base_url = server.url
    timings: dict[str, float] = {}
    started = last = time.monotonic()

    def lap(step: str) -> None:
        nonlocal last
        now = time.monotonic()
        timings[step] = round(now - last, 2)
        last = now

    citizen_shot = tmp_path / "loop-citizen.png"
    staff_shot = tmp_path / "loop-staff.png"
    problems: list[str] = []
    refused: list[str] = []
    async with asyncio.timeout(TEST_SECONDS), async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        contexts: list[BrowserContext] = []
        try:
            staff_ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            contexts.append(staff_ctx)
            citizen_ctx = await browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
            contexts.append(citizen_ctx)
            desk = await staff_ctx.new_page()
            phone = await citizen_ctx.new_page()
            _watch(desk, "staff", problems, refused)
            _watch(phone, "citizen", problems, refused)
            lap("browser")

            # 1. 张三 opens /staff, pastes the token, and gets the chat view.
            await desk.goto(f"{base_url}/staff", wait_until="domcontentloaded")
            await desk.locator("#login-form").wait_for(timeout=STEP_MS)
            assert await desk.locator("#composer").is_hidden()
            # Not signed in yet: the page's session check was answered 401, which is how it knew.
            assert refused == ["staff 401 GET /staff/api/session"], refused
            refused.clear()
            await desk.locator("#token").fill(server.token + "\n")  # pasted from a terminal
            await desk.get_by_role("button", name="登录").click()
            await desk.locator(".msg.bot .bubble", has_text="已登录").wait_for(timeout=STEP_MS)
            assert await desk.locator("#login-view").is_hidden()
            assert await desk.locator("#composer").is_visible()
            assert await desk.locator("#logout-btn").is_visible()
            lap("1 staff login")

            # 2. The citizen describes the issue in one message, taps 提交 and gets a number.
            await phone.goto(f"{base_url}/chat", wait_until="domcontentloaded")
            await phone.locator(".msg.bot .bubble", has_text="帮助").first.wait_for(timeout=STEP_MS)
            box = phone.get_by_role("textbox")
            await box.fill(FIRST_MESSAGE)
            await box.press("Enter")
            await phone.locator(".msg.me .bubble", has_text=FIRST_MESSAGE).wait_for(timeout=STEP_MS)
            submit = phone.locator(".msg.bot .choices button", has_text="提交").last
            try:
                await submit.wait_for(timeout=STEP_MS)
            except Exception:
                pytest.fail(f"no summary with a 提交 button; the bot said: {await _texts(phone, '.msg.bot .bubble')}")
            summary = phone.locator(".msg.bot", has=phone.locator(".choices button", has_text="提交")).last
            summary_text = await summary.locator(".bubble").inner_text()
            assert "路灯" in summary_text and "市南区" in summary_text, summary_text
            await submit.click()
            filed = phone.locator(".msg.bot .bubble", has_text=TICKET).last
            await filed.wait_for(timeout=STEP_MS)
            match = TICKET.search(await filed.inner_text())
            assert match is not None
            number = match.group(0)
            assert await phone.locator(".ticket-no", has_text=number).count() == 1
            # The workflow routed it to 城市管理局 while filing: the reply says so, no push races it.
            filed_text = await filed.inner_text()
            assert "已受理，由【城市管理局】办理" in filed_text, filed_text
            lap("2 citizen files")

            # 3. The new-ticket card reaches the staff tab by itself, with 接单 and 查看; 张三 claims it.
            card = desk.locator(".msg.bot.status", has_text=f"【新问政】{number}")
            try:
                await card.wait_for(timeout=STEP_MS)
            except Exception:
                pytest.fail(f"no new-ticket card on /staff; it shows: {await _texts(desk, '.msg .bubble')}")
            card_text = await card.locator(".bubble").inner_text()
            assert "路灯" in card_text and "市南区" in card_text, card_text
            assert await card.locator(".ticket-no").inner_text() == number
            labels = await card.locator(".choices button").all_inner_texts()
            assert labels == ["接单", "查看"], labels
            claim = card.get_by_role("button", name="接单", exact=True)
            await claim.click()
            await desk.locator(".msg.bot .bubble", has_text=f"已接单：{number}").wait_for(timeout=STEP_MS)
            assert await claim.get_attribute("aria-pressed") == "true"
            assert await card.get_by_role("button", name="查看", exact=True).is_disabled()
            assigned = phone.locator(".msg.status", has_text="已接单")
            await assigned.wait_for(timeout=STEP_MS)
            assert number in await assigned.inner_text()
            lap("3 staff claims")

            # 4. 张三 answers with a typed command; the citizen gets the answer and a rating prompt.
            command = desk.get_by_role("textbox")
            await command.fill(f"回复 {number} {ANSWER}")
            await command.press("Enter")
            await desk.locator(".msg.me .bubble", has_text=ANSWER).wait_for(timeout=STEP_MS)
            assert await command.input_value() == ""
            await desk.locator(".msg.bot .bubble", has_text=f"已回复：{number}").wait_for(timeout=STEP_MS)
            answer = phone.locator(".msg.status", has_text="【城市管理局】答复：路灯已于今天修复")
            await answer.wait_for(timeout=STEP_MS)
            assert ANSWER in await answer.inner_text()
            rating = phone.locator(".msg.rating", has_text=number)
            await rating.wait_for(timeout=STEP_MS)
            choices = await rating.locator(".choices button").all_inner_texts()
            assert choices == ["满意", "基本满意", "不满意"], choices
            lap("4 staff answers")

            # 5. The citizen taps 满意 and is thanked.
            await rating.get_by_role("button", name="满意", exact=True).click()
            await phone.locator(".msg.bot .bubble", has_text="感谢您的评价").wait_for(timeout=STEP_MS)
            for button in await rating.locator(".choices button").all():
                assert await button.is_disabled()
            lap("5 citizen rates")

            # Each push arrived exactly once (event ids deduplicate stream reconnects).
            for shown in ("已接单", "答复："):
                assert await phone.locator(".msg.status", has_text=shown).count() == 1, shown
            assert await phone.locator(".msg.status", has_text="已受理").count() == 0
            assert await phone.locator(".msg.rating").count() == 1
            assert await desk.locator(".msg.bot.status", has_text="【新问政】").count() == 1
            assert not await phone.locator(".meta.error").count()
            assert not await desk.locator(".meta.error").count()
            assert not problems, problems
            assert not refused, refused

            await phone.screenshot(path=str(citizen_shot))
            await desk.screenshot(path=str(staff_shot))
            lap("screenshots")
        finally:
            for context in contexts:
                await context.close()
            await browser.close()

    # The database agrees with what the pages showed: closed, rated 满意 once, by the answer's author.
    async with server.app[SERVICES].sessions() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
        assert ticket.status == "closed", ticket.status
        assert ticket.department_code == "urban"
        assert ticket.closed_at is not None
        ratings = list((await session.execute(select(Rating))).scalars())
        assert [(r.ticket_id, r.score) for r in ratings] == [(ticket.id, 1)]
        assert ratings[0].department_code == "urban"
        assert ratings[0].staff_id == ticket.answered_by_staff_id == ticket.assignee_staff_id
    timings["total"] = round(time.monotonic() - started, 2)
    print(f"timings: {timings}")
    print(f"screenshots: {citizen_shot} {staff_shot}")
