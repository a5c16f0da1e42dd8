"""The inbound path on real storage: store before answering, dedupe, recover, refuse when down."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import ConversationRef, Inbound, MessageKind, TemporarilyUnavailable
from bot.app import Services, build_services, prepare_database
from bot.config import StaffConfig, StaffIdentityConfig
from storage.database import session_factory
from storage.identities import IdentityRepository
from storage.inbound import InboundRepository
from storage.models import InboundMessage, OutboxMessage, SentMessage, Ticket, WebchatMailbox
from tests.app_helpers import Clock, make_config
from tests.hanging_db import database_hangs, hangs_after_the_message_is_stored

RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
REF = ConversationRef("webchat", "web", "citizen-1")
_ids = itertools.count()


def message(
    text: str = "",
    *,
    choice: str | None = None,
    key: str | None = None,
    ref: ConversationRef = REF,
    clock: Clock | None = None,
) -> Inbound:
    return Inbound(
        channel=ref.channel,
        conversation=ref,
        message_key=key or f"k{next(_ids)}",
        kind=MessageKind.CHOICE if choice else MessageKind.TEXT,
        received_at=(clock or Clock())(),
        text=text,
        choice_id=choice,
    )


async def start(tmp_path: Path, database_url: str, clock: Clock, redis_url: str | None = None) -> Services:
    services = build_services(make_config(tmp_path, database_url, redis_url=redis_url), clock)
    await prepare_database(services)
    return services


async def stop(services: Services) -> None:
    await services.store.close()
    await services.dispose_databases()


@pytest.fixture
async def svc(tmp_path: Path, database_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    services = await start(tmp_path, database_url, Clock())
    yield services
    await stop(services)


async def count(services: Services, model: object) -> int:
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())  # type: ignore[arg-type]


async def test_a_conversation_files_a_ticket(svc: Services) -> None:
    summary = await svc.dispatcher.handle(message(RICH))
    assert "请确认" in summary.replies[-1].text
    filed = await svc.dispatcher.handle(message(choice="confirm:submit"))
    assert "WZ20261122-0001" in filed.replies[0].text
    assert await count(svc, Ticket) == 1


async def test_redelivery_returns_stored_replies_without_rerunning(svc: Services) -> None:
    first = await svc.dispatcher.handle(message(RICH, key="same"))
    again = await svc.dispatcher.handle(message(RICH, key="same"))
    assert again.duplicate and not first.duplicate
    assert again.replies == first.replies
    assert await count(svc, InboundMessage) == 1


async def test_three_concurrent_redeliveries_have_one_effect(svc: Services) -> None:
    await svc.dispatcher.handle(message(RICH))
    results = await asyncio.gather(
        *(svc.dispatcher.handle(message(choice="confirm:submit", key="tap")) for _ in range(3))
    )
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.replies for r in results}) == 1
    assert await count(svc, Ticket) == 1


async def test_replies_not_delivered_inline_go_through_the_outbox(svc: Services) -> None:
    await svc.dispatcher.handle(message(RICH))
    await svc.dispatcher.handle(message("帮助"), inline=False)
    assert await count(svc, OutboxMessage) == 2  # the help + the summary asked again
    await svc.worker.drain()
    assert await count(svc, WebchatMailbox) == 2


async def test_a_message_stored_but_never_processed_is_recovered(svc: Services) -> None:
    """The crash between storing and answering: the row is there, unprocessed, and nothing was sent."""
    clock = Clock()
    async with svc.sessions.begin() as session:
        identity = await IdentityRepository().get_or_create(session, "webchat", "web", "citizen-1", clock(), "zh")
        await InboundRepository().record(
            session,
            channel="webchat",
            message_key="crashed",
            identity_id=identity.id,
            kind="text",
            text=RICH,
            payload=message(RICH).payload(),
            raw="",
            received_at=clock(),
        )
    assert await svc.dispatcher.recover(older_than=timedelta(seconds=30)) == 0  # too fresh: maybe still running
    svc.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert await svc.dispatcher.recover(older_than=timedelta(seconds=30)) == 1
    await svc.worker.drain()
    async with svc.sessions() as session:
        pushed = (await session.execute(select(WebchatMailbox.payload))).scalars().all()
        processed = (await session.execute(select(InboundMessage.processed_at))).scalar_one()
    assert processed is not None
    assert any("请确认" in p["text"] for p in pushed)
    assert await svc.dispatcher.recover(older_than=timedelta(seconds=0)) == 0


async def test_session_store_down_means_retry_later_and_nothing_lost(tmp_path: Path) -> None:
    services = await start(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/w.db", Clock(), redis_url="redis://127.0.0.1:9/0")
    try:
        with pytest.raises(TemporarilyUnavailable):
            await services.dispatcher.handle(message(RICH, key="k-down"))
    finally:
        await stop(services)
    # The same message, once the store is back, is processed normally.
    services = await start(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/w.db", Clock())
    try:
        handled = await services.dispatcher.handle(message(RICH, key="k-down"))
        assert "请确认" in handled.replies[-1].text and not handled.duplicate
    finally:
        await stop(services)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_down_means_retry_later_and_the_retry_works(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    services = await start(tmp_path, database_url, Clock())
    url = make_url(database_url)
    admin = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database="postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", url.database)
        await services.dispose_databases()
        with pytest.raises(TemporarilyUnavailable):
            await services.dispatcher.handle(message(RICH, key="during-outage"))
        await admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true')
        handled = await services.dispatcher.handle(message(RICH, key="during-outage"))
        assert "请确认" in handled.replies[-1].text
        assert await count(services, InboundMessage) == 1
    finally:
        await admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true')
        await admin.close()
        await stop(services)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_workers_sharing_postgres_and_redis_file_one_ticket(
    tmp_path: Path, database_url: str, engine: AsyncEngine, redis_url: str
) -> None:
    """Two `wenzheng serve` processes behind a load balancer: the form state lives in Redis, the
    conversation lock too, so a double tap that lands on both workers files once."""
    clock = Clock()
    one = await start(tmp_path, database_url, clock, redis_url=redis_url)
    two = await start(tmp_path, database_url, clock, redis_url=redis_url)
    ref = ConversationRef("webchat", "web", f"shared-{next(_ids)}")
    try:
        await one.dispatcher.handle(message(RICH, ref=ref))
        results = await asyncio.gather(
            one.dispatcher.handle(message(choice="confirm:submit", ref=ref)),
            two.dispatcher.handle(message(choice="confirm:submit", ref=ref)),
        )
        assert await count(one, Ticket) == 1
        texts = " ".join(r.replies[0].text for r in results)
        assert texts.count("WZ20261122-0001") == 2
        mine = await two.dispatcher.handle(message("我的", ref=ref))
        assert "WZ20261122-0001" in mine.replies[0].text
    finally:
        await stop(one)
        await stop(two)


async def test_form_state_lives_in_redis_when_configured(tmp_path: Path, redis_url: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/w.db"
    ref = ConversationRef("webchat", "web", f"redis-{next(_ids)}")
    first = await start(tmp_path, url, Clock(), redis_url=redis_url)
    try:
        await first.dispatcher.handle(message(RICH, ref=ref))
    finally:
        await stop(first)
    second = await start(tmp_path, url, Clock(), redis_url=redis_url)  # a restart: memory is gone, Redis is not
    try:
        filed = await second.dispatcher.handle(message(choice="confirm:submit", ref=ref))
        assert "WZ20261122-0001" in filed.replies[0].text
    finally:
        await stop(second)


# --- platform delivery rules --------------------------------------------------------------------


async def outbox_texts(services: Services, ref: ConversationRef = REF) -> list[str]:
    async with services.sessions() as session:
        stmt = select(OutboxMessage.payload).where(OutboxMessage.chat_id == ref.chat_id).order_by(OutboxMessage.id)
        return [p["text"] for p in (await session.execute(stmt)).scalars()]


async def test_past_the_budget_unstored_is_retry_later_and_the_late_task_answers_once(svc: Services) -> None:
    """A previous message still holds the conversation: the budget runs out before this message
    is stored, so it is not acknowledged (retry later). The late task stores and answers it through
    the outbox; the platform's retry is then a redelivery and changes nothing."""
    held = asyncio.Event()
    release = asyncio.Event()

    async def slow_previous_message() -> None:
        async with svc.store.lock(REF.key()):
            held.set()
            await release.wait()

    blocker = asyncio.create_task(slow_previous_message())
    await held.wait()
    with pytest.raises(TemporarilyUnavailable, match="not stored within"):
        await svc.dispatcher.handle(message(RICH, key="slow"), inline_limit=1, budget=0.2)
    assert await count(svc, InboundMessage) == 0
    release.set()
    await blocker
    for _ in range(50):  # the dialog finishes in the background
        if await outbox_texts(svc):
            break
        await asyncio.sleep(0.05)
    assert any("请确认" in t for t in await outbox_texts(svc))
    again = await svc.dispatcher.handle(message(RICH, key="slow"), inline_limit=1, budget=0.2)
    assert again.duplicate and again.replies == ()  # nothing inline: the outbox already answered
    assert sum("请确认" in t for t in await outbox_texts(svc)) == 1


