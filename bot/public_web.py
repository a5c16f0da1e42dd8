"""``GET /public``: answered inquiries whose citizens agreed to publish them, masked, searchable,
server-rendered (aiohttp-jinja2) for phones, in Chinese or English.

Cached twice: the rendered page is kept in this worker's memory for ``CACHE_SECONDS`` (a burst
of readers costs one query), and HTTP ``Cache-Control``/``ETag`` let browsers and proxies reuse it
and revalidate with a 304. Both are short, so a withdrawn consent or a hidden item is gone within
a minute. It reads through the reader pool and never writes.

The per-department figures of the month are the scorecard's (``tickets.public_figures``), as of
the moment the minute loop counted them, which the page says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.public_texts import labels
from bot.services import Services
from bot.ttl_cache import TtlCache
from dialogs.taxonomy import Taxonomy
from storage.database import session_factory
from storage.public_results import PublicResultsRepository
from tickets.console.snapshots import Month, kept_months
from tickets.public_figures import kpi_names, month_figures, public_month
from tickets.public_results import PublicQuery, PublicResults
from tickets.routing import Directory

CACHE_SECONDS = 20
HTTP_MAX_AGE = 30
_CSS = files("bot").joinpath("static/public.css").read_bytes()
_CSS_ETAG = '"' + hashlib.sha256(_CSS).hexdigest()[:16] + '"'


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    locale: str


def setup_templates(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def pick_locale(request: web.Request) -> str:
    asked = request.query.get("lang", "")
    if asked in ("zh", "en"):
        return asked
    accept = request.headers.get("Accept-Language", "").lower()
    return "en" if accept.startswith("en") else "zh"


def _int(value: str, default: int) -> int:
    return int(value) if value.isdecimal() and len(value) <= 6 else default


class PublicSite:
    def __init__(
        self,
        *,
        readers: async_sessionmaker[AsyncSession],
        results: PublicResults,
        taxonomy: Taxonomy,
        directory: Directory,
        clock: Callable[[], datetime],
        tz: ZoneInfo,
    ) -> None:
        self._readers = readers
        self._results = results
        self._taxonomy = taxonomy
        self._directory = directory
        self._clock = clock
        self._tz = tz
        self._cache: TtlCache[Rendered] = TtlCache(clock=clock, ttl_seconds=CACHE_SECONDS)

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/public", self.page), web.get("/public/static/public.css", self.css)]

    def _query(self, request: web.Request) -> PublicQuery:
        q = request.query
        topic = q.get("topic") or None
        department = q.get("department") or None
        return PublicQuery(
            words=q.get("q", "")[:100],
            topic=topic if topic and self._taxonomy.topic_by_code(topic) else None,
            district=(q.get("district") or None) and q.get("district", "")[:32],
            department=department if department and self._directory.get(department) else None,
            page=_int(q.get("page", ""), 1),
        )

    async def page(self, request: web.Request) -> web.StreamResponse:
        locale = pick_locale(request)
        query = self._query(request)
        month = public_month(request.query.get("month", ""), self._clock().astimezone(self._tz).date())
        key = (locale, query, month)
        rendered = self._cache.get(key)
        if rendered is None:
            rendered = await self._render(request, locale, query, month)
            self._cache.put(key, rendered)
        return _respond(request, rendered.body, rendered.etag, "text/html", locale=rendered.locale)

    async def _render(self, request: web.Request, locale: str, query: PublicQuery, month: Month) -> Rendered:
        async with self._readers() as session:
            found = await self._results.search(session, query)
            districts = await self._results.districts(session)
            figures = await month_figures(
                session, month=month, directory=self._directory, tz=self._tz, now=self._clock()
            )
        this, last = kept_months(self._clock().astimezone(self._tz).date())
        context = {
            "figures": figures,
            "figures_as_of": figures.as_of.astimezone(self._tz).strftime("%Y-%m-%d %H:%M"),
            "figure_names": kpi_names(locale),
            "other_month": last if month == this else this,
            "t": labels(locale),
            "locale": locale,
            "other_locale": "en" if locale == "zh" else "zh",
            "query": query,
            "page": found,
            "topics": [(t.code, t.name.get(locale)) for t in self._taxonomy.topics],
            "districts": districts,
            "departments": [(d.code, d.name.get(locale)) for d in self._directory.departments],
            "css_version": _CSS_ETAG.strip('"'),
        }
        body = aiohttp_jinja2.render_string("public/list.html", request, context).encode()
        return Rendered(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"', locale=locale)

    async def css(self, request: web.Request) -> web.StreamResponse:
        return _respond(request, _CSS, _CSS_ETAG, "text/css", max_age=86400)


def _respond(
    request: web.Request,
    body: bytes,
    etag: str,
    content_type: str,
    *,
    locale: str | None = None,
    max_age: int = HTTP_MAX_AGE,
) -> web.StreamResponse:
    headers = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag, "Vary": "Accept-Language"}
    if locale is not None:
        headers["Content-Language"] = "zh-CN" if locale == "zh" else "en"
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


def install_public(app: web.Application, *, site: PublicSite) -> None:
    setup_templates(app)
    app.router.add_routes(site.routes())


def public_site(services: Services) -> PublicSite:
    workflow = services.workflow
    return PublicSite(
        readers=session_factory(services.reader_db),
        results=PublicResults(workflow=workflow, repo=PublicResultsRepository()),
        taxonomy=workflow.taxonomy,
        directory=workflow.directory,
        clock=services.clock,
        tz=workflow.tz,
    )
