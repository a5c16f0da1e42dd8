"""The console over HTTP against the real app: sign-in and its cookie, CSRF refusals, the department
wall (pages, photos, actions), roles, sign-out, and that a button takes the chat command's path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import build_app
from bot.services import SERVICES
from storage.models import AuditEntry, ScorecardSnapshot, Ticket
from tests.adapters.web.console_helpers import (
    HANDLER,
    OTHER,
    SUPERVISOR,
    Seeded,
    console,
    console_config,
    csrf_of,
    seed,
    sign_in,
    stored_ticket,
)

__all__ = ["console"]  # a fixture, used by name
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


async def test_signed_out_visitors_are_sent_to_the_login_page(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    client, seeded = console
    answer = await client.get(f"/console/tickets/{seeded.numbers['lamp']}", allow_redirects=False)
    assert answer.status == 303
    assert answer.headers["Location"] == f"/console/login?next=%2Fconsole%2Ftickets%2F{seeded.numbers['lamp']}"
    bare = await client.get("/console", allow_redirects=False)
    assert bare.status == 308 and bare.headers["Location"] == "/console/"
    htmx = await client.get("/console/queue", headers={"HX-Request": "true"})
    assert htmx.status == 401 and htmx.headers["HX-Redirect"] == "/console/login"


async def test_sign_in_sets_a_strict_httponly_session_cookie_and_sign_out_ends_it(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    page = await client.get("/console/login")
    form_csrf = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
    answer = await client.post(
        "/console/login",
        data={"token": seeded.tokens[HANDLER] + "\n", "csrf": form_csrf, "next": "/console/tickets/x"},
        allow_redirects=False,
    )
    assert answer.status == 303 and answer.headers["Location"] == "/console/tickets/x"
    cookie = next(h for h in answer.headers.getall("Set-Cookie") if h.startswith("wz_console="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # served over http here; https public_url turns it on
    desk = await client.get("/console/")
    assert desk.status == 200
    body = await desk.text()
    assert HANDLER in body and seeded.numbers["lamp"] in body and seeded.numbers["smell"] in body
    assert seeded.numbers["bus"] not in body  # another department's

    csrf = await csrf_of(client)
    out = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    # The server ended the session: replaying the old cookie does not get back in.
    client.session.cookie_jar.update_cookies({"wz_console": cookie.split(";")[0].split("=", 1)[1]})
    again = await client.get("/console/", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"].startswith("/console/login")


async def test_a_bad_token_or_a_login_form_without_its_check_is_refused(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    page = await client.get("/console/login")
    form_csrf = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
    wrong = await client.post("/console/login", data={"token": "x" * 43, "csrf": form_csrf}, allow_redirects=False)
    assert wrong.status == 403
    assert "登录口令无效" in await wrong.text()
    forged = await client.post(
        "/console/login", data={"token": seeded.tokens[HANDLER], "csrf": "forged"}, allow_redirects=False
    )
    assert forged.status == 403
    assert "wz_console=" not in "".join(forged.headers.getall("Set-Cookie", []))


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    number = seeded.numbers["lamp"]
    for data in ({"verb": "claim"}, {"verb": "claim", "csrf": "0" * 64}):
        refused = await client.post(f"/console/tickets/{number}", data=data)
        assert refused.status == 403
        assert "安全校验" in await refused.text()
    assert (await stored_ticket(client, number)).status == "accepted"
    # The same request with the page's token, as htmx sends it (header), is done.
    csrf = await csrf_of(client)
    done = await client.post(f"/console/tickets/{number}", data={"verb": "claim"}, headers={"X-CSRF-Token": csrf})
    assert done.status == 200
    assert f"已接单：{number}" in await done.text()
    ticket = await stored_ticket(client, number)
    assert ticket.status == "assigned" and ticket.assignee_staff_id is not None


async def test_another_departments_ticket_and_photo_are_forbidden_and_audited(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[OTHER])  # 李四, transport
    number = seeded.numbers["lamp"]  # urban
    page = await client.get(f"/console/tickets/{number}")
    assert page.status == 403
    assert "不属于本部门" in await page.text()
    photo = await client.get(f"/console/tickets/{number}/media/0")
    assert photo.status == 403
    csrf = await csrf_of(client)
    act = await client.post(f"/console/tickets/{number}", data={"verb": "claim", "csrf": csrf})
    assert act.status == 403
    assert (await stored_ticket(client, number)).status == "accepted"
    async with client.app[SERVICES].sessions() as session:
        refusals = (await session.execute(select(AuditEntry).where(AuditEntry.allowed.is_(False)))).scalars().all()
    assert sorted(r.action for r in refusals) == ["claim", "photo", "show"]
    own = await client.get(f"/console/tickets/{seeded.numbers['bus']}")
    assert own.status == 200


async def test_the_ticket_page_tells_the_story_in_words_and_refusals_are_shown(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    number = seeded.numbers["lamp"]
    page = await (await client.get(f"/console/tickets/{number}")).text()
    assert "香港中路的路灯坏了" in page and "13912345678" in page and "市南区" in page
    assert "提交了问政" in page and "分派给 城市管理局" in page
    assert "citizen:" not in page and "staff:" not in page
    csrf = await csrf_of(client)
    # Closing an unanswered ticket: the lifecycle refuses, the page says so in words.
    closed = await (await client.post(f"/console/tickets/{number}", data={"verb": "close", "csrf": csrf})).text()
    assert "未执行" in closed
    # A transfer needs a reason.
    no_reason = await client.post(
        f"/console/tickets/{number}", data={"verb": "transfer", "argument": "transport", "csrf": csrf}
    )
    assert "请填写原因" in await no_reason.text()
    assert (await stored_ticket(client, number)).department_code == "urban"
    # A note shows up in the thread with who wrote it.
    noted = await client.post(f"/console/tickets/{number}", data={"verb": "note", "text": "已联系环卫", "csrf": csrf})
    assert f"{HANDLER}" in await noted.text() and "内部备注：已联系环卫" in await noted.text()


async def test_only_supervisors_see_the_scorecard_and_failed_pushes(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    assert (await client.get("/console/scorecard")).status == 403
    assert (await client.get("/console/pushes")).status == 403
    assert (await client.get("/console/scorecard.csv")).status == 403
    await sign_in(client, seeded.tokens[SUPERVISOR])
    card = await client.get("/console/scorecard")
    assert card.status == 200
    assert "按时办结率" in await card.text()
    csv = await client.get("/console/scorecard.csv")
    assert csv.status == 200 and csv.headers["Content-Disposition"].startswith("attachment")
    xlsx = await client.get("/console/scorecard.xlsx")
    assert (await xlsx.read())[:2] == b"PK"
    assert (await client.get("/console/pushes")).status == 200


async def test_the_language_switch_and_filters(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    switched = await client.get("/console/language?to=en&next=/console/", allow_redirects=False)
    assert switched.status == 303 and switched.headers["Location"] == "/console/"
    evil = await client.get("/console/language?to=en&next=//evil.example/", allow_redirects=False)
    assert evil.headers["Location"] == "/console"
    desk = await (await client.get("/console/")).text()
    assert "Sign out" in desk and "Due within 4 h" in desk
    searched = await (await client.get("/console/queue", params={"q": "路灯"})).text()
    assert seeded.numbers["lamp"] in searched and seeded.numbers["smell"] not in searched
    by_phone = await (await client.get("/console/queue", params={"q": "139 1234 5678"})).text()
    assert seeded.numbers["lamp"] in by_phone and seeded.numbers["smell"] not in by_phone
    overdue = await (await client.get("/console/queue", params={"overdue": "1"})).text()
    assert seeded.numbers["smell"] in overdue and seeded.numbers["lamp"] not in overdue


async def test_saved_views_belong_to_their_owner(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    csrf = await csrf_of(client)
    saved = await client.post(
        "/console/views", data={"csrf": csrf, "name": "超期的", "query": "overdue=1"}, allow_redirects=False
    )
    assert saved.status == 303 and saved.headers["Location"] == "/console/?overdue=1"
    desk = await (await client.get("/console/")).text()
    assert '<a href="/console/?overdue=1">超期的</a>' in desk
    view_id = desk.split('action="/console/views/')[1].split("/")[0]
    # Someone else cannot delete it, and does not see it.
    await sign_in(client, seeded.tokens[SUPERVISOR])
    other_csrf = await csrf_of(client)
    await client.post(f"/console/views/{view_id}/delete", data={"csrf": other_csrf})
    assert "超期的" not in await (await client.get("/console/")).text()
    await sign_in(client, seeded.tokens[HANDLER])
    assert "超期的" in await (await client.get("/console/")).text()
    csrf = await csrf_of(client)
    await client.post(f"/console/views/{view_id}/delete", data={"csrf": csrf})
    assert "超期的" not in await (await client.get("/console/")).text()


async def test_a_duplicate_links_only_to_an_open_ticket_found_by_search(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    lamp, smell = seeded.numbers["lamp"], seeded.numbers["smell"]
    found = await (await client.get(f"/console/tickets/{lamp}/originals", params={"argument": "垃圾"})).text()
    assert smell in found and lamp not in found
    csrf = await csrf_of(client)
    rejected = await client.post(
        f"/console/tickets/{smell}", data={"verb": "reject", "text": "不属于受理范围", "csrf": csrf}
    )
    assert "不予受理" in await rejected.text()
    found = await (await client.get(f"/console/tickets/{lamp}/originals", params={"argument": "垃圾"})).text()
    assert smell not in found  # no longer open: not offered
    refused = await client.post(f"/console/tickets/{lamp}", data={"verb": "duplicate", "argument": smell, "csrf": csrf})
    assert "未执行" in await refused.text()
    assert (await stored_ticket(client, lamp)).status == "accepted"


async def test_assign_to_a_colleague_from_the_ticket_and_in_bulk(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[SUPERVISOR])
    lamp, smell = seeded.numbers["lamp"], seeded.numbers["smell"]
    async with client.app[SERVICES].sessions() as session:
        handler = await client.app[SERVICES].workflow.staff.by_name(session, HANDLER)
        other = await client.app[SERVICES].workflow.staff.by_name(session, OTHER)
    assert handler is not None and other is not None
    csrf = await csrf_of(client)
    # Not a colleague of the ticket's department: refused in words, nothing changes.
    refused = await client.post(
        f"/console/tickets/{lamp}", data={"verb": "assign", "argument": str(other.id), "csrf": csrf}
    )
    assert "未执行" in await refused.text()
    assert (await stored_ticket(client, lamp)).assignee_staff_id is None
    done = await client.post(
        f"/console/tickets/{lamp}", data={"verb": "assign", "argument": str(handler.id), "csrf": csrf}
    )
    page = await done.text()
    assert f"分派给 {HANDLER}" in page
    assert (await stored_ticket(client, lamp)).assignee_staff_id == handler.id
    bulk = await client.post(
        "/console/bulk?scope=department",
        data={"number": [smell, seeded.numbers["bus"]], "action": "assign", "colleague": str(handler.id)},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    text = await bulk.text()
    assert "1 件已处理，1 件被拒绝" in text  # the bus ticket is 交通运输局's
    assert (await stored_ticket(client, smell)).assignee_staff_id == handler.id
    assert (await stored_ticket(client, seeded.numbers["bus"])).assignee_staff_id is None


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


async def test_a_stored_photo_is_served_to_the_department_only(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    """The ticket holds a web-chat upload (as the web chat stores it: a content hash under media_dir)
    and a Telegram photo (kept on Telegram): the first is shown through the console, the second named."""
    client, seeded = console
    services = client.app[SERVICES]
    name = "0123456789abcdef0123456789abcdef.png"
    media_dir = Path(services.config.storage.media_dir)
    media_dir.mkdir(parents=True, exist_ok=True)
    (media_dir / name).write_bytes(PNG)
    number = seeded.numbers["lamp"]
    async with services.sessions.begin() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
        ticket.media = [
            {"kind": "image", "ref": f"webchat:{name}", "url": None},
            {"kind": "image", "ref": "telegram:AgAD"},
        ]
    await sign_in(client, seeded.tokens[HANDLER])
    page = await (await client.get(f"/console/tickets/{number}")).text()
    assert f'src="/console/tickets/{number}/media/0"' in page
    assert "照片保存在telegram平台" in page
    photo = await client.get(f"/console/tickets/{number}/media/0")
    assert photo.status == 200 and photo.headers["Content-Type"] == "image/png"
    assert photo.headers["Cache-Control"] == "private, no-store"
    assert await photo.read() == PNG
    assert (await client.get(f"/console/tickets/{number}/media/1")).status == 404  # not stored here
    assert (await client.get(f"/console/tickets/{number}/media/9")).status == 404
    client.session.cookie_jar.clear()
    signed_out = await client.get(f"/console/tickets/{number}/media/0", allow_redirects=False)
    assert signed_out.status == 303  # to the login page, never the picture
    await sign_in(client, seeded.tokens[OTHER])
    assert (await client.get(f"/console/tickets/{number}/media/0")).status == 403


async def test_extending_is_for_supervisors_and_the_place_has_a_map_link(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    number = seeded.numbers["lamp"]
    async with client.app[SERVICES].sessions.begin() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
        ticket.lat, ticket.lon = 36.06, 120.38
        old_due = ticket.answer_due_at
    await sign_in(client, seeded.tokens[HANDLER])
    page = await (await client.get(f"/console/tickets/{number}")).text()
    assert "mlat=36.06000&amp;mlon=120.38000" in page and "市南区 香港中路" in page
    assert 'value="extend"' not in page  # no extend form for a handler
    csrf = await csrf_of(client)
    new_day = (old_due + timedelta(days=10)).date().isoformat()
    refused = await client.post(
        f"/console/tickets/{number}", data={"verb": "extend", "argument": new_day, "text": "协调", "csrf": csrf}
    )
    assert "未执行" in await refused.text()
    await sign_in(client, seeded.tokens[SUPERVISOR])
    page = await (await client.get(f"/console/tickets/{number}")).text()
    assert 'value="extend"' in page
    csrf = await csrf_of(client)
    done = await client.post(
        f"/console/tickets/{number}",
        data={"verb": "extend", "argument": new_day, "text": "需协调供电公司", "csrf": csrf},
    )
    assert "未执行" not in await done.text() and "需协调供电公司" in await done.text()
    assert (await stored_ticket(client, number)).answer_due_at > old_due


async def test_failed_sign_ins_are_throttled(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    client, _ = console
    limit = client.app[SERVICES].config.server.staff_login_failures
    statuses = []
    for _ in range(limit + 1):
        page = await client.get("/console/login")
        form_csrf = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
        answer = await client.post("/console/login", data={"token": "y" * 43, "csrf": form_csrf})
        statuses.append(answer.status)
    assert statuses == [403] * limit + [429]
    assert "登录尝试次数过多" in await answer.text() and int(answer.headers["Retry-After"]) > 0


async def test_the_cookie_is_secure_behind_https(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    config = console_config(tmp_path)
    config = config.model_copy(
        update={"server": config.server.model_copy(update={"public_url": "https://wenzheng.example.gov.cn"})}
    )
    app = build_app(config, run_workers=False)
    client = await aiohttp_client(app)
    seeded = await seed(app)
    page = await client.get("/console/login")
    form_csrf = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
    pre = next(h for h in page.headers.getall("Set-Cookie") if h.startswith("wz_console_pre="))
    assert "Secure" in pre
    # The test client speaks http, so it will not send a Secure cookie back: hand it over.
    client.session.cookie_jar.update_cookies({"wz_console_pre": pre.split(";")[0].split("=", 1)[1]})
    answer = await client.post(
        "/console/login", data={"token": seeded.tokens[HANDLER], "csrf": form_csrf}, allow_redirects=False
    )
    assert answer.status == 303
    cookie = next(h for h in answer.headers.getall("Set-Cookie") if h.startswith("wz_console="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_bulk_claim_without_htmx_goes_back_to_the_same_desk(console: tuple[TestClient[Any, Any], Seeded]) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    csrf = await csrf_of(client)
    answer = await client.post(
        "/console/bulk?scope=unassigned&q=%E8%B7%AF%E7%81%AF",
        data={"number": [seeded.numbers["lamp"]], "action": "claim", "csrf": csrf},
        allow_redirects=False,
    )
    assert answer.status == 303
    assert answer.headers["Location"] == "/console/?scope=unassigned&q=%E8%B7%AF%E7%81%AF"
    assert (await stored_ticket(client, seeded.numbers["lamp"])).status == "assigned"


async def test_the_scorecard_of_this_month_is_a_snapshot_with_its_time_and_a_refresh(
    console: tuple[TestClient[Any, Any], Seeded],
) -> None:
    client, seeded = console
    services = client.app[SERVICES]
    await sign_in(client, seeded.tokens[SUPERVISOR])
    page = await (await client.get("/console/scorecard?by=department")).text()
    async with services.sessions() as session:
        first = (await session.execute(select(ScorecardSnapshot))).scalars().all()
    assert [(s.grouping, s.period_start.day) for s in first] == [("department", 1)]
    shown = first[0].computed_at.astimezone(services.workflow.tz).strftime("%Y-%m-%d %H:%M")
    assert f"统计截至 {shown}" in page and "立即更新" in page
    ranged = await (await client.get("/console/scorecard?from=2020-01-01&to=2020-01-31")).text()
    assert "统计截至" not in ranged  # a period without a snapshot is counted on request
    csrf = await csrf_of(client, "/console/scorecard")
    month = first[0].period_start.strftime("%Y-%m")
    refreshed = await client.post(
        "/console/scorecard/refresh",
        data={"csrf": csrf, "by": "department", "month": month},
        allow_redirects=False,
    )
    assert refreshed.status == 303
    assert refreshed.headers["Location"] == f"/console/scorecard?by=department&month={month}"
    async with services.sessions() as session:
        again = (await session.execute(select(ScorecardSnapshot))).scalars().one()
    assert again.computed_at > first[0].computed_at
    assert (await client.post("/console/scorecard/refresh", data={"by": "department"})).status == 403  # no CSRF
    await sign_in(client, seeded.tokens[HANDLER])
    assert (await client.post("/console/scorecard/refresh", data={"csrf": await csrf_of(client)})).status == 403