async def test_a_hanging_database_is_never_acknowledged_and_the_retry_files_once(
    svc: Services, database_url: str
) -> None:
    """The first transaction cannot commit (another session holds the lock it needs): past the
    budget the answer is "retry later", not a timed-out success. When the database comes back, the
    late task and the platform's retries make one message, one ticket."""
    await svc.dispatcher.handle(message(RICH))
    async with database_hangs(database_url) as hold:
        started = time.perf_counter()
        with pytest.raises(TemporarilyUnavailable):
            await svc.dispatcher.handle(message(choice="confirm:submit", key="tap"), inline_limit=1, budget=0.5)
        assert time.perf_counter() - started < 2.5
        await hold.release()
    for _ in range(100):  # the late task commits once the lock is gone
        if await count(svc, Ticket):
            break
        await asyncio.sleep(0.05)
    retried = await svc.dispatcher.handle(message(choice="confirm:submit", key="tap"), inline_limit=1, budget=4)
    assert retried.duplicate and retried.replies == ()
    assert await count(svc, Ticket) == 1 and await count(svc, InboundMessage) == 2
    texts = await outbox_texts(svc)
    assert any("WZ20261122-0001" in t for t in texts) and len(texts) == len(set(texts))  # nothing twice


async def test_stored_but_slow_is_acknowledged_and_answered_through_the_outbox(
    svc: Services, database_url: str
) -> None:
    """The message commits, then the dialog's transaction hangs: past the budget the message is
    safe, so the channel may say "received" (``timed_out``); the answer follows via the outbox."""
    async with hangs_after_the_message_is_stored(svc.db, database_url) as hold:
        handled = await svc.dispatcher.handle(message("我的", key="mine"), inline_limit=1, budget=0.5)
        assert handled.timed_out and handled.replies == ()
        async with session_factory(svc.reader_db)() as session:  # a reader: the writer's lock is held
            stored = await session.execute(
                select(InboundMessage.processed_at).where(InboundMessage.message_key == "mine")
            )
            assert stored.scalar_one() is None  # stored, the dialog still waiting
        await hold.release()
    for _ in range(100):
        if await outbox_texts(svc):
            break
        await asyncio.sleep(0.05)
    assert len(await outbox_texts(svc)) == 1
    again = await svc.dispatcher.handle(message("我的", key="mine"), inline_limit=1, budget=4)
    assert again.duplicate and again.replies == () and len(await outbox_texts(svc)) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_inline_answer_whose_commit_hangs_is_retry_later_and_the_retry_gets_it(
    svc: Services, database_url: str
) -> None:
    """The dialog chose its inline answer, then its commit hangs past the budget: "received" would
    lose that answer, so the platform is asked to retry (within budget + grace), and the retry
    gets the stored answer once the commit went through. (帮助 reads nothing: a complete form would
    look for the same matter first, and hang there, before any answer was chosen.)"""
    async with hangs_after_the_message_is_stored(svc.db, database_url) as hold:
        started = time.perf_counter()
        with pytest.raises(TemporarilyUnavailable, match="answer was not committed"):
            await svc.dispatcher.handle(message("帮助", key="help"), inline_limit=1, budget=0.5)
        assert time.perf_counter() - started < 2.5  # budget + grace, far from the 5 s lock wait
        await hold.release()
    for _ in range(100):
        async with svc.sessions() as session:
            done = (await session.execute(select(InboundMessage.processed_at))).scalar_one()
        if done is not None:
            break
        await asyncio.sleep(0.05)
    retried = await svc.dispatcher.handle(message("帮助", key="help"), inline_limit=1, budget=4)
    assert retried.duplicate and "直接描述问题即可开始问政" in retried.replies[0].text


