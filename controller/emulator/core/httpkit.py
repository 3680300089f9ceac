"""Request helpers every service's responses share: app and request keys, JSON in and out, list
query parameters, "ids from the query, 400 when empty or over the limit", "find it or 404", and
classic page listings."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from controller.emulator.core.exceptions import ApiError, BadRequest, InvalidValue

if TYPE_CHECKING:
    from controller.emulator.backend import PlatformBackend
    from controller.emulator.notifications.models import Hub

BACKEND: web.AppKey[PlatformBackend] = web.AppKey("backend")
HUB: web.AppKey[Hub] = web.AppKey("hub")
CREDENTIALS: web.AppKey[dict[str, str]] = web.AppKey("credentials")  # client id -> secret

# Set by the middleware for the request being handled (context variables follow the handler's task).
CORRELATION_ID: ContextVar[str] = ContextVar("correlation_id", default="")
CLIENT_ID: ContextVar[str] = ContextVar("client_id", default="")  # the OAuth client behind the token
TOKEN: ContextVar[str] = ContextVar("token", default="")

# Per request (a keep-alive connection reuses one task, so these are request keys, not context
# variables): the OAuth client that called, and the presence writes the handler applied, each
# with whether the agent was on an interaction at that moment (for the request log).
CALLER: web.RequestKey[str] = web.RequestKey("caller", str)
WRITES: web.RequestKey[list[tuple[str, bool]]] = web.RequestKey("writes", list)
INJECTED: web.RequestKey[bool] = web.RequestKey("injected", bool)  # answered by an injected fault
# The platform clock when the call arrived, before any injected latency: what the caller could know.
ARRIVED: web.RequestKey[datetime] = web.RequestKey("arrived", datetime)

K = TypeVar("K")
V = TypeVar("V")


def note_write(request: web.Request, user_id: str) -> None:
    """Call right before applying a presence or routing-status change to `user_id`. It counts as
    a write on an interaction when the interaction had begun before the call arrived: one that
    began while the call was on its way (an injected latency) was beyond the caller's knowledge,
    as a request already in flight is with the real platform."""
    state = request.app[BACKEND].presence.users[user_id]
    arrived = request.get(ARRIVED)
    busy = state.routing_status.busy_with_interaction and (arrived is None or state.routing_start <= arrived)
    request.setdefault(WRITES, []).append((user_id, busy))


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type="application/json")


async def json_body(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError:
        raise BadRequest("Unable to parse the request body as JSON.") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def id_list(request: web.Request, name: str) -> list[str]:
    """A list query parameter, comma-joined (the SDK's encoding) or repeated."""
    values: list[str] = []
    for raw in request.query.getall(name, []):
        values.extend(v for v in raw.split(",") if v)
    return values


def bounded_ids(ids: list[str], limit: int, *, missing: str, too_many: str) -> list[str]:
    """`ids` when 1..limit of them; else 400 with `missing` or `too_many` (formatted with
    {count} and {limit})."""
    if not ids:
        raise BadRequest(missing)
    if len(ids) > limit:
        raise BadRequest(too_many.format(count=len(ids), limit=limit))
    return ids


def ids_from_query(request: web.Request, name: str, limit: int, *, missing: str, too_many: str) -> list[str]:
    """The ids of list query parameter `name`: 400 when none or more than `limit`."""
    return bounded_ids(id_list(request, name), limit, missing=missing, too_many=too_many)


def find_or_404(found: Mapping[K, V], key: K, missing: Callable[[K], ApiError]) -> V:
    """`found[key]`, or the service's not-found error for `key`."""
    value = found.get(key)
    if value is None:
        raise missing(key)
    return value


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise InvalidValue(f"{name} must be between {low} and {high}")
    return value


def flag(request: web.Request, name: str) -> bool:
    """A true/false query flag, false unless given as true (any case)."""
    return request.query.get(name, "false").lower() == "true"


def page_listing(
    items: Sequence[Any], request: web.Request, *, max_page_size: int = 500, default_page_size: int = 25
) -> dict[str, Any]:
    """Classic paged listing: entities, pageSize, pageNumber, total, pageCount and the URIs."""
    page_size = int_param(request, "pageSize", default_page_size, 1, max_page_size)
    page_number = int_param(request, "pageNumber", 1, 1, 1_000_000)
    total = len(items)
    page_count = math.ceil(total / page_size)
    start = (page_number - 1) * page_size
    kept = [(k, v) for k, v in request.query.items() if k not in ("pageSize", "pageNumber")]

    def uri(number: int) -> str:
        return f"{request.path}?{urlencode([('pageSize', page_size), ('pageNumber', number), *kept])}"

    listing: dict[str, Any] = {
        "entities": list(items[start : start + page_size]),
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": total,
        "pageCount": page_count,
        "firstUri": uri(1),
        "selfUri": uri(page_number),
        "lastUri": uri(max(page_count, 1)),
    }
    if page_number < page_count:
        listing["nextUri"] = uri(page_number + 1)
    if page_number > 1:
        listing["previousUri"] = uri(page_number - 1)
    return listing
