"""One way to render a console page: the template plus what every page needs (who, language,
CSRF token, the words), so a handler passes only its own data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from tickets.console.web.security import DEPS, VIEWER, Viewer, locale_of
from tickets.console.web.texts import t


def words(locale: str) -> Callable[..., str]:
    def say(key: str, **values: object) -> str:
        return t(key, locale, **values)

    return say


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    viewer = request.get(VIEWER)
    locale = viewer.locale if isinstance(viewer, Viewer) else locale_of(request)
    deps = request.app[DEPS]
    page = {
        "viewer": viewer,
        "loc": locale,
        "t": words(locale),
        "csrf": viewer.csrf if isinstance(viewer, Viewer) else context.get("csrf", ""),
        "poll_seconds": deps.poll_seconds,
        "here": request.rel_url.path_qs,
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    response.headers["Cache-Control"] = "no-store"  # pages carry personal data and a CSRF token
    return response


def refusal(request: web.Request, status: int, key: str, locale: str, **values: object) -> web.Response:
    """A refusal page (or, for htmx, the same words in a fragment it can show)."""
    message = t(key, locale, **values)
    if request.headers.get("HX-Request"):
        return web.Response(status=status, text=message, content_type="text/plain")
    return render(request, "refused.html", {"message": message, "status": status}, status=status)


def see_other(location: str) -> web.Response:
    """After a POST (or a preference link): go there with a GET."""
    return web.Response(status=303, headers={"Location": location})