async def test_a_passive_reply_carries_one_message_and_the_rest_go_through_the_outbox(svc: Services) -> None:
    await svc.dispatcher.handle(message(RICH))
    handled = await svc.dispatcher.handle(message("帮助"), inline_limit=1, budget=4)
    assert len(handled.replies) == 1 and "直接描述问题即可开始问政" in handled.replies[0].text
    assert [t.splitlines()[0] for t in await outbox_texts(svc)] == ["请确认您的问政内容："]


async def test_unsubscribing_makes_the_citizen_unreachable_and_writing_again_reachable(svc: Services) -> None:
    event = Inbound("webchat", REF, "unsub-1", MessageKind.EVENT, Clock()(), event="unsubscribe")
    assert (await svc.dispatcher.handle(event)).replies == ()
    async with svc.sessions() as session:
        identity = await IdentityRepository().find(session, REF.channel, REF.account, REF.chat_id)
        assert identity is not None and identity.reachable is False
    await svc.dispatcher.handle(message("你好"))
    async with svc.sessions() as session:
        identity = await IdentityRepository().find(session, REF.channel, REF.account, REF.chat_id)
        assert identity is not None and identity.reachable is True


async def test_strangers_in_a_staff_group_get_nothing(svc: Services) -> None:
    group = ConversationRef("telegram", "bot", "-1001234")
    said = Inbound("telegram", group, "g-1", MessageKind.TEXT, Clock()(), text=RICH, sender_id="999", group=True)
    handled = await svc.dispatcher.handle(said)
    assert handled.replies == ()
    assert await count(svc, Ticket) == 0 and await outbox_texts(svc, group) == []
    assert await svc.store.get(group.key()) is None  # no dialog was started


