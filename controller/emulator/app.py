"""The emulator's aiohttp application: one middleware applies what every /api/v2 call gets on
the real platform (bearer auth, the per-client budget, injected faults, correlation and rate-limit
headers, ErrorBody errors, the request log); each service adds its routes (its `urls`)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from controller.emulator.auth import urls as auth_urls
from controller.emulator.auth.exceptions import AuthenticationRequired, BadCredentials
from controller.emulator.backend import PlatformBackend
from controller.emulator.control import urls as control_urls
from controller.emulator.core.clock import iso
from controller.emulator.core.exceptions import ApiError, error_body, error_json
from controller.emulator.core.httpkit import (
    ARRIVED,
    BACKEND,
    CALLER,
    CLIENT_ID,
    CORRELATION_ID,
    CREDENTIALS,
    HUB,
    INJECTED,
    TOKEN,
    WRITES,
    json_response,
)
from controller.emulator.core.requestlog import RequestRecord
from controller.emulator.notifications import urls as notifications_urls
from controller.emulator.notifications.models import Hub
from controller.emulator.presence import urls as presence_urls
from controller.emulator.triggers import urls as triggers_urls
from controller.emulator.users import urls as users_urls
from controller.emulator.wfm import urls as wfm_urls

_log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_FAULT_BODIES = {
    500: ("internal.server.error", "The server encountered an unexpected condition."),
    502: ("internal.server.error", "Bad gateway."),
    503: ("service.unavailable", "Service Unavailable"),
    504: ("request.timeout", "The request timed out."),
}


def _route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def _rate_limited(retry_after: int | None, correlation_id: str) -> web.Response:
    seconds = retry_after if retry_after is not None else 1
    body = error_body(
        429,
        "too.many.requests.retry.after",
        f"Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds",
        correlation_id,
    )
    response = json_response(body, 429)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _api_call(request: web.Request, handler: Handler, headers: dict[str, str]) -> web.StreamResponse:
    backend = request.app[BACKEND]
    authorization = request.headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationRequired()
    client_id = backend.tokens.client_of(token.strip())
    if client_id is None:
        raise BadCredentials()
    CLIENT_ID.set(client_id)
    request[CALLER] = client_id
    TOKEN.set(token.strip())
    decision = backend.limiter.take(client_id, backend.clock.now())
    headers["inin-ratelimit-allowed"] = str(decision.limit)
    headers["inin-ratelimit-count"] = str(decision.count)
    headers["inin-ratelimit-reset"] = str(decision.reset_seconds)
    correlation_id = CORRELATION_ID.get()
    if not decision.allowed:
        return _rate_limited(decision.reset_seconds, correlation_id)
    request[ARRIVED] = backend.clock.now()
    fault = backend.faults.decide(request.path)
    if fault.latency_seconds:
        await asyncio.sleep(fault.latency_seconds)
    request[INJECTED] = fault.status is not None or fault.latency_seconds > 0
    if fault.status == 429:
        return _rate_limited(fault.retry_after, correlation_id)
    if fault.status is not None:
        code, message = _FAULT_BODIES.get(fault.status, ("bad.request", "Injected error."))
        return json_response(error_body(fault.status, code, message, correlation_id), fault.status)
    return await handler(request)


async def _download_call(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The download host: no bearer token, no client budget, but its own 429s and errors (faults
    reach it only through a pathPattern that names /downloads/, so API fault tests are unchanged)."""
    faults = request.app[BACKEND].faults
    fault = faults.decide(request.path) if faults.path_pattern is not None else None
    if fault is not None and fault.status == 429:
        return _rate_limited(fault.retry_after, CORRELATION_ID.get())
    if fault is not None and fault.status is not None:
        code, message = _FAULT_BODIES.get(fault.status, ("bad.request", "Injected error."))
        return json_response(error_body(fault.status, code, message, CORRELATION_ID.get()), fault.status)
    return await handler(request)


@web.middleware
async def platform_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith("/channels/"):  # the WebSocket: headers are sent by the handshake
        return await handler(request)
    request.app[BACKEND].settle()  # logins and logouts due by the emulator clock happen first
    correlation_id = str(uuid.uuid4())
    CORRELATION_ID.set(correlation_id)
    headers = {"inin-correlation-id": correlation_id}
    try:
        if path.startswith("/api/v2/"):
            response = await _api_call(request, handler, headers)
        elif path.startswith("/downloads/"):
            response = await _download_call(request, handler)
        else:
            response = await handler(request)
    except ApiError as error:
        response = json_response(error_json(error, correlation_id), error.status)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        message = f"Unable to find the resource {request.method} {path}."
        response = json_response(error_body(404, "not.found", message, correlation_id), 404)
    except web.HTTPException:
        raise
    except Exception:  # an emulator bug still answers like the platform, and is logged
        _log.exception("emulator handler failed", extra={"correlation_id": correlation_id, "path": path})
        body = error_body(
            500, "internal.server.error", "The server encountered an unexpected condition.", correlation_id
        )
        response = json_response(body, 500)
    if path.startswith("/_emulator/"):
        return response
    response.headers.update(headers)
    backend = request.app[BACKEND]
    record = RequestRecord(
        request.method,
        path,
        _route_template(request),
        response.status,
        iso(backend.clock.now()),
        client=request.get(CALLER, ""),
        correlation_id=correlation_id,
        injected=request.get(INJECTED, False),
    )
    backend.requests.add(record, request.get(WRITES, ()))
    return response


SERVICES = (auth_urls, users_urls, presence_urls, wfm_urls, triggers_urls, notifications_urls, control_urls)


def build_app(backend: PlatformBackend, hub: Hub, credentials: dict[str, str]) -> web.Application:
    app = web.Application(middlewares=[platform_middleware])
    app[BACKEND], app[HUB], app[CREDENTIALS] = backend, hub, credentials
    for service in SERVICES:
        service.register(app)
    app.on_startup.append(_start_settling)
    app.on_cleanup.append(_stop_settling)
    app.on_shutdown.append(lambda _app: hub.close_all(reason="shutdown"))
    return app


def build_download_app(backend: PlatformBackend) -> web.Application:
    """The download host of pre-signed result URLs: another host than the API's
    (docs/genesys-api.md#downloads)."""
    app = web.Application(middlewares=[platform_middleware])
    app[BACKEND] = backend
    wfm_urls.register_downloads(app)
    return app


SETTLE_EVERY_SECONDS = 1.0
_SETTLER: web.AppKey[asyncio.Task[None]] = web.AppKey("settler", asyncio.Task)


async def _settle_forever(backend: PlatformBackend) -> None:
    """Logins and logouts due in real time are applied (and announced) with no request to
    trigger them, so a daemon listening to the stream hears of them."""
    while True:
        await asyncio.sleep(SETTLE_EVERY_SECONDS)
        backend.settle()


async def _start_settling(app: web.Application) -> None:
    app[_SETTLER] = asyncio.create_task(_settle_forever(app[BACKEND]))


async def _stop_settling(app: web.Application) -> None:
    app[_SETTLER].cancel()
