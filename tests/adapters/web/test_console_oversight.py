"""The console's pages for issue #16 over HTTP against the real app: 督办 (list and 解除督办), hot
topics, suggested duplicates with 关联 / 取消关联 on the ticket page, and the scorecard's counts.

The seeded "smell" ticket (urban, filed 30 h ago, never claimed) got its 黄牌 when its respond
deadline passed (the seeding fires the timers as the worker would); "lamp" and "bus" are fresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.services import SERVICES
from storage.models import AuditEntry, EscalationStep, Staff, TicketLink
from tests.adapters.web.console_helpers import (
    HANDLER,
    OTHER,
    SUPERVISOR,
    Seeded,
    console,
    csrf_of,
    sign_in,
    stored_ticket,
)
from tickets.console.seeding import Filing, Script

__all__ = ["console"]  # a fixture, used by name
ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
Client = TestClient[Any, Any]


async def _audit(client: Client, action: str) -> list[AuditEntry]:
    async with client.app[SERVICES].sessions() as session:
        stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await session.execute(stmt)).scalars())


# --- 督办 ------------------------------------------------------------------------------------------


async def test_the_supervision_page_is_for_supervisors_and_lists_the_cards(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    smell = seeded.numbers["smell"]
    await sign_in(client, seeded.tokens[HANDLER])
    assert "/console/supervision" not in await (await client.get("/console/")).text()  # no link for a handler
    refused = await client.get("/console/supervision")
    assert refused.status == 403 and "仅限主管" in await refused.text()
    assert [e.allowed for e in await _audit(client, "supervised")] == [False]

    await sign_in(client, seeded.tokens[SUPERVISOR])
    assert 'href="/console/supervision"' in await (await client.get("/console/")).text()
    page = await client.get("/console/supervision")
    body = await page.text()
    assert page.status == 200
    row = body.split(f'data-number="{smell}"')[1].split("</tr>")[0]
    assert "黄牌" in row and "超过响应期限仍未接单" in row  # the rung and why
    assert f'href="/console/tickets/{smell}"' in row
    async with client.app[SERVICES].sessions() as session:
        card = (await session.execute(select(EscalationStep).where(EscalationStep.step == "yellow"))).scalar_one()
    since = card.created_at.astimezone(client.app[SERVICES].workflow.tz).strftime("%Y-%m-%d %H:%M")
    assert since in row  # since when
    assert seeded.numbers["lamp"] not in body and seeded.numbers["bus"] not in body
    assert [e.allowed for e in await _audit(client, "supervised")] == [False, True]  # looking is audited
    await client.get("/console/language?to=en&next=/console/")
    english = await (await client.get("/console/supervision")).text()
    assert "Under supervision" in english and "Yellow card" in english and "Clear" in english


async def test_clearing_needs_a_reason_and_csrf_and_goes_through_the_chat_command(
    console: tuple[Client, Seeded],
) -> None:
    client, seeded = console
    smell = seeded.numbers["smell"]
    path = f"/console/supervision/{smell}/clear"
    await sign_in(client, seeded.tokens[SUPERVISOR])
    forged = await client.post(path, data={"reason": "已处理"})
    assert forged.status == 403 and (await stored_ticket(client, smell)).escalation_level == 1
    csrf = await csrf_of(client, "/console/supervision")
    empty = await client.post(path, data={"reason": "   ", "csrf": csrf})
    text = await empty.text()
    assert empty.status == 200 and "未执行：请填写解除督办的原因。" in text
    assert (await stored_ticket(client, smell)).escalation_level == 1

    # 李四 of another department tries a ticket that is not his: the desk refuses it, in words.
    other = await client.post(f"/console/supervision/{seeded.numbers['bus']}/clear", data={"reason": "x", "csrf": csrf})
    assert "不属于您的部门" in await other.text()

    done = await client.post(path, data={"reason": "已约谈承办人，今天签收", "csrf": csrf})
    page = await done.text()
    assert done.status == 200 and f"已解除督办：{smell}" in page
    assert "目前没有督办中的问政。" in page  # the list is empty now
    ticket = await stored_ticket(client, smell)
    assert (ticket.escalation_level, ticket.escalated) == (0, False)
    async with client.app[SERVICES].sessions() as session:
        steps = (await session.execute(select(EscalationStep).order_by(EscalationStep.id))).scalars().all()
    assert steps[-1].step == "cleared" and steps[-1].reason == "已约谈承办人，今天签收"
    assert [e.allowed for e in await _audit(client, "supervision_cleared")] == [True]
    thread = await (await client.get(f"/console/tickets/{smell}")).text()
    assert "解除督办，原因：已约谈承办人，今天签收" in thread and "督办（超过签收时限）" in thread


async def test_a_handler_cannot_clear_and_the_refusal_is_audited(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    smell = seeded.numbers["smell"]
    await sign_in(client, seeded.tokens[HANDLER])
    page = await (await client.get(f"/console/tickets/{smell}")).text()
    assert "黄牌" in page and 'value="unsupervise"' not in page  # shown, but no form for a handler
    csrf = await csrf_of(client)
    answer = await client.post(f"/console/supervision/{smell}/clear", data={"reason": "我来处理", "csrf": csrf})
    assert answer.status == 403
    assert (await stored_ticket(client, smell)).escalation_level == 1
    assert [(e.allowed, e.detail) for e in await _audit(client, "unsupervise")] == [
        (False, {"why": "supervision_clear_supervisors_only"})
    ]
    # The ticket page's form is the same command: a supervisor may, with a reason.
    await sign_in(client, seeded.tokens[SUPERVISOR])
    assert 'value="unsupervise"' in await (await client.get(f"/console/tickets/{smell}")).text()
    csrf = await csrf_of(client)
    bare = await client.post(f"/console/tickets/{smell}", data={"verb": "unsupervise", "csrf": csrf})
    assert "请填写原因" in await bare.text()
    done = await client.post(f"/console/tickets/{smell}", data={"verb": "unsupervise", "text": "已签收", "csrf": csrf})
    assert "已解除督办" in await done.text()
    assert (await stored_ticket(client, smell)).escalation_level == 0


# --- hot topics ------------------------------------------------------------------------------------


async def _store_run(client: Client, topics: list[dict[str, object]]) -> None:
    """A finished daily run with these rows, stored as ``tickets.hot_run`` stores one."""
    services = client.app[SERVICES]
    repo = services.workflow.hot_topics
    now = datetime.now(UTC)
    day = now.astimezone(services.workflow.tz).date()
    async with services.sessions.begin() as session:
        await repo.claim_run(session, day, now, stale=timedelta(hours=1))
        await repo.replace_day(session, day, topics, now)
        await repo.finish_run(session, day, now, tickets=40, topics=len(topics), seconds=0.1)


def _topic(rank: int, words: list[str], numbers: list[str], district: str | None = None) -> dict[str, object]:
    return {
        "city": "青岛市",
        "district": district,
        "rank": rank,
        "label": "·".join(words[:3]),
        "words": words,
        "recent": len(numbers),
        "baseline": 1,
        "growth": 3.5,
        "citizens": len(numbers),
        "districts": {"市南区": len(numbers) - 1, "崂山区": 1} if district is None else {district: len(numbers)},
        "numbers": numbers,
    }


async def test_the_hot_page_shows_the_latest_run_or_says_there_is_none(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    await sign_in(client, seeded.tokens[HANDLER])
    assert (await client.get("/console/hot")).status == 403
    await sign_in(client, seeded.tokens[SUPERVISOR])
    empty = await (await client.get("/console/hot")).text()
    assert "今日暂无热点" in empty and "热点分析尚未运行" in empty

    await _store_run(client, [])
    ran_empty = await (await client.get("/console/hot")).text()
    assert "今日暂无热点" in ran_empty and "热点分析尚未运行" not in ran_empty

    lamp, smell, bus = seeded.numbers["lamp"], seeded.numbers["smell"], seeded.numbers["bus"]
    many = [lamp, *(f"WZ20261201-{i:04d}" for i in range(1, 20))]
    await _store_run(
        client,
        [_topic(1, ["路灯", "不亮", "香港中路"], many), _topic(2, ["垃圾站", "臭味"], [smell, bus], district="市南区")],
    )
    page = await (await client.get("/console/hot")).text()
    assert "今日暂无热点" not in page
    city_wide, district = page.split("仅 市南区 上升")
    assert "全市" in city_wide and "路灯 · 不亮 · 香港中路" in city_wide
    assert "20 件" in city_wide and "增长 3.5 倍（此前 1 件）" in city_wide and "市南区 19、崂山区 1" in city_wide
    assert f'href="/console/tickets/{lamp}"' in city_wide and "另 8 件" in city_wide  # 12 shown, the rest folded
    assert "垃圾站 · 臭味" in district and f'href="/console/tickets/{bus}"' in district
    await client.get("/console/language?to=en&next=/console/")
    english = await (await client.get("/console/hot")).text()
    assert "Hot topics" in english and "growth ×3.5 (1 before)" in english and "Rising in 市南区 only" in english


async def test_subscribing_to_the_digest_from_the_hot_page(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    repo = client.app[SERVICES].workflow.hot_topics
    await sign_in(client, seeded.tokens[SUPERVISOR])
    assert (await client.post("/console/hot/subscription", data={"action": "subscribe"})).status == 403  # no CSRF
    csrf = await csrf_of(client, "/console/hot")
    done = await (await client.post("/console/hot/subscription", data={"action": "subscribe", "csrf": csrf})).text()
    assert "已订阅热点日报" in done and 'value="unsubscribe"' in done
    async with client.app[SERVICES].sessions() as session:
        boss = (await session.execute(select(Staff).where(Staff.name == SUPERVISOR))).scalar_one()
        assert await repo.subscribers(session) == [boss.id]
    gone = await (await client.post("/console/hot/subscription", data={"action": "unsubscribe", "csrf": csrf})).text()
    assert "已退订热点日报" in gone
    await sign_in(client, seeded.tokens[HANDLER])
    refused = await client.post(
        "/console/hot/subscription", data={"action": "subscribe", "csrf": await csrf_of(client)}
    )
    assert refused.status == 403
    async with client.app[SERVICES].sessions() as session:
        assert await repo.subscribers(session) == []
    assert [e.allowed for e in await _audit(client, "subscribe_hot")] == [True, False]


# --- duplicates on the ticket page -----------------------------------------------------------------


async def _file_again(client: Client) -> str:
    """Another citizen reports the seeded street lamp at the same named place."""
    services = client.app[SERVICES]
    script = Script(flow=services.workflow, sessions=services.sessions)
    script.file(
        "again",
        datetime.now(UTC) - timedelta(minutes=30),
        Filing(
            citizen="c-again", topic_code="urban", district="市南区", address="香港中路",
            details="香港中路的路灯坏了好几天了，晚上走路很危险",
        ),
    )  # fmt: skip
    return (await script.run(datetime.now(UTC)))["again"]


async def test_suggested_duplicates_link_and_unlink_through_the_chat_verbs(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    lamp = seeded.numbers["lamp"]
    again = await _file_again(client)
    await sign_in(client, seeded.tokens[HANDLER])
    page = await (await client.get(f"/console/tickets/{again}")).text()
    section = page.split('id="duplicates"')[1].split("</section>")[0]
    suggestion = section.split(f'data-number="{lamp}"')[1].split("</li>")[0]
    assert "相似度 0." in suggestion and "同一地点" in suggestion and "路灯" in suggestion
    assert 'name="verb" value="link"' in suggestion and f'name="argument" value="{lamp}"' in suggestion

    csrf = await csrf_of(client)
    forged = await client.post(f"/console/tickets/{again}", data={"verb": "link", "argument": lamp})
    assert forged.status == 403 and (await stored_ticket(client, again)).status == "accepted"
    linked = await (
        await client.post(f"/console/tickets/{again}", data={"verb": "link", "argument": lamp, "csrf": csrf})
    ).text()
    assert "本件已关联到原工单" in linked and f'href="/console/tickets/{lamp}"' in linked
    assert 'value="unlink"' in linked and "关联到 " + lamp in linked  # the thread says it in words
    ticket = await stored_ticket(client, again)
    assert (ticket.status, ticket.duplicate_of) == ("duplicate", lamp)
    original = await (await client.get(f"/console/tickets/{lamp}")).text()
    assert "关联到本件的工单" in original and again in original.split("关联到本件的工单")[1]
    assert [e.detail for e in await _audit(client, "link")] == [{"original": lamp}]

    # 李四 (交通运输局) may not unlink urban's ticket: refused before anything happens.
    await sign_in(client, seeded.tokens[OTHER])
    other = await client.post(f"/console/tickets/{again}", data={"verb": "unlink", "csrf": await csrf_of(client)})
    assert other.status == 403 and (await stored_ticket(client, again)).status == "duplicate"

    await sign_in(client, seeded.tokens[HANDLER])
    unlinked = await (
        await client.post(f"/console/tickets/{again}", data={"verb": "unlink", "csrf": await csrf_of(client)})
    ).text()
    assert "已取消关联" in unlinked and "本件已关联到原工单" not in unlinked
    assert f'data-number="{lamp}"' in unlinked  # suggested again, to link once more if wanted
    ticket = await stored_ticket(client, again)
    assert (ticket.status, ticket.duplicate_of) == ("accepted", None)
    async with client.app[SERVICES].sessions() as session:
        assert (await session.get(TicketLink, ticket.id)) is None


async def test_an_answered_suggestion_is_shown_but_cannot_be_linked(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    lamp = seeded.numbers["lamp"]
    again = await _file_again(client)
    await sign_in(client, seeded.tokens[HANDLER])
    csrf = await csrf_of(client)
    await client.post(f"/console/tickets/{lamp}", data={"verb": "claim", "csrf": csrf})
    await client.post(f"/console/tickets/{lamp}", data={"verb": "reply", "text": "已修复", "csrf": csrf})
    assert (await stored_ticket(client, lamp)).status == "answered"
    page = await (await client.get(f"/console/tickets/{again}")).text()
    suggestion = page.split('id="duplicates"')[1].split(f'data-number="{lamp}"')[1].split("</li>")[0]
    assert "已答复" in suggestion and "不能关联" in suggestion and 'value="link"' not in suggestion
    refused = await client.post(f"/console/tickets/{again}", data={"verb": "link", "argument": lamp, "csrf": csrf})
    assert "未执行" in await refused.text() and (await stored_ticket(client, again)).status == "accepted"


# --- the scorecard's counts ------------------------------------------------------------------------


async def test_the_scorecard_shows_the_counts_and_lists_the_tickets_behind_them(console: tuple[Client, Seeded]) -> None:
    client, seeded = console
    smell = seeded.numbers["smell"]
    await sign_in(client, seeded.tokens[SUPERVISOR])
    this_month = await (await client.get("/console/scorecard")).text()
    for words in ("重复诉求", "提醒", "黄牌", "红牌", "催办", "指标口径", "解除督办后仍计入"):
        assert words in this_month, words
    today = datetime.now(UTC).date()
    period = {"from": (today - timedelta(days=3)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    ranged = await (await client.get("/console/scorecard?" + urlencode({"by": "department", **period}))).text()
    urban = ranged.split("城市管理局</th>")[1].split("</tr>")[0]
    yellow = urban.split('data-tally="yellow_cards"')[1].split("</td>")[0]
    assert ">1</a>" in yellow  # smell's 黄牌
    link = yellow.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert "tally=yellow_cards" in link and "key=urban" in link
    desk = await (await client.get(link)).text()
    assert f'data-number="{smell}"' in desk and seeded.numbers["lamp"] not in desk
    nothing = await (await client.get(link.replace("yellow_cards", "repeat_requests"))).text()
    assert "没有符合条件的工单" in nothing
    # Clearing the card takes nothing back from the count.
    await client.post(f"/console/supervision/{smell}/clear", data={"reason": "已签收", "csrf": await csrf_of(client)})
    again = await (await client.get("/console/scorecard?" + urlencode({"by": "department", **period}))).text()
    assert ">1</a>" in again.split("城市管理局</th>")[1].split('data-tally="yellow_cards"')[1].split("</td>")[0]