async def test_a_staff_reply_to_a_card_answers_that_ticket(tmp_path: Path) -> None:
    config = make_config(tmp_path).model_copy(
        update={
            "staff": [
                StaffConfig(
                    name="张三",
                    department="urban",
                    identities=[StaffIdentityConfig(channel="telegram", id="1001")],
                )
            ]
        }
    )
    services = build_services(config, Clock())
    await prepare_database(services)
    try:
        await services.dispatcher.handle(message(RICH))
        await services.dispatcher.handle(message(choice="confirm:submit"))
        async with services.sessions.begin() as session:
            ticket = (await session.execute(select(Ticket))).scalar_one()
            card = (await session.execute(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))).scalars()
            outbox_id = next(iter(card)).id
            session.add(
                SentMessage(
                    channel="telegram",
                    chat_id="-1001234",
                    platform_id="555",
                    ticket_id=ticket.id,
                    outbox_id=outbox_id,
                    created_at=Clock()(),
                )
            )
        group = ConversationRef("telegram", "bot", "-1001234")
        reply = Inbound(
            "telegram",
            group,
            "g-2",
            MessageKind.TEXT,
            Clock()(),
            text="路灯已修复",
            sender_id="1001",
            group=True,
            reply_to="555",
        )
        chatter = Inbound(
            "telegram",
            group,
            "g-1",
            MessageKind.TEXT,
            Clock()(),
            text="这个我下午去现场看看",
            sender_id="1001",
            group=True,
        )
        assert (await services.dispatcher.handle(chatter)).replies == ()  # staff talking among themselves
        handled = await services.dispatcher.handle(reply)
        assert "已回复" in handled.replies[0].text
        async with services.sessions() as session:
            status = (await session.execute(select(Ticket.status))).scalar_one()
        assert status == "answered"
        assert any("答复：路灯已修复" in t for t in await outbox_texts(services))
    finally:
        await stop(services)


async def test_web_chat_messages_skip_the_staff_and_held_push_lookups(svc: Services) -> None:
    """No staff identity and no reply window exist on the web chat: its messages run neither
    lookup (platform messages do: the staff relay and held-push tests depend on them)."""
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        statements.append(f"{statement} {parameters!r}")

    event.listen(svc.db.sync_engine, "before_cursor_execute", record)
    try:
        await svc.dispatcher.handle(message(RICH))
        await svc.dispatcher.handle(message("帮助"))
    finally:
        event.remove(svc.db.sync_engine, "before_cursor_execute", record)
    assert sum("INSERT INTO inbound_messages" in s for s in statements) == 2  # the recorder saw both
    assert not [s for s in statements if re.search(r"\bstaff(_identities)?\b", s)]
    assert not [s for s in statements if s.startswith("UPDATE outbox") and "'held'" in s]
