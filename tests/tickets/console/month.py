"""A small November 2026 acted out through the real actions, and what a person computes from it.

Every ticket's story is written next to it; the expected figures in ``test_scorecard.py`` are
counted by hand from these stories (local time, Asia/Shanghai; respond 8 h, suggestions 24 h;
answer 7 working days, consultations 5, due at 23:59:59 of the last day).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_services, prepare_database
from bot.config import AppConfig, DeadlineRule, StaffConfig
from bot.services import Services
from storage.migrate import upgrade
from tests.app_helpers import Clock, make_config
from tickets.console.seeding import Filing, Script

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 11, 1), date(2026, 11, 30)
UNTIL = datetime(2026, 12, 1, 0, 0, tzinfo=TZ)

STAFF = [
    StaffConfig(name="张三", department="urban", role="handler"),
    StaffConfig(name="孙七", department="urban", role="handler"),
    StaffConfig(name="李四", department="urban", role="supervisor"),
    StaffConfig(name="王五", department="transport", role="handler"),
    StaffConfig(name="赵六", department="city_service", role="admin"),
]


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def month_config(tmp_path: Path, database_url: str | None = None) -> AppConfig:
    base = make_config(tmp_path, database_url)
    rules = [
        DeadlineRule(type="consultation", respond_hours=8, answer_working_days=5),
        DeadlineRule(type="suggestion", respond_hours=24, answer_working_days=7),
        DeadlineRule(respond_hours=8, answer_working_days=7),
    ]
    return base.model_copy(update={"staff": STAFF, "deadlines": rules})


@dataclass
class Month:
    services: Services
    numbers: dict[str, str]


async def open_services(config: AppConfig) -> Services:
    services = build_services(config, Clock(at(11, 1, 0)))
    await upgrade(services.db, timezone=config.server.timezone)  # PostgreSQL: as `wenzheng db upgrade`
    await prepare_database(services)
    return services


def write_november(script: Script) -> None:
    """The month. Urban (张三, 孙七, supervisor 李四) unless said; 市南区 unless said."""
    south = "市南区"

    def filing(citizen: str, district: str = south, type_code: str = "complaint", **more: str) -> Filing:
        return Filing(citizen=citizen, district=district, type_code=type_code, topic_code="urban", **more)

    # T1: claimed in 1 h, answered next day, 满意.
    script.file("T1", at(11, 2, 9), filing("c1", phone="13812345678"))
    script.claim("T1", "张三", at(11, 2, 10))
    script.reply("T1", "张三", at(11, 3, 10))
    script.rate("T1", at(11, 3, 12), 1)
    # T2: claimed 11 h after filing (respond deadline 17:00 passed: 督办 at 17:00), 基本满意. The
    # supervisor clears the 督办 the next morning (解除督办): it still counts as 督办.
    script.file("T2", at(11, 2, 9), filing("c2"))
    script.claim("T2", "张三", at(11, 2, 20))
    script.clear_supervision("T2", "李四", at(11, 3, 10))
    script.reply("T2", "张三", at(11, 4, 9))
    script.rate("T2", at(11, 4, 12), 2)
    # T3: answered after its deadline (11-11 23:59:59: 督办), 不满意, reworked, then 满意.
    script.file("T3", at(11, 2, 10), filing("c3"))
    script.claim("T3", "张三", at(11, 2, 10, 30))
    script.reply("T3", "张三", at(11, 13, 9))
    script.rate("T3", at(11, 13, 12), 3, "还是没修好")
    script.reply("T3", "张三", at(11, 14, 9))
    script.rate("T3", at(11, 14, 10), 1)
    # T4: 不满意 twice (the second: 督办), then 基本满意. Three ratings, the latest counts.
    script.file("T4", at(11, 3, 9), filing("c4"))
    script.claim("T4", "张三", at(11, 3, 9, 30))
    script.reply("T4", "张三", at(11, 4, 9))
    script.rate("T4", at(11, 4, 10), 3)
    script.reply("T4", "张三", at(11, 5, 9))
    script.rate("T4", at(11, 5, 10), 3)
    script.reply("T4", "张三", at(11, 6, 9))
    script.rate("T4", at(11, 6, 10), 2)
    # T5: 转办 to transport 2 h after filing; 王五 claims at 15:00 (before the first deadline),
    # answers, nobody rates (closed unrated 7 days later). 市北区.
    script.file("T5", at(11, 3, 9), filing("c5", district="市北区", channel="wechat"))
    script.transfer("T5", "张三", at(11, 3, 11), "transport", "公交站台属于交通运输局")
    script.claim("T5", "王五", at(11, 3, 15))
    script.reply("T5", "王五", at(11, 5, 9))
    # T6: nobody ever claims it (督办 at the respond deadline).
    script.file("T6", at(11, 9, 9), filing("c6"))
    # T7: claimed, extended by the supervisor to 11-27, answered 11-25 (on time), 满意.
    script.file("T7", at(11, 9, 9), filing("c7", details="香港中路井盖丢了好几天了，车辆经过很危险"))
    script.claim("T7", "张三", at(11, 9, 9, 10))
    script.extend("T7", "李四", at(11, 10, 9), date(2026, 11, 27))
    script.reply("T7", "张三", at(11, 25, 9))
    script.rate("T7", at(11, 25, 12), 1)
    # T8: a consultation (5 working days: due 11-16), answered next day, never rated.
    script.file("T8", at(11, 9, 9), filing("c8", type_code="consultation"))
    script.claim("T8", "张三", at(11, 9, 9, 5))
    script.reply("T8", "张三", at(11, 10, 9))
    # T9: 不予受理 an hour after filing, never claimed.
    script.file("T9", at(11, 10, 9), filing("c9"))
    script.reject("T9", "张三", at(11, 10, 10))
    # T10: a duplicate of T6: left out of every figure.
    script.file("T10", at(11, 16, 9), filing("c10"))
    script.mark_duplicate("T10", "张三", at(11, 16, 10), "T6")
    # T11: 孙七 answers next day, 不满意, reopened and not answered again (its new deadline
    # 11-26 23:59:59 passes: 督办). 市北区.
    script.file("T11", at(11, 16, 9), filing("c11", district="市北区"))
    script.claim("T11", "孙七", at(11, 16, 9, 30))
    script.reply("T11", "孙七", at(11, 17, 9))
    script.rate("T11", at(11, 17, 10), 3)
    # T16: a suggestion (respond 24 h): claimed after 12 h: on time to 签收, not within 8 h.
    script.file("T16", at(11, 16, 9), filing("c16", type_code="suggestion"))
    script.claim("T16", "张三", at(11, 16, 21))
    script.reply("T16", "张三", at(11, 18, 9))
    script.rate("T16", at(11, 18, 10), 2)
    # T12: filed 11-23: respond due in November, answer due 12-02 (December's).
    script.file("T12", at(11, 23, 9), filing("c12"))
    script.claim("T12", "张三", at(11, 23, 9, 30))
    script.reply("T12", "张三", at(11, 24, 9))
    script.rate("T12", at(11, 24, 10), 1)
    # T13: filed 10-30: respond due in October, answer due 11-10 (November's).
    script.file("T13", at(10, 30, 9), filing("c13"))
    script.claim("T13", "张三", at(10, 30, 10))
    script.reply("T13", "张三", at(11, 6, 9))
    script.rate("T13", at(11, 6, 10), 1)
    # T14: filed 11-30 20:00: respond due 12-01 04:00 local: in no November figure. Its citizen is
    # T1's, about the same street lamp: a 重复诉求, urban's, counted in November (when it was filed).
    script.file("T14", at(11, 30, 20), filing("c1"))


@pytest.fixture
async def november(tmp_path: Path, database_url: str) -> AsyncIterator[Month]:
    """The month on SQLite and on PostgreSQL (time arithmetic differs between them)."""
    services = await open_services(month_config(tmp_path, database_url))
    try:
        script = Script(flow=services.workflow, sessions=services.sessions)
        write_november(script)
        numbers = await script.run(UNTIL)
        yield Month(services, numbers)
    finally:
        await services.dispose_databases()
