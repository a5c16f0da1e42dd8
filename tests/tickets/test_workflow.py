"""The ticket workflow end to end on the real app: a citizen on /chat, staff on /staff.

Pushes travel the real way (outbox -> channel -> mailbox -> the page's event stream); the tests
read what each person would see from the mailbox the pages read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from adapters.web.webchat import WebchatChannel
from bot.app import SERVICES, Services, build_app
from bot.config import AppConfig, StaffConfig
from storage.models import AuditEntry, OutboxMessage, Rating, Staff, Ticket, TicketEvent, Timer, WebchatMailbox
from storage.outbox import OutboxRepository
from storage.staff import StaffRepository
from tests.app_helpers import Clock, make_config

RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险，我的电话13812345678"
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

STAFF = [
    StaffConfig(name="张三", department="urban", role="handler"),
    StaffConfig(name="李四", department="urban", role="supervisor"),
    StaffConfig(name="王五", department="transport", role="handler"),
    StaffConfig(name="赵六", department="city_service", role="admin"),
]


def staff_config(tmp_path: Path, database_url: str | None = None) -> AppConfig:
    return make_config(tmp_path, database_url).model_copy(update={"staff": STAFF})


@dataclass
class Person:
    client: TestClient[Any, Any]
    chat_id: str
    counter: int = 0

    def next_id(self) -> str:
        self.counter += 1
        return f"msg-{self.counter:08d}"

    async def say(self, path: str, text: str) -> str:
        response = await self.client.post(path, json={"id": self.next_id(), "text": text})
        assert response.status == 200, await response.text()
        return "\n".join(r["text"] for r in (await response.json())["replies"])

    async def tap(self, path: str, choice: str) -> str:
        response = await self.client.post(path, json={"id": self.next_id(), "choice": {"id": choice}})
        assert response.status == 200, await response.text()
        return "\n".join(r["text"] for r in (await response.json())["replies"])


@dataclass
class World:
    server: TestServer
    factory: ClientFactory
    clock: Clock

    @property
    def services(self) -> Services:
        return self.server.app[SERVICES]

    async def citizen(self) -> Person:
        client = await self.factory(self.server)
        await client.post("/chat/api/session")
        token = next(c.value for c in client.session.cookie_jar if c.key == "wz_chat")
        return Person(client, WebchatChannel.chat_id_for(token))

    async def staff(self, name: str) -> Person:
        async with self.services.sessions.begin() as session:
            repo = StaffRepository()
            member = await repo.by_name(session, name)
            assert member is not None
            token = await repo.issue_token(session, member.id, self.clock())
            staff_id = member.id
        client = await self.factory(self.server)
        response = await client.post("/staff/api/login", json={"token": token})
        assert response.status == 200
        return Person(client, f"staff-{staff_id}")

    async def deliver(self) -> None:
        await self.services.worker.drain()

    async def inbox(self, person: Person) -> list[dict[str, Any]]:
        await self.deliver()
        async with self.services.sessions() as session:
            stmt = select(WebchatMailbox.payload).where(WebchatMailbox.chat_id == person.chat_id)
            return [dict(p) for p in (await session.execute(stmt.order_by(WebchatMailbox.id))).scalars()]

    async def ticket(self, number: str) -> Ticket:
        async with self.services.sessions() as session:
            found = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
            return found

    async def count(self, model: Any, *where: Any) -> int:
        async with self.services.sessions() as session:
            stmt = select(func.count()).select_from(model)
            for condition in where:
                stmt = stmt.where(condition)
            return int((await session.execute(stmt)).scalar_one())


@pytest.fixture
async def world(aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[World]:
    clock = Clock()
    app = build_app(staff_config(tmp_path), clock=clock, run_workers=False)
    first = await aiohttp_client(app)
    yield World(first.server, aiohttp_client, clock)


CHAT = "/chat/api/messages"
DESK = "/staff/api/messages"


async def file(world: World, citizen: Person) -> str:
    """Describe the lamp and 提交; when another citizen's ticket on it is open, the bot offers it
    (已有人反映, #16) and this citizen files anyway, so the number found is their own."""
    await citizen.say(CHAT, RICH)
    filed = await citizen.tap(CHAT, "confirm:submit")
    if "已有人反映" in filed:
        filed = await citizen.tap(CHAT, "dup:separate")
    found = re.search(r"WZ\d{8}-\d{4}", filed)
    assert found is not None
    return found.group(0)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


async def test_the_whole_loop_from_filing_to_rating(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    await citizen.say(CHAT, RICH)
    filed = await citizen.tap(CHAT, "confirm:submit")
    assert filed.startswith("提交成功！") and "已受理，由【城市管理局】办理" in filed
    number = filed.split("问政编号：")[1].split("\n")[0]

    assert await world.inbox(citizen) == []  # the reply said it all: no "已受理" push to overtake it
    cards = await world.inbox(zhang)
    assert len(cards) == 1 and cards[0]["text"].startswith(f"【新问政】{number}")
    assert "138****5678" in cards[0]["text"] and "13812345678" not in cards[0]["text"]  # masked for staff
    assert [c["id"] for c in cards[0]["choices"]] == [f"staff:claim:{number}", f"staff:show:{number}"]

    assert "已接单" in await zhang.tap(DESK, f"staff:claim:{number}")
    assert "工作人员已接单" in texts(await world.inbox(citizen))

    full = await zhang.say(DESK, f"查看 {number}")
    assert "13812345678" in full  # an explicit, audited look shows the number

    done = await zhang.say(DESK, f"回复 {number} 路灯已于今天修复，感谢您的反映。")
    assert "已回复" in done and "已答复" in done
    pushed = await world.inbox(citizen)
    assert pushed[-2]["text"].startswith("【城市管理局】答复：路灯已于今天修复")
    assert pushed[-1]["purpose"] == "rating"
    assert [c["id"] for c in pushed[-1]["choices"]] == [f"rate:{number}:{n}" for n in (1, 2, 3)]

    assert "感谢您的评价" in await citizen.tap(CHAT, f"rate:{number}:1")
    ticket = await world.ticket(number)
    assert ticket.status == "closed" and ticket.closed_at is not None
    async with world.services.sessions() as session:
        rating = (await session.execute(select(Rating))).scalar_one()
        zhang_id = (await session.execute(select(Staff.id).where(Staff.name == "张三"))).scalar_one()
        kinds = (await session.execute(select(TicketEvent.kind).order_by(TicketEvent.id))).scalars().all()
    assert (rating.score, rating.department_code, rating.staff_id) == (1, "urban", zhang_id)
    assert kinds == ["submitted", "route", "claim", "reply", "rate_satisfied"]
    assert await world.count(Timer, Timer.status == "pending") == 0


async def test_unsatisfied_reopens_once_then_escalates(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    li = await world.staff("李四")
    number = await file(world, citizen)
    await zhang.say(DESK, f"回复 {number} 已安排维修")
    await world.inbox(citizen)

    assert "不满意的原因" in await citizen.tap(CHAT, f"rate:{number}:3")
    assert "退回办理部门重新办理" in await citizen.say(CHAT, "根本没有修，今晚还是黑的")
    ticket = await world.ticket(number)
    assert ticket.status == "reopened" and ticket.rework_count == 1 and not ticket.escalated
    assert "【退回重办】" in texts(await world.inbox(zhang)) and "今晚还是黑的" in texts(await world.inbox(zhang))

    await zhang.say(DESK, f"回复 {number} 已重新维修并验收")
    await world.inbox(citizen)
    await citizen.say(CHAT, "3")  # the number as text answers the pending rating
    assert "已提交上级督办" in await citizen.tap(CHAT, "skip")
    ticket = await world.ticket(number)
    assert ticket.escalated and ticket.rework_count == 2
    assert "【督办】" in texts(await world.inbox(li))


async def test_staff_of_another_department_are_refused_and_audited(world: World) -> None:
    citizen = await world.citizen()
    wang = await world.staff("王五")  # transport; the ticket belongs to urban
    number = await file(world, citizen)
    await world.deliver()
    before = await world.count(OutboxMessage)
    for command in (f"接单 {number}", f"回复 {number} 不关我们的事", f"查看 {number}", f"办结 {number}"):
        assert "不属于您的部门" in await wang.say(DESK, command)
    assert "不属于您的部门" in await wang.tap(DESK, f"staff:claim:{number}")
    assert await world.count(OutboxMessage) == before  # nothing relayed
    ticket = await world.ticket(number)
    assert ticket.status == "accepted" and ticket.assignee_staff_id is None
    refused = await world.count(AuditEntry, AuditEntry.allowed.is_(False), AuditEntry.ticket_id == ticket.id)
    assert refused == 5
    assert "工作人员已接单" not in texts(await world.inbox(citizen))


async def test_admin_acts_on_any_department(world: World) -> None:
    citizen = await world.citizen()
    zhao = await world.staff("赵六")
    number = await file(world, citizen)
    assert "已接单" in await zhao.say(DESK, f"接单 {number}")


async def test_a_citizen_cannot_rate_or_read_someone_elses_ticket(world: World) -> None:
    alice = await world.citizen()
    bob = await world.citizen()
    zhang = await world.staff("张三")
    number = await file(world, alice)
    await zhang.say(DESK, f"回复 {number} 已修复")
    assert "没有找到编号" in await bob.say(CHAT, number)
    assert "当前不需要评价" in await bob.tap(CHAT, f"rate:{number}:3")
    assert await bob.say(CHAT, f"撤回 {number}") == f"没有找到编号为{number}的问政，请核对编号。"
    unknown = number[:-4] + "0777"
    for command in ("撤回 {}", "补充 {} 我也看到了", "{}", "withdraw {}"):
        theirs = (await bob.say(CHAT, command.format(number))).replace(number, "N")
        assert theirs == (await bob.say(CHAT, command.format(unknown))).replace(unknown, "N"), command
    assert (await world.ticket(number)).status == "answered"
    assert await world.count(Rating) == 0


async def test_transfer_extend_and_illegal_moves(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    li = await world.staff("李四")
    wang = await world.staff("王五")
    number = await file(world, citizen)
    assert "不能办结" in await zhang.say(DESK, f"办结 {number}")  # not answered yet
    assert "只有主管可以延期" in await zhang.say(DESK, f"延期 {number} 2026-12-31 需要协调")
    assert "已延期" in await li.say(DESK, f"延期 {number} 2026-12-31 需要协调多个部门")
    assert "延长至2026年12月31日" in texts(await world.inbox(citizen))
    assert "没有部门代码nowhere" in await zhang.say(DESK, f"转办 {number} nowhere 原因")
    assert "已转办" in await zhang.say(DESK, f"转办 {number} transport 属于公交线路问题")
    assert "已转至【交通运输局】办理" in texts(await world.inbox(citizen))
    card = texts(await world.inbox(wang))
    assert f"【新问政】{number}" in card and "由【城市管理局】转来" in card
    assert "不属于您的部门" in await zhang.say(DESK, f"回复 {number} 还是我来吧")
    assert "已接单" in await wang.say(DESK, f"接单 {number}")


async def test_citizen_adds_information_and_the_handler_hears_it(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    number = await file(world, citizen)
    await zhang.say(DESK, f"接单 {number}")
    assert f"转交问政{number}的办理人员" in await citizen.say(
        CHAT, "补充 旁边的两盏路灯也不亮，身份证110101199003071234"
    )
    seen = texts(await world.inbox(zhang))
    assert "【市民补充】" in seen and "110101********1234" in seen and "110101199003071234" not in seen


async def test_deadlines_remind_then_escalate_and_unrated_answers_close(world: World) -> None:
    world.clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai: office hours
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    li = await world.staff("李四")
    number = await file(world, citizen)
    ticket = await world.ticket(number)
    timers = world.services.timer_worker

    world.clock.now = ticket.respond_due_at - (world.services.workflow.settings.remind_before) + _seconds(1)
    assert await timers.run_once() == 1
    assert "【提醒】" in texts(await world.inbox(zhang))
    world.clock.now = ticket.respond_due_at + _seconds(1)
    assert await timers.run_once() == 1
    assert "【督办】" in texts(await world.inbox(li)) and (await world.ticket(number)).escalated

    await zhang.say(DESK, f"回复 {number} 已修复")
    world.clock.advance(days=7, seconds=1)
    await timers.run_once()
    assert (await world.ticket(number)).status == "closed"
    assert "已办结（未评价）" in texts(await world.inbox(citizen))


async def test_a_restart_between_reply_and_delivery_delivers_once(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    clock = Clock()
    config = staff_config(tmp_path)
    first = World(
        (await aiohttp_client(build_app(config, clock=clock, run_workers=False))).server, aiohttp_client, clock
    )
    citizen = await first.citizen()
    zhang = await first.staff("张三")
    number = await file(first, citizen)
    await first.deliver()
    await zhang.say(DESK, f"回复 {number} 路灯已修复")  # the answer is queued, not yet sent
    assert await first.count(OutboxMessage, OutboxMessage.status == "pending") >= 2
    await first.server.close()  # the process goes away before the worker ran

    second = World(
        (await aiohttp_client(build_app(config, clock=clock, run_workers=False))).server, aiohttp_client, clock
    )
    await second.deliver()
    await second.deliver()
    async with second.services.sessions() as session:
        stmt = select(WebchatMailbox.payload).where(WebchatMailbox.chat_id == citizen.chat_id)
        answers = [p for p in (await session.execute(stmt)).scalars() if "答复：路灯已修复" in p["text"]]
    assert len(answers) == 1


def _seconds(n: int) -> Any:
    from datetime import timedelta

    return timedelta(seconds=n)


async def test_undeliverable_pushes_are_shown_to_supervisors(world: World) -> None:
    citizen = await world.citizen()
    zhang = await world.staff("张三")
    li = await world.staff("李四")
    number = await file(world, citizen)
    assert "没有投递失败" in await li.say(DESK, "投递失败")
    await zhang.say(DESK, f"接单 {number}")
    async with world.services.sessions.begin() as session:  # the worker gave up on the "已接单" push
        stmt = select(OutboxMessage).where(OutboxMessage.chat_id == citizen.chat_id)
        row = (await session.execute(stmt)).scalar_one()
        await OutboxRepository().mark_dead(session, row.id, "HTTP 502 after 8 attempts")
    listing = await li.say(DESK, "投递失败")
    assert number in listing and "HTTP 502" in listing
    assert "只有主管和管理员" in await zhang.say(DESK, "failed")


async def test_a_department_without_staff_still_has_its_cards_seen_by_admins(world: World) -> None:
    citizen = await world.citizen()
    zhao = await world.staff("赵六")  # admin; nobody works at 生态环境局
    await citizen.say(CHAT, "投诉：宿迁市宿城区西湖路上的一家KTV每天凌晨两点还在放音乐，噪音吵得睡不着")
    filed = await citizen.tap(CHAT, "confirm:submit")
    number = re.search(r"WZ\d{8}-\d{4}", filed)
    assert number is not None and (await world.ticket(number.group(0))).department_code == "environment"
    assert f"【新问政】{number.group(0)}" in texts(await world.inbox(zhao))


SHANGHAI = ZoneInfo("Asia/Shanghai")


async def pending_timers(world: World, number: str) -> dict[str, datetime]:
    ticket = await world.ticket(number)
    async with world.services.sessions() as session:
        stmt = select(Timer.kind, Timer.due_at).where(Timer.ticket_id == ticket.id, Timer.status == "pending")
        rows = (await session.execute(stmt)).all()
    return {kind: (due if due.tzinfo else due.replace(tzinfo=UTC)).astimezone(SHANGHAI) for kind, due in rows}


async def test_reminders_fall_inside_office_hours_and_escalations_stay_at_the_deadline(world: World) -> None:
    world.clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
    number = await file(world, await world.citizen())
    timers = await pending_timers(world, number)
    assert timers["overdue_answer"] == datetime(2026, 12, 10, 23, 59, 59, tzinfo=SHANGHAI)  # the deadline itself
    assert timers["remind_answer"] == datetime(2026, 12, 10, 18, 0, tzinfo=SHANGHAI)  # not 19:59:59
    assert timers["remind_respond"] == datetime(2026, 12, 1, 14, 0, tzinfo=SHANGHAI)  # inside: 4 h before 18:00
    assert timers["overdue_respond"] == datetime(2026, 12, 1, 18, 0, tzinfo=SHANGHAI)


async def test_filed_at_night_the_respond_reminder_is_dropped_when_nobody_works_before_the_deadline(
    world: World,
) -> None:
    world.clock.now = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # Tuesday 21:00: respond due 05:00
    number = await file(world, await world.citizen())
    timers = await pending_timers(world, number)
    assert "remind_respond" not in timers
    assert timers["overdue_respond"] == datetime(2026, 12, 2, 5, 0, tzinfo=SHANGHAI)
    assert timers["remind_answer"] == datetime(2026, 12, 10, 18, 0, tzinfo=SHANGHAI)
