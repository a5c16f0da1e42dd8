"""The README's console pictures (docs/console-*.png), taken with Playwright in Debian's Chromium
from a server running on `wenzheng demo` data:

    .venv/bin/wenzheng demo > /tmp/demo.txt && scripts/serve --port 8931 &
    .venv/bin/python scripts/console_screenshots.py http://127.0.0.1:8931 /tmp/demo.txt

It signs in as the 城市管理局 supervisor (from the demo's token table) and shows the desk, the open
ticket with the longest history, and the month's scorecard. Needs a CJK font (fonts-wqy-microhei).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from playwright.async_api import BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DOCS = Path(__file__).resolve().parents[1] / "docs"


def token_of(demo_output: Path, department: str, role: str) -> str:
    for line in demo_output.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1:3] == [department, role]:
            return parts[3]
    raise SystemExit(f"no {role} of {department} in {demo_output}")


async def sign_in(context: BrowserContext, url: str, token: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{url}/console/")
    await page.get_by_label("登录口令").fill(token)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/console/")
    return page


async def main(url: str, demo_output: Path) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = await sign_in(context, url, token_of(demo_output, "urban", "supervisor"))
        await page.screenshot(path=str(DOCS / "console-desk.png"))
        numbers = await page.locator("tr.ticket").evaluate_all("rs => rs.map(r => r.dataset.number)")
        longest, lines = numbers[0], 0
        for number in numbers[:40]:
            await page.goto(f"{url}/console/tickets/{number}")
            count = await page.locator("ol.thread li").count()
            if count > lines:
                longest, lines = number, count
        await page.goto(f"{url}/console/tickets/{longest}")
        await page.screenshot(path=str(DOCS / "console-ticket.png"), full_page=True)
        await page.goto(f"{url}/console/scorecard")
        await page.screenshot(path=str(DOCS / "console-scorecard.png"), full_page=True)
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/"), Path(sys.argv[2])))
