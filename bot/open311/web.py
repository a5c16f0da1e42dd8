"""The HTTP side of Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, a service's
definition, requests (GET: list and one; POST: file), each as ``.xml`` or ``.json``.

Errors are the spec's error documents with the HTTP code in both the status line and ``<code>``:
400 a missing or bad parameter, 403 no valid ``api_key``, 404 an unknown service, request or
path. Lists are read through the reader pool; responses carry short ``Cache-Control`` times.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.open311.filing import NewRequest, authorize, file_request
from bot.open311.formats import CONTENT_TYPES, JSON, XML, render_errors, render_list, render_object
from bot.public_web import pick_locale
from bot.services import Services
from dialogs.formatting import day
from dialogs.texts import text
from storage.database import session_factory
from storage.public_results import PublicResultsRepository, PublishedRow
from tickets.open311 import ServiceRequest, service_request, statuses_for

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RANGE = timedelta(days=90)  # the spec's default and largest window for GET requests
MAX_REQUESTS = 1000
MAX_IDS = 100
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _format(request: web.Request) -> str:
    fmt = request.match_info.get("fmt", "")
    if fmt not in (XML, JSON):
        raise Open311Error(404, "unknown format: use .xml or .json")
    return fmt


def _respond(fmt: str, body: bytes, *, status: int = 200, max_age: int | None = 30) -> web.Response:
    headers = {"Cache-Control": f"public, max-age={max_age}" if max_age else "no-store"}
    return web.Response(body=body, status=status, content_type=CONTENT_TYPES[fmt], charset="utf-8", headers=headers)


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Open311Error as error:
            fmt = JSON if request.match_info.get("fmt") == JSON or request.path.endswith(".json") else XML
            return _respond(fmt, render_errors(fmt, error.status, error.description), status=error.status, max_age=None)

    return guarded


def _w3c(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a W3C datetime such as 2026-11-22T08:00:00Z") from exc
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone (Z or +08:00)")
    return parsed.astimezone(UTC)


def _float(value: str, name: str, limit: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name} must be a number") from exc
    if not math.isfinite(number) or abs(number) > limit:
        raise Open311Error(400, f"{name} is out of range")
    return number


class Open311:
    def __init__(self, *, services: Services, readers: async_sessionmaker[AsyncSession]) -> None:
        self._services = services
        self._readers = readers
        self._repo = PublicResultsRepository()
        self._tz: ZoneInfo = services.workflow.tz

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(PREFIX + "/discovery.{fmt}", _guarded(self.discovery)),
            web.get(PREFIX + "/services.{fmt}", _guarded(self.services)),
            web.get(PREFIX + "/services/{code:[^/.]+}.{fmt}", _guarded(self.service_definition)),
            web.get(PREFIX + "/requests.{fmt}", _guarded(self.requests)),
            web.post(PREFIX + "/requests.{fmt}", _guarded(self.create)),
            web.get(PREFIX + "/requests/{id:[^/.]+}.{fmt}", _guarded(self.one_request)),
            web.route("*", PREFIX + "/{tail:.*}", _guarded(self.not_found)),
        ]

    # --- discovery and services ------------------------------------------------------------------

    async def discovery(self, request: web.Request) -> web.StreamResponse:
        fmt = _format(request)
        base = (self._services.config.server.public_url or f"{request.scheme}://{request.host}").rstrip("/")
        changeset = datetime(2026, 12, 6, tzinfo=UTC)
        body = {
            "changeset": changeset,
            "contact": "12345",
            "key_service": "Ask the operator for a key (wenzheng apikey add NAME)",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base + PREFIX,
                    "changeset": changeset,
                    "type": "production",
                    "formats": [CONTENT_TYPES[XML], CONTENT_TYPES[JSON]],
                }
            ],
        }
        return _respond(fmt, render_object(fmt, "discovery", body, self._tz), max_age=3600)

    def _service(self, code: str, locale: str) -> dict[str, Any]:
        workflow = self._services.workflow
        topic = workflow.taxonomy.topic_by_code(code)
        assert topic is not None
        owner = workflow.directory.name(workflow.directory.route(code, None))
        return {
            "service_code": topic.code,
            "service_name": topic.name.get(locale),
            "description": text("open311_service_description", locale, topic=topic.name.get(locale)),
            "metadata": True,  # one optional attribute: publish (公开)
            "type": "realtime",
            "keywords": ", ".join(topic.keywords[:12]),
            "group": owner.get(locale) if owner else "",
        }

    async def services(self, request: web.Request) -> web.StreamResponse:
        fmt = _format(request)
        locale = pick_locale(request)
        items = [self._service(t.code, locale) for t in self._services.workflow.taxonomy.topics]
        return _respond(fmt, render_list(fmt, "services", "service", items, self._tz), max_age=300)

    async def service_definition(self, request: web.Request) -> web.StreamResponse:
        fmt = _format(request)
        locale = pick_locale(request)
        code = request.match_info["code"]
        if self._services.workflow.taxonomy.topic_by_code(code) is None:
            raise Open311Error(404, f"service_code {code} not found")
        attribute = {
            "variable": True,
            "code": "publish",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": text("open311_publish_datatype", locale),
            "order": 1,
            "description": text("open311_publish_description", locale),
            "values": [
                {"key": "false", "name": text("btn_publish_no", locale)},
                {"key": "true", "name": text("btn_publish_yes", locale)},
            ],
        }
        body = {"service_code": code, "attributes": [attribute]}
        return _respond(fmt, render_object(fmt, "service_definition", body, self._tz), max_age=300)

    # --- requests ----------------------------------------------------------------------------------

    def _view(self, row: PublishedRow, locale: str) -> Mapping[str, Any]:
        workflow = self._services.workflow
        ticket = row.ticket
        status_name = text(f"status_{ticket.status}", locale)
        found: ServiceRequest = service_request(
            row,
            topic=workflow.taxonomy.topic_by_code(ticket.topic_code),
            directory=workflow.directory,
            status_name=status_name,
            locale=locale,
        )
        return {
            "service_request_id": found.service_request_id,
            "status": found.status,
            "status_notes": found.status_notes,
            "service_name": found.service_name,
            "service_code": found.service_code,
            "description": found.description,
            "agency_responsible": found.agency_responsible,
            "service_notice": found.service_notice,
            "requested_datetime": found.requested_datetime,
            "updated_datetime": found.updated_datetime,
            "expected_datetime": found.expected_datetime,
            "address": found.address,
            "lat": found.lat,
            "long": found.long,
            "media_url": found.media_url,
        }

    async def requests(self, request: web.Request) -> web.StreamResponse:
        fmt = _format(request)
        locale = pick_locale(request)
        query = request.query
        ids = [i.strip().upper() for i in query.get("service_request_id", "").split(",") if i.strip()]
        async with self._readers() as session:
            if ids:  # "This overrides all other arguments."
                if len(ids) > MAX_IDS:
                    raise Open311Error(400, f"at most {MAX_IDS} service_request_id values")
                rows = await self._repo.by_numbers(session, ids)
            else:
                rows = await self._repo.requests(session, **self._filters(query), limit=MAX_REQUESTS)
        items = [self._view(r, locale) for r in rows]
        return _respond(fmt, render_list(fmt, "service_requests", "request", items, self._tz))

    def _filters(self, query: Mapping[str, str]) -> dict[str, Any]:
        codes = [c.strip() for c in query.get("service_code", "").split(",") if c.strip()]
        unknown = [c for c in codes if self._services.workflow.taxonomy.topic_by_code(c) is None]
        if unknown:
            raise Open311Error(400, f"service_code {unknown[0]} not found")
        wanted = [s.strip().lower() for s in query.get("status", "").split(",") if s.strip()]
        if any(s not in ("open", "closed") for s in wanted):
            raise Open311Error(400, "status must be open, closed or both")
        statuses = sorted({s for w in wanted for s in statuses_for(w)})
        end = _w3c(query["end_date"], "end_date") if query.get("end_date") else self._services.clock()
        start = _w3c(query["start_date"], "start_date") if query.get("start_date") else end - MAX_RANGE
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > MAX_RANGE:
            raise Open311Error(400, "the date range may not span more than 90 days")
        return {"topics": codes, "statuses": statuses, "start": start, "end": end}

    async def one_request(self, request: web.Request) -> web.StreamResponse:
        fmt = _format(request)
        number = request.match_info["id"].upper()
        async with self._readers() as session:
            rows = await self._repo.by_numbers(session, [number])
        if not rows:
            raise Open311Error(404, f"service_request_id {number} not found")
        items = [self._view(rows[0], pick_locale(request))]
        return _respond(fmt, render_list(fmt, "service_requests", "request", items, self._tz))

    async def create(self, request: web.Request) -> web.StreamResponse:
        fmt = _format(request)
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        key = await authorize(self._services, fields.get("api_key", ""))
        if key is None:
            raise Open311Error(403, "api_key is missing or not valid")
        new = self._new_request(fields, pick_locale(request))
        filed = await file_request(self._services, key, new)
        loc = new.locale
        department = filed.department.get(loc) if filed.department else text("department_pending", loc)
        notice = text("open311_notice", loc, department=department, due=day(filed.answer_due, loc, self._tz))
        items = [{"service_request_id": filed.number, "service_notice": notice, "account_id": None}]
        return _respond(fmt, render_list(fmt, "service_requests", "request", items, self._tz), max_age=None)

    def _new_request(self, fields: Mapping[str, str], locale: str) -> NewRequest:
        code = fields.get("service_code", "").strip()
        if not code:
            raise Open311Error(400, "service_code was not provided")
        if self._services.workflow.taxonomy.topic_by_code(code) is None:
            raise Open311Error(400, f"service_code {code} not found")
        lat = _float(fields.get("lat", "").strip(), "lat", 90)
        long = _float(fields.get("long", "").strip(), "long", 180)
        address = (fields.get("address_string") or "").strip()[:200]
        if (lat is None) != (long is None):
            raise Open311Error(400, "lat and long go together")
        if lat is None and not address:
            raise Open311Error(400, "lat/long or address_string was not provided")
        description = (fields.get("description") or "").strip()
        dialog = self._services.config.dialog
        if len(description) < dialog.min_details_chars or len(description) > dialog.max_details_chars:
            raise Open311Error(
                400, f"description must be {dialog.min_details_chars} to {dialog.max_details_chars} characters"
            )
        publish = fields.get("attribute[publish]", "false").strip().lower()
        if publish not in ("true", "false"):
            raise Open311Error(400, "attribute[publish] must be true or false")
        media = (fields.get("media_url") or "").strip()
        if media and not media.startswith(("http://", "https://")):
            raise Open311Error(400, "media_url must be an http(s) URL")
        requester = fields.get("email") or fields.get("device_id") or fields.get("account_id") or ""
        return NewRequest(
            service_code=code,
            description=description,
            lat=lat,
            long=long,
            address=address,
            requester=requester.strip(),
            phone=(fields.get("phone") or "").strip()[:32] or None,
            media_url=media[:500] or None,
            publish=publish == "true",
            locale=locale,
        )

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        raise Open311Error(404, f"no such resource: {request.path}")


def install_open311(app: web.Application, services: Services) -> None:
    api = Open311(services=services, readers=session_factory(services.reader_db))
    app.router.add_routes(api.routes())
