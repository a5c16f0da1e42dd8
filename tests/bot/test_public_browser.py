"""/public in Debian's headless Chromium on a phone-sized screen: no consented item shows anything
the masker hides, no unconsented or unanswered item appears, search and the language switch work,
and the page loads nothing from anywhere but this server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.adapters.conftest import CHROMIUM_ARGS
from tests.adapters.conftest import chromium as chromium  # Debian's Chromium or a skip (never on CI)
from tests.bot.public_world import SECRETS, published_world
from tests.tickets.test_workflow import World
from tests.tickets.test_workflow import world as world

pytestmark = pytest.mark.browser

STEP_MS = 20_000


async def test_public_page_in_a_phone_browser(chromium: str, world: World, tmp_path: Path) -> None:
    numbers, _ = await published_world(world)
    base = str(world.server.make_url("/public"))
    origin = base.removesuffix("/public")
    async with asyncio.timeout(120), async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
            )
            page = await context.new_page()
            requested: list[str] = []
            page.on("request", lambda req: requested.append(req.url))
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            await page.goto(base, timeout=STEP_MS)
            shown = await page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.number)")
            assert sorted(shown) == sorted([numbers["shown"], numbers["other"]])
            visible = await page.locator("body").inner_text()
            source = await page.content()
            for secret in SECRETS:
                assert secret not in visible and secret not in source, secret
            for absent in (numbers["pending"], numbers["private"], "李建国", "13600002222", "鲁B12345"):
                assert absent not in source, absent
            assert "某某" in visible and "【电话】" in visible and "香港中路" in visible
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390  # nothing wider than the phone
            await page.screenshot(path=str(tmp_path / "public-phone.png"), full_page=True)

            await page.fill("input[name=q]", "路灯")
            await page.click("button[type=submit]")
            await page.wait_for_url("**/public?*q=*", timeout=STEP_MS)
            found = await page.locator("article.item").evaluate_all("els => els.map(e => e.dataset.number)")
            assert found == [numbers["shown"]]

            await page.click("a.lang")
            await page.wait_for_url("**lang=en**", timeout=STEP_MS)
            english = await page.locator("body").inner_text()
            assert "Public results" in english and numbers["shown"] in english
            for secret in SECRETS:
                assert secret not in english, secret
            assert all(url.startswith(origin) for url in requested), requested  # vendored only, no CDN
            assert problems == []
        finally:
            await browser.close()
