"""HTTP helpers shared by the emulator's route modules: app keys, Genesys error bodies
(`ErrorBody`, docs/genesys-api.md#errors), JSON parsing and classic page listings."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

if TYPE_CHECKING:
    from controller.emulator.notifications import Hub
    from controller.emulator.world import World

WORLD: web.AppKey[World] = web.AppKey("world")
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


class ApiError(Exception):
    """An error the platform answers with an ErrorBody."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(status: int, code: str, message: str, context_id: str) -> dict[str, Any]:
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": context_id,
        "details": [],
        "errors": [],
    }


def note_write(request: web.Request, world: World, user_id: str) -> None:
    """Call right before applying a presence or routing-status change to `user_id`."""
    busy = world.users[user_id].routing_status.busy_with_interaction
    request.setdefault(WRITES, []).append((user_id, busy))


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type="application/json")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad.request", message)


def not_found(message: str = "The requested resource was not found.") -> ApiError:
    return ApiError(404, "not.found", message)


async def json_body(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError:
        raise bad_request("Unable to parse the request body as JSON.") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def id_list(request: web.Request, name: str) -> list[str]:
    """A list query parameter, comma-joined (the SDK's encoding) or repeated."""
    values: list[str] = []
    for raw in request.query.getall(name, []):
        values.extend(v for v in raw.split(",") if v)
    return values


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid.value", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid.value", f"{name} must be between {low} and {high}")
    return value


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
