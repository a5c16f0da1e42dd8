"""Builds the hot-topic finder and the daily service from the config (for ``bot.app`` and the
``wenzheng report hot`` command)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from bot.config import AppConfig
from storage.hot_topics import HotTopicRepository
from storage.staff import StaffRepository
from tickets.context import PushQueue
from tickets.hot_run import HotTopicFinder, HotTopicService
from tickets.hot_topics import HotRules
from tickets.segment import Segmenter


def rules_from(config: AppConfig, recent_days: int | None = None) -> HotRules:
    hot = config.hot_topics
    days = recent_days or hot.recent_days
    return HotRules(
        recent_days=days,
        # ``--days N`` keeps the shipped proportion (7 against the 28 before: four times as long).
        baseline_days=hot.baseline_days if recent_days is None else days * 4,
        min_citizens=hot.min_citizens,
        min_tickets=hot.min_tickets,
        min_growth=hot.min_growth,
        significance=hot.significance,
        max_topics=hot.max_topics,
    )


def build_finder(config: AppConfig, repo: HotTopicRepository, segmenter: Segmenter | None = None) -> HotTopicFinder:
    return HotTopicFinder(
        repo=repo, rules=rules_from(config), tz=ZoneInfo(config.server.timezone), segmenter=segmenter or Segmenter()
    )


def build_service(
    config: AppConfig,
    *,
    outbox: PushQueue,
    staff: StaffRepository,
    staff_channels: frozenset[str],
    segmenter: Segmenter,
) -> HotTopicService | None:
    if not config.hot_topics.enabled:
        return None
    repo = HotTopicRepository()
    return HotTopicService(
        finder=build_finder(config, repo, segmenter),
        repo=repo,
        staff=staff,
        outbox=outbox,
        staff_channels=staff_channels,
        digest_at=time.fromisoformat(config.hot_topics.digest_at),
        tz=ZoneInfo(config.server.timezone),
    )
