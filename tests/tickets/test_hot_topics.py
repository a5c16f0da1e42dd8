"""Hot topics on realistic data (tests/tickets/hot_data.py): a real burst raised by many citizens
is found, with its words, count, growth, districts and tickets; one citizen writing thirty times,
a steady matter and a rise among four citizens are not; cities stay apart. Then the daily run on
the real app: stored, sent to subscribed supervisors through the outbox, once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError, load_config
from storage.models import HotTopic, HotTopicRun
from tests.bot.test_config import shipped, write
from tests.tickets.hot_data import METRO, as_texts, corpus, load
from tests.tickets.test_workflow import DESK, World, texts, world
from tickets.hot_topics import HotRules, find_topics
from tickets.segment import Segmenter

__all__ = ["world"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


def test_a_burst_raised_by_many_citizens_is_hot_and_one_angry_citizen_is_not(segmenter: Segmenter) -> None:
    topics = find_topics(as_texts(corpus(END)), end=END, rules=HotRules(), segmenter=segmenter)
    qingdao = [t for t in topics if t.city == "青岛市" and t.district is None]
    assert len(qingdao) == 1, [(t.words, t.citizens) for t in qingdao]
    metro = qingdao[0]
    assert {"地铁", "施工"} <= set(metro.words) and "噪音" in metro.words
    assert metro.recent == len(METRO) and metro.citizens == 8
    assert metro.baseline == 1 and metro.growth >= 2
    assert metro.districts == {"市南区": 8, "崂山区": 1}
    assert len(metro.numbers) == len(METRO)
    words = {w for t in topics if t.district is None for w in t.words}
    assert not words & {"广场舞", "广场", "音响", "停车", "候车亭", "公交站"}
    # Parking rises in 崂山区 only: city-wide the steady complaints elsewhere dilute it.
    laoshan = [t for t in topics if t.district is not None]
    assert [(t.city, t.district, t.words[0], t.citizens) for t in laoshan] == [("青岛市", "崂山区", "停车", 6)]
    assert not {w for t in laoshan for w in t.words} & {"广场舞", "地铁"}
    jinan = [t for t in topics if t.city == "济南市"]
    assert len(jinan) == 1 and "暖气" in jinan[0].words
    # Five of the six: "暖气片…供暖不达标" shares no hot word (暖气片 is its own word to jieba).
    assert jinan[0].districts == {"历下区": 5} and jinan[0].citizens == 5


def test_thresholds_are_the_rules(segmenter: Segmenter) -> None:
    texts_ = as_texts(corpus(END))
    # Four citizens about the bus shelter are enough when four are asked for.
    loose = find_topics(texts_, end=END, rules=HotRules(min_citizens=4, min_tickets=4), segmenter=segmenter)
    assert any("候车亭" in t.words for t in loose)
    # A week later the metro burst is the baseline, not the news.
    later = find_topics(texts_, end=END + timedelta(days=8), rules=HotRules(), segmenter=segmenter)
    assert not any("地铁" in t.words for t in later)


def test_segmentation_drops_stop_words_numbers_and_the_ticket_s_own_place(segmenter: Segmenter) -> None:
    terms = segmenter.terms("青岛市市南区香港中路的路灯坏了3天了，希望尽快处理", exclude=("青岛市", "市南区"))
    assert "路灯" in terms and "香港" in terms
    assert not terms & {"青岛市", "市南区", "希望", "尽快", "处理", "3", "的"}


async def test_the_daily_run_stores_and_sends_the_digest_once(world: World) -> None:
    world.clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI).astimezone(UTC)
    async with world.services.sessions.begin() as session:
        numbers = await load(session, corpus(END))
    li, zhang = await world.staff("李四"), await world.staff("张三")
    assert "已订阅热点日报" in await li.say(DESK, "订阅热点")
    assert "已订阅" in await li.say(DESK, "订阅热点")
    assert "只有主管" in await zhang.say(DESK, "订阅热点")
    assert "还没有热点分析结果" in await li.say(DESK, "热点")
    worker = world.services.timer_worker

    world.clock.now = datetime(2026, 12, 1, 8, 29, tzinfo=SHANGHAI).astimezone(UTC)
    assert not await worker.run_daily()  # before digest_at
    world.clock.now = datetime(2026, 12, 1, 8, 31, tzinfo=SHANGHAI).astimezone(UTC)
    assert await worker.run_daily()
    assert not await worker.run_daily()  # once a day, however many workers ask

    digest = texts(await world.inbox(li))
    assert "【热点日报】2026-12-01" in digest and "地铁" in digest and "8位市民" in digest
    assert "青岛市崂山区｜停车｜6件（6位市民）" in digest
    assert "市南区8、崂山区1" in digest and "广场舞" not in digest
    assert sum(n in digest for n in numbers[: len(METRO)]) == 5  # the first five numbers, then "…"
    assert "热点日报" not in texts(await world.inbox(zhang))
    async with world.services.sessions() as session:
        stored = list((await session.execute(select(HotTopic).order_by(HotTopic.city, HotTopic.rank))).scalars())
        run = (await session.execute(select(HotTopicRun))).scalar_one()
    assert [(t.city, t.district, t.rank) for t in stored] == [
        ("济南市", None, 1),
        ("青岛市", None, 1),
        ("青岛市", "崂山区", 2),
    ]
    assert run.finished_at is not None and run.topics == 3 and run.tickets == len(corpus(END))
    assert "地铁" in await li.say(DESK, "热点")  # the stored result, on demand

    assert "已退订" in await li.say(DESK, "退订热点")
    world.clock.now += timedelta(days=1)
    before = len(await world.inbox(li))
    assert await worker.run_daily()
    assert len(await world.inbox(li)) == before
    async with world.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(HotTopicRun))).scalar_one() == 2


@pytest.mark.parametrize(
    ("hot", "expected"),
    [
        ({"digest_at": "25:00"}, "hot_topics.digest_at"),
        ({"min_citizens": 1}, "hot_topics.min_citizens"),
        ({"min_growth": 1.0}, "hot_topics.min_growth"),
    ],
)
def test_the_hot_topic_config_is_validated(tmp_path: Path, hot: dict[str, object], expected: str) -> None:
    data: dict[str, Any] = shipped()
    data["hot_topics"] = hot
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        load_config(write(tmp_path, data), environ={})
