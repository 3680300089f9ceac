"""`GET /status` and `GET /status.json` on the daemon's HTTP port: read-only, no secrets.

Query parameters of both: `filter` (all | out | skipped | held), `q` (search), `page`, `size`
(agents a page, at most 500); of the page: `refresh` (seconds between reloads, 0: never).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from controller.status.page import CONTENT_SECURITY_POLICY, render_page
from controller.status.view import (
    PAGE_SIZE,
    AgentsPage,
    StatusView,
    parse_filter,
    select_agents_page,
    status_json,
)

DEFAULT_REFRESH = 15
_NO_STORE = {"Cache-Control": "no-store"}


def _int(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        return default


def _agents_page(request: web.Request, view: StatusView) -> AgentsPage:
    return select_agents_page(
        view,
        parse_filter(request.query.get("filter")),
        request.query.get("q", ""),
        _int(request, "page", 1),
        _int(request, "size", PAGE_SIZE),
    )


def status_routes(view: Callable[[], StatusView]) -> list[web.RouteDef]:
    """Routes over `view()`, which builds the current view (called on the HTTP thread)."""

    async def html(request: web.Request) -> web.Response:
        current = view()
        body = render_page(current, _agents_page(request, current), _int(request, "refresh", DEFAULT_REFRESH))
        headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, **_NO_STORE}
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers=headers)

    async def json_doc(request: web.Request) -> web.Response:
        current = view()
        return web.json_response(status_json(current, _agents_page(request, current)), headers=_NO_STORE)

    return [web.get("/status", html), web.get("/status.json", json_doc)]
