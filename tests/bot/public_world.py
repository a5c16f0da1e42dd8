"""Filing, answering and rating real tickets for the /public and Open311 tests: through the web
chat and /staff of the real app, so consent, routing and answers are stored as in production."""

from __future__ import annotations

import re

from tests.tickets.test_workflow import CHAT, DESK, Person, World

# What a citizen writes, with everything the page must never show.
SECRET_TEXT = "投诉：我叫王小明，青岛市市南区香港中路8号楼3单元502室门口的路灯坏了一个星期了，电话138 1234 5678"
SECRETS = ("王小明", "8号楼", "3单元", "502室", "138 1234 5678", "13812345678", "5678", "13912345678")
ANSWER = "王小明您好，香港中路的路灯已于今天修复，如仍有问题请拨打13912345678。"


async def file_inquiry(citizen: Person, said: str, *, publish: bool) -> str:
    summary = await citizen.say(CHAT, said)
    assert "公开：否" in summary, summary
    if publish:
        assert "公开：是" in await citizen.tap(CHAT, "confirm:publish")
    filed = await citizen.tap(CHAT, "confirm:submit")
    found = re.search(r"WZ\d{8}-\d{4}", filed)
    assert found is not None, filed
    return found.group(0)


async def answer(handler: Person, number: str, said: str = ANSWER) -> None:
    """``handler``: one Person per staff member and test (their message ids count up; a second
    Person would repeat them and be taken for a redelivery)."""
    done = await handler.say(DESK, f"回复 {number} {said}")
    assert f"已回复：{number}" in done, done


async def published_world(world: World) -> tuple[dict[str, str], Person]:
    """Four tickets: consented and answered (rated 满意), consented but unanswered, answered
    without consent, and a second consented answered one about a different topic."""
    alice, bob, carol = await world.citizen(), await world.citizen(), await world.citizen()
    zhang, wang = await world.staff("张三"), await world.staff("王五")
    shown = await file_inquiry(alice, SECRET_TEXT, publish=True)
    await answer(zhang, shown)
    await world.deliver()
    assert "感谢您的评价" in await alice.tap(CHAT, f"rate:{shown}:1")
    pending = await file_inquiry(
        alice, "投诉：青岛市市南区香港中路的井盖丢了，很危险，张先生电话13700001111", publish=True
    )
    private = await file_inquiry(
        bob, "投诉：青岛市市南区香港中路的路灯也坏了，我是李建国，电话13600002222", publish=False
    )
    await answer(zhang, private, "李建国您好，已修复。")
    other = await file_inquiry(carol, "反映：青岛市市北区辽宁路的公交站牌被撞坏了，车牌鲁B12345的车撞的", publish=True)
    await answer(wang, other, "已通知公交公司更换站牌。")
    return {"shown": shown, "pending": pending, "private": private, "other": other}, zhang
