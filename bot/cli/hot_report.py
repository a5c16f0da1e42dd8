"""``wenzheng report hot [--days 7] [--json]``: the hot topics of the window ending now, computed
live (read-only, nothing stored), the same way the daily run finds them."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.runner import OperatorError
from bot.config import AppConfig
from bot.hot_topics import build_finder, rules_from
from storage.hot_topics import HotTopicRepository
from tickets.hot_run import topic_line


async def report(
    sessions: async_sessionmaker[AsyncSession], config: AppConfig, now: datetime, *, days: int | None, as_json: bool
) -> str:
    if days is not None and not 1 <= days <= 90:
        raise OperatorError(f"--days {days}: expected 1 to 90")
    finder = build_finder(config, HotTopicRepository())
    rules = rules_from(config, days)
    async with sessions() as session:
        result = await finder.compute(session, now, rules)
    if as_json:
        return json.dumps(
            {
                "end": now.isoformat(),
                "recent_days": rules.recent_days,
                "baseline_days": rules.baseline_days,
                "tickets_read": result.tickets,
                "seconds": round(result.seconds, 3),
                "topics": [
                    {
                        "city": t.city,
                        "district": t.district,
                        "words": list(t.words),
                        "count": t.recent,
                        "baseline": t.baseline,
                        "growth": t.growth,
                        "citizens": t.citizens,
                        "districts": t.districts,
                        "tickets": list(t.numbers),
                    }
                    for t in result.topics
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
    head = (
        f"hot topics: last {rules.recent_days} days against the {rules.baseline_days} before, "
        f"at least {rules.min_citizens} citizens ({result.tickets} tickets read in {result.seconds:.2f} s)"
    )
    if not result.topics:
        return head + "\nnothing is rising"
    return "\n".join([head, *(topic_line(i, t, "zh", rules, numbers_shown=10) for i, t in enumerate(result.topics, 1))])
