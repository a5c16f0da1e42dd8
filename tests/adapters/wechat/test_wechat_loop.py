"""The whole loop on WeChat in 安全模式: a citizen files, staff answer, the citizen gets the answer,
the status pushes and the rating prompt — as customer-service messages inside the 48-hour window,
as template messages after it. Staff work from /staff, or from WeChat itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import StaffConfig, StaffIdentityConfig
from storage.models import Ticket
from tests.adapters.wechat.fake_api import ClientFactory, WechatWorld, start_world, text_xml

ServerFactory = Callable[..., Awaitable[TestServer]]
CITIZEN = "oLp3Qx7Rk2Wm9Tz4Vb6Nc1Hf8Jd5"
STAFF_OPENID = "oSt4Ff9Zh2An6Gs3Ha8Nx1Qe7Wy0"
RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
TRICKY = "青岛市市南区香港中路的路灯坏了]]></Content><MsgType>news</MsgType>一个星期了，晚上很危险"
ANSWER = "路灯已于今天修复]]><MsgType>news</MsgType>，感谢您的反映。"


class Citizen:
    """A WeChat user typing into the official account."""

    def __init__(self, world: WechatWorld, openid: str) -> None:
        self.world = world
        self.openid = openid
        self.msg_id = int(hashlib.sha1(openid.encode()).hexdigest()[:8], 16) * 10**6  # MsgIds are global

    async def says(self, text: str, **extra: str | int) -> str:
        self.msg_id += 1
        xml = text_xml(self.openid, text, self.msg_id, int(self.world.clock().timestamp()), **extra)
        answer = await self.world.push.send(xml)
        assert answer.status == 200, answer.body
        assert answer.success or answer.encrypted  # every passive reply is encrypted in safe mode
        return answer.text

    async def taps(self, label: str) -> str:
        """Tap ``label`` in the last menu message WeChat showed: a text with ``bizmsgmenuid``."""
        menus = [m for m in self.world.api.custom if m["touser"] == self.openid and m["msgtype"] == "msgmenu"]
        item = next(i for i in menus[-1]["msgmenu"]["list"] if i["content"] == label)
        return await self.says(label, bizmsgmenuid=item["id"])

    def saw(self) -> list[str]:
        return self.world.api.texts(self.openid)


async def staff_says(browser: TestClient[Any, Any], text: str, n: int) -> str:
    response = await browser.post("/staff/api/messages", json={"id": f"staff-msg-{n:04d}", "text": text})
    assert response.status == 200, await response.text()
    return "\n".join(r["text"] for r in (await response.json())["replies"])


async def file(citizen: Citizen, details: str = RICH) -> str:
    summary = await citizen.says(details)
    assert summary.startswith("请确认您的问政内容") and summary.endswith("1. 提交\n2. 修改\n3. 取消\n4. 同意公开")
    filed = await citizen.says("1")  # the numbered choices of a passive reply
    found = re.search(r"WZ\d{8}-\d{4}", filed)
    assert found is not None, filed
    return found.group(0)


async def ticket(world: WechatWorld, number: str) -> Ticket:
    async with world.services.sessions() as session:
        return (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()


async def test_inside_the_window_everything_arrives_as_customer_service_messages(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    world = await start_world(
        aiohttp_server, aiohttp_client, tmp_path, staff=[StaffConfig(name="张三", department="urban")]
    )
    try:
        citizen = Citizen(world, CITIZEN)
        number = await file(citizen)  # the passive reply says 已受理 and the department
        await world.deliver()
        assert citizen.saw() == []  # so no separate "已受理" push that could arrive before it

        desk = await world.staff_page("张三")
        assert "已接单" in await staff_says(desk, f"接单 {number}", 1)
        await world.deliver()
        assert "工作人员已接单" in citizen.saw()[-1]

        await staff_says(desk, f"回复 {number} {ANSWER}", 2)
        await world.deliver()
        answered, rating = citizen.saw()[-2:]
        assert answered.startswith("【城市管理局】答复：" + ANSWER)  # text exactly as staff wrote it
        assert rating.splitlines() == [f"请对问政{number}的答复进行评价：", "满意", "基本满意", "不满意"]
        assert world.api.custom[-1]["msgtype"] == "msgmenu"

        assert "感谢您的评价" in await citizen.taps("满意")
        assert (await ticket(world, number)).status == "closed"
        assert world.api.templates == [] and world.api.window_refusals == []
        assert world.api.token_fetches == 1
    finally:
        await world.close()


async def test_after_48_hours_status_and_rating_arrive_as_template_messages(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    world = await start_world(
        aiohttp_server, aiohttp_client, tmp_path, staff=[StaffConfig(name="张三", department="urban")]
    )
    try:
        citizen = Citizen(world, CITIZEN)
        number = await file(citizen)
        await world.deliver()
        sent_in_window = len(citizen.saw())

        world.clock.advance(hours=49)
        desk = await world.staff_page("张三")
        await staff_says(desk, f"回复 {number} {ANSWER}", 1)
        await world.deliver()
        assert len(citizen.saw()) == sent_in_window  # no customer-service message after the window
        assert world.api.window_refusals == []  # and none even tried
        assigned, answered, rating = world.api.templates_to(CITIZEN)  # answering implies taking it up
        assert "工作人员已接单" in assigned["data"]["remark"]["value"]
        assert answered["data"]["keyword1"]["value"] == number
        assert ANSWER in answered["data"]["remark"]["value"]
        assert rating["data"]["keyword2"]["value"] == "待评价"
        assert "1. 满意" in rating["data"]["remark"]["value"]

        assert "感谢您的评价" in await citizen.says("1")  # answering the template with a digit
        assert (await ticket(world, number)).status == "closed"
    finally:
        await world.close()


async def test_staff_on_wechat_get_cards_and_answer_from_wechat(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    zhang = StaffConfig(
        name="张三", department="urban", identities=[StaffIdentityConfig(channel="wechat", id=STAFF_OPENID)]
    )
    world = await start_world(aiohttp_server, aiohttp_client, tmp_path, staff=[zhang])
    try:
        staff = Citizen(world, STAFF_OPENID)
        assert await staff.says("待办") == "本部门没有待办问政。"  # talking to the bot opens their window
        citizen = Citizen(world, CITIZEN)
        number = await file(citizen, TRICKY)
        await world.deliver()
        card = staff.saw()[-1]
        assert card.startswith(f"【新问政】{number}") and "接单" in card

        assert "已接单" in await staff.taps("接单")
        done = await staff.says(f"回复 {number} {ANSWER}")
        assert number in done  # the passive reply to staff, well-formed whatever the answer held
        await world.deliver()
        assert citizen.saw()[-2].startswith("【城市管理局】答复：" + ANSWER)
        assert (await ticket(world, number)).status == "answered"
        shown = await staff.says(f"查看 {number}")  # echoes the citizen's words in the passive reply XML
        assert "路灯坏了]]></Content><MsgType>news</MsgType>一个星期了" in shown
    finally:
        await world.close()
