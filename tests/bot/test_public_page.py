"""/public on the real app: only consented, answered, unhidden inquiries, masked; searchable;
consent withdrawn and staff hiding take effect; cached in memory and over HTTP; zh and en."""

from __future__ import annotations

from sqlalchemy import select

from bot.public_web import CACHE_SECONDS
from storage.models import AuditEntry, Ticket
from tests.bot.public_world import SECRETS, answer, file_inquiry, published_world
from tests.tickets.test_workflow import CHAT, DESK, World
from tests.tickets.test_workflow import world as world  # the real app with staff

PAGE = "/public"


async def _page(world: World, query: str = "") -> str:
    client = await world.factory(world.server)
    response = await client.get(PAGE + query)
    assert response.status == 200
    return await response.text()


async def test_only_consented_answered_items_appear_masked(world: World) -> None:
    numbers, _ = await published_world(world)
    async with world.services.sessions() as session:
        consent = dict((await session.execute(select(Ticket.number, Ticket.public_consent))).all())
    assert consent == {
        numbers["shown"]: True,
        numbers["pending"]: True,
        numbers["private"]: False,
        numbers["other"]: True,
    }
    html = await _page(world)
    assert numbers["shown"] in html and numbers["other"] in html
    assert numbers["pending"] not in html  # consented, not answered yet
    assert numbers["private"] not in html and "李建国" not in html
    for secret in SECRETS:
        assert secret not in html, secret
    assert "香港中路" in html and "路灯坏了一个星期了" in html  # the street and the substance stay
    assert "某某" in html and "【电话】" in html and "【门牌】" in html
    assert "鲁B12345" not in html and "【车牌】" in html
    assert "满意" in html and "城市管理局" in html  # the rating and the answering department
    assert html.index(numbers["other"]) < html.index(numbers["shown"])  # newest answer first


async def test_search_by_words_topic_district_and_department(world: World) -> None:
    numbers, _ = await published_world(world)
    world.clock.advance(seconds=CACHE_SECONDS)
    found = await _page(world, "?q=路灯")
    assert numbers["shown"] in found and numbers["other"] not in found
    assert numbers["shown"] not in await _page(world, "?q=王小明")  # masked words find nothing
    assert numbers["shown"] not in await _page(world, "?q=13812345678")
    by_topic = await _page(world, "?topic=transport")
    assert numbers["other"] in by_topic and numbers["shown"] not in by_topic
    by_district = await _page(world, "?district=市南区")
    assert numbers["shown"] in by_district and numbers["other"] not in by_district
    by_department = await _page(world, "?department=urban")
    assert numbers["shown"] in by_department and numbers["other"] not in by_department


async def test_withdrawn_consent_and_staff_hiding_take_items_off(world: World) -> None:
    numbers, zhang = await published_world(world)
    stranger = await world.citizen()
    await stranger.say(CHAT, f"不公开 {numbers['other']}")  # not theirs: nothing changes
    assert numbers["other"] in await _page(world)
    assert "撤下公开" in await zhang.say(DESK, f"撤下公开 {numbers['shown']} 含有可识别的个人信息")
    world.clock.advance(seconds=CACHE_SECONDS)
    html = await _page(world)
    assert numbers["shown"] not in html and numbers["other"] in html
    async with world.services.sessions() as session:
        hidden = (await session.execute(select(Ticket).where(Ticket.number == numbers["shown"]))).scalar_one()
        assert hidden.public_hidden_reason == "含有可识别的个人信息"
        audit = (await session.execute(select(AuditEntry.action).where(AuditEntry.ticket_id == hidden.id))).scalars()
        assert "public_hidden" in list(audit)
    assert "恢复公开" in await zhang.say(DESK, f"恢复公开 {numbers['shown']}")
    world.clock.advance(seconds=CACHE_SECONDS)
    assert numbers["shown"] in await _page(world)


async def test_the_citizen_withdraws_consent(world: World) -> None:
    _, zhang = await published_world(world)
    dora = await world.citizen()
    mine = await file_inquiry(dora, "投诉：青岛市市南区香港中路的垃圾桶满了没人清理", publish=True)
    await answer(zhang, mine, "已清理。")
    world.clock.advance(seconds=CACHE_SECONDS)
    assert mine in await _page(world)
    assert "不公开" in await dora.say(CHAT, f"不公开 {mine}")
    world.clock.advance(seconds=CACHE_SECONDS)
    assert mine not in await _page(world)
    assert "同意公开" in await dora.say(CHAT, f"公开 {mine}")
    world.clock.advance(seconds=CACHE_SECONDS)
    assert mine in await _page(world)


async def test_cached_in_memory_and_over_http(world: World) -> None:
    numbers, zhang = await published_world(world)
    client = await world.factory(world.server)
    first = await client.get(PAGE)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert first.headers["Content-Language"] == "zh-CN"
    again = await client.get(PAGE, headers={"If-None-Match": etag})
    assert again.status == 304
    await zhang.say(DESK, f"撤下公开 {numbers['shown']} 测试")
    assert numbers["shown"] in await (await client.get(PAGE)).text()  # served from memory within its seconds
    world.clock.advance(seconds=CACHE_SECONDS)
    fresh = await client.get(PAGE, headers={"If-None-Match": etag})
    assert fresh.status == 200 and numbers["shown"] not in await fresh.text()


async def test_english_page(world: World) -> None:
    numbers, _ = await published_world(world)
    client = await world.factory(world.server)
    response = await client.get(PAGE, headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = await response.text()
    assert response.headers["Content-Language"] == "en"
    assert "Public results" in html and "Transport" in html  # topic names in English
    assert numbers["shown"] in html and "Satisfied" in html
    assert "Public results" not in await _page(world, "?lang=zh")


async def test_the_console_hides_with_a_function_call(world: World) -> None:
    from tickets import public_results

    numbers, _ = await published_world(world)
    async with world.services.sessions.begin() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == numbers["other"]))).scalar_one()
        await public_results.hide(world.services.workflow, session, "console:7", ticket, "重复发布", world.clock())
    async with world.services.sessions() as session:
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "public_hidden"))).scalar_one()
        assert (entry.actor, entry.detail) == ("console:7", {"reason": "重复发布"})
    world.clock.advance(seconds=CACHE_SECONDS)
    assert numbers["other"] not in await _page(world)
