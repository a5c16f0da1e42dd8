"""The hot-topics page (``/console/hot``, supervisors and admins, like the chat's 热点): the latest
daily run (``HotTopicRepository.latest``, stored by ``tickets.hot_run``), per city the topics that
rose city-wide and then those only one district shows, each with its words, count, growth, the
districts it came from and links to its tickets; and the daily digest's 订阅 / 退订, through the
chat command (``tickets.hot_desk``), so the same rule and audit apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from aiohttp import web

from dialogs.staff_commands import Verb
from storage.models import HotTopic
from tickets import hot_desk
from tickets.console.web.rendering import refusal, render, see_other
from tickets.console.web.security import DEPS, viewer_of

SHOWN_NUMBERS = 12  # ticket links shown at once per topic; the rest behind "more"


@dataclass(slots=True)
class CityTopics:
    city: str  # "" for tickets whose place named no city
    city_wide: list[HotTopic] = field(default_factory=list)
    districts: dict[str, list[HotTopic]] = field(default_factory=dict)  # a rise only there, by district


def by_city(topics: Sequence[HotTopic]) -> list[CityTopics]:
    """The run's rows (ranked within each city) as the page shows them: city by city, city-wide
    first, then each district's own, in rank order."""
    cities: dict[str, CityTopics] = {}
    for topic in sorted(topics, key=lambda t: (t.city, t.rank)):
        found = cities.setdefault(topic.city, CityTopics(topic.city))
        if topic.district:
            found.districts.setdefault(topic.district, []).append(topic)
        else:
            found.city_wide.append(topic)
    return list(cities.values())


async def _render(request: web.Request, *, flash: str = "") -> web.Response:
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    if not viewer.supervises:
        return refusal(request, 403, "forbidden_page", viewer.locale)
    repo = deps.workflow.hot_topics
    async with deps.readers() as session:
        day, topics = await repo.latest(session)
        subscribed = viewer.staff.id in await repo.subscribers(session)
    latest: date | None = day
    return render(
        request,
        "hot.html",
        {
            "day": latest,
            "cities": by_city(topics),
            "count": len(topics),
            "subscribed": subscribed,
            "shown": SHOWN_NUMBERS,
            "flash": flash,
        },
    )


async def page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


async def subscription(request: web.Request) -> web.StreamResponse:
    """订阅热点 / 退订热点 (``action=subscribe|unsubscribe``), as the chat commands do them."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    form = await request.post()
    verb = {"subscribe": Verb.SUBSCRIBE_HOT, "unsubscribe": Verb.UNSUBSCRIBE_HOT}.get(str(form.get("action") or ""))
    if verb is None:
        return see_other("/console/hot")
    async with deps.sessions.begin() as session:
        said = await hot_desk.handle(deps.workflow, session, viewer.staff, verb, deps.clock(), locale=viewer.locale)
    return await _render(request, flash=said.text)


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/hot", page, name="hot")
    app.router.add_route("POST", "/hot/subscription", subscription, name="hot_subscription")
