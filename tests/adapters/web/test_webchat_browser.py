"""The web chat page in a real headless Chromium, against the real app on a loopback port.

A citizen opens /chat, describes an issue in one message, taps 提交 on the summary and gets a
ticket number; the ticket is then looked up in the SQLite file the server wrote. Needs Debian's
Chromium at /usr/bin/chromium (skipped without it, except under CI=true) and the ``playwright``
package; no browser is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

import pytest
from aiohttp import web
from playwright.async_api import Page, Route, async_playwright

from adapters.base import ConversationRef, Outbound, Purpose
from adapters.web.webchat import COOKIE, WebchatChannel
from bot.app import SERVICES, build_app
from tests.adapters.conftest import CHROMIUM_ARGS, serve
from tests.app_helpers import make_config

pytestmark = pytest.mark.browser

TEST_SECONDS = 120
STEP_MS = 20_000
TICKET = re.compile(r"WZ\d{8}-\d{4}")
FIRST_MESSAGE = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"


class Served(NamedTuple):
    url: str
    db_path: Path
    app: web.Application


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Served]:
    """The real app on a free loopback port, served from this test's own event loop."""
    app = build_app(make_config(tmp_path))
    async with serve(app) as (url, _):
        yield Served(url, tmp_path / "wenzheng.db", app)


async def _bot_texts(page: Page) -> list[str]:
    return await page.locator(".msg.bot .bubble").all_inner_texts()


async def _wait_for_bot_count(page: Page, count: int) -> None:
    await page.wait_for_function("n => document.querySelectorAll('.msg.bot').length >= n", arg=count, timeout=STEP_MS)


async def test_citizen_files_an_inquiry_in_the_browser(chromium: str, server: Served) -> None:
    base_url, db_path = server.url, server.db_path
    screenshot = server.db_path.parent / "webchat-phone.png"  # in pytest's tmp_path, kept for a look
    async with asyncio.timeout(TEST_SECONDS), async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
            page = await context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            posted: list[str] = []
            page.on(
                "request",
                lambda req: posted.append(req.post_data or "") if req.url.endswith("/chat/api/messages") else None,
            )
            # The first attempt at the first message meets a busy server (503): the page must retry
            # it by itself, with the same client id, so the server can never file it twice.
            busy: list[str] = []

            async def busy_once(route: Route) -> None:
                if busy:
                    await route.continue_()
                    return
                busy.append(route.request.post_data or "")
                body = {"error": "unavailable", "message": {"zh": "系统繁忙", "en": "busy"}}
                await route.fulfill(status=503, json=body)

            await page.route("**/chat/api/messages", busy_once)
            try:
                await page.goto(f"{base_url}/chat", wait_until="domcontentloaded")

                # The page's own greeting, in Chinese, mentions the help command.
                greeting = page.locator(".msg.bot .bubble").first
                await greeting.wait_for(timeout=STEP_MS)
                assert "帮助" in await greeting.inner_text()
                assert await page.get_attribute("#log", "aria-live") == "polite"

                # The citizen types one rich message and presses Enter.
                box = page.get_by_role("textbox")
                await box.fill(FIRST_MESSAGE)
                await box.press("Enter")
                await page.locator(".msg.me .bubble", has_text=FIRST_MESSAGE).wait_for(timeout=STEP_MS)
                assert await box.input_value() == ""
                await page.locator(".msg.me .meta", has_text="重试").wait_for(timeout=STEP_MS)

                # The summary comes back with buttons under it.
                submit = page.locator(".msg.bot .choices button", has_text="提交").last
                try:
                    await submit.wait_for(timeout=STEP_MS)
                except Exception:
                    pytest.fail(f"no summary with a 提交 button; the bot said: {await _bot_texts(page)}")
                summary = page.locator(".msg.bot", has=page.locator(".choices button", has_text="提交")).last
                assert len(posted) == 2 and posted[0] == posted[1] == busy[0], posted
                assert json.loads(posted[0])["text"] == FIRST_MESSAGE
                await page.unroute("**/chat/api/messages")
                assert not await page.locator(".msg.me .meta:visible").count()
                summary_text = await summary.locator(".bubble").inner_text()
                assert "路灯" in summary_text, summary_text
                labels = await summary.locator(".choices button").all_inner_texts()
                assert {"提交", "修改"} <= set(labels), labels

                # Tapping 提交 twice sends one choice: the group is disabled at the first tap.
                bots_before = await page.locator(".msg.bot").count()
                sent_before = len(posted)
                await submit.dblclick()
                await _wait_for_bot_count(page, bots_before + 1)
                ticket_reply = page.locator(".msg.bot .bubble", has_text=TICKET).last
                await ticket_reply.wait_for(timeout=STEP_MS)
                await submit.click(force=True)  # a late tap on the used group: nothing happens
                await page.wait_for_timeout(500)
                assert len(posted) - sent_before == 1, posted[sent_before:]
                assert '"choice"' in posted[-1]
                assert await page.locator(".msg.me .bubble", has_text="提交").count() == 1
                for button in await summary.locator(".choices button").all():
                    assert await button.is_disabled()
                assert await submit.get_attribute("aria-pressed") == "true"

                match = TICKET.search(await ticket_reply.inner_text())
                assert match is not None
                number = match.group(0)
                assert await page.locator(".ticket-no", has_text=number).count() == 1
                assert not await page.locator(".meta.error").count()

                # A status update pushed later (as the outbox would) reaches the open page through
                # the event stream, and a reload does not show it again.
                webchat = server.app[SERVICES].webchat
                assert webchat is not None
                token = next(c["value"] for c in await context.cookies() if c["name"] == COOKIE)
                ref = ConversationRef("webchat", "web", WebchatChannel.chat_id_for(token))
                assigned = f"您的问政{number}已分派至市城市管理局办理。"
                push = Outbound(assigned, purpose=Purpose.STATUS, ticket_number=number)
                await webchat.send(ref, push, "browser-test-push-1")
                status = page.locator(".msg.status", has_text="已分派")
                await status.wait_for(timeout=STEP_MS)
                assert await status.count() == 1
                await page.screenshot(path=str(screenshot))
                await page.reload(wait_until="domcontentloaded")
                await page.locator(".msg.bot .bubble", has_text="帮助").wait_for(timeout=STEP_MS)
                await page.wait_for_timeout(1000)
                assert await page.locator(".msg.status").count() == 0
                unexpected = [p for p in problems if "status of 503" not in p]
                assert not unexpected, unexpected
            finally:
                await context.close()
        finally:
            await browser.close()

    # The ticket is really stored, with the details and the district, and its submission recorded.
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        rows = db.execute("SELECT id, number, details, district, status FROM tickets").fetchall()
        assert len(rows) == 1, rows
        ticket_id, stored_number, details, district, status = rows[0]
        assert stored_number == number
        assert "路灯" in details
        assert district == "市南区"
        assert status
        kinds = [k for (k,) in db.execute("SELECT kind FROM ticket_events WHERE ticket_id = ?", (ticket_id,))]
        assert "submitted" in kinds, kinds
    print(f"screenshot: {screenshot}")
