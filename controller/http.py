"""The daemon's HTTP port: /metrics, /healthz, /readyz, plus routes passed in (webhooks).

Public API:
- `HealthStatus(alive, ready, reason="", last_cycle=None, details={})`: what the engine reports.
- `HttpServer(bind, metrics, health, extra_routes=())`: `start() -> int` serves on its own
  asyncio loop in a daemon thread and returns the bound port (`"host:0"` picks a free one);
  `stop()` closes it. `health` is called on the server thread for every probe, so it must be
  cheap and thread-safe (e.g. read a snapshot the loop replaces atomically).

Probes: /healthz answers 200 while `alive` (the reconcile loop is running), else 503;
/readyz answers 200 once `ready` (desired state loaded, first successful resync done), else 503
with the reason. Both bodies are JSON: {status, reason, last_cycle, ...details}.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from controller.failures import LocalConfigError
from controller.header_deadline import HEADER_SECONDS, HeaderDeadline
from controller.log import scrub
from controller.metrics import CONTENT_TYPE, Metrics

_log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class HealthStatus:
    alive: bool  # the reconcile loop is running and not wedged
    ready: bool  # desired state loaded and a first full resync succeeded
    reason: str = ""  # why not alive / not ready, for the probe body and humans
    last_cycle: datetime | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-serialisable extras


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (all interfaces) -> (host, port)."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(
            f"http bind {bind!r} must be host:port, e.g. 127.0.0.1:9464 (port 0 picks a free one)"
        )
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class HttpServer:
    def __init__(
        self,
        bind: str,
        metrics: Metrics,
        health: Callable[[], HealthStatus],
        extra_routes: Sequence[web.RouteDef] = (),
        header_seconds: float = HEADER_SECONDS,
    ) -> None:
        self.host, self.port = parse_bind(bind)
        self.header_deadline = HeaderDeadline(header_seconds)  # slowloris: late headers are closed
        self._server: asyncio.Server | None = None
        self._metrics = metrics
        self._health = health
        self._extra_routes = tuple(extra_routes)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # ---- lifecycle ----

    def start(self, timeout: float = 10.0) -> int:
        """Serve in a daemon thread; returns the bound port. LocalConfigError if the port cannot be bound."""
        if self._thread is not None:
            raise RuntimeError("HttpServer already started")
        self._thread = threading.Thread(target=self._serve, name="presencectl-http", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"HTTP server on {self.host}:{self.port} did not start within {timeout}s")
        if self._start_error is not None:
            raise LocalConfigError(
                f"cannot serve HTTP on {self.host}:{self.port}: {self._start_error}; "
                "set http.bind in ControllerConfig to a free port"
            )
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def _serve(self) -> None:
        # asyncio.Runner's close cancels and awaits the tasks left when the loop stops (a
        # keep-alive connection's handler), which the garbage collector would report much later.
        with asyncio.Runner() as runner:
            loop = self._loop = runner.get_loop()
            try:
                runner.run(self._open())
            except BaseException as exc:  # reported by start()
                self._start_error = exc
                runner.run(self._close())
                self._started.set()
                return
            self._started.set()
            try:
                loop.run_forever()
            finally:
                runner.run(self._close())

    async def _open(self) -> None:
        # No route takes a body above the webhook's 64 KiB; aiohttp refuses bigger ones (413).
        app = web.Application(
            client_max_size=MAX_REQUEST_BYTES, middlewares=[self.header_deadline.middleware]
        )
        app.add_routes(
            [
                web.get("/metrics", self._metrics_handler),
                web.get("/healthz", self._healthz),
                web.get("/readyz", self._readyz),
                *self._extra_routes,
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        assert self._runner.server is not None
        # Our own listener instead of web.TCPSite, so each connection gets the header deadline.
        self._server = await asyncio.get_running_loop().create_server(
            self.header_deadline.protocol_factory(self._runner.server), self.host, self.port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- handlers ----

    async def _metrics_handler(self, request: web.Request) -> web.Response:
        return web.Response(body=self._metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    def _status(self) -> HealthStatus:
        try:
            return self._health()
        except Exception as exc:  # a broken probe must answer, not hang up
            _log.exception("health callback failed")
            return HealthStatus(alive=False, ready=False, reason=scrub(f"health check failed: {exc}"))

    @staticmethod
    def _body(status: HealthStatus, word: str) -> dict[str, Any]:
        last = status.last_cycle.astimezone(UTC).isoformat() if status.last_cycle else None
        return {**status.details, "status": word, "reason": status.reason, "last_cycle": last}

    async def _healthz(self, request: web.Request) -> web.Response:
        status = self._status()
        body = self._body(status, "ok" if status.alive else "failing")
        return web.json_response(body, status=200 if status.alive else 503)

    async def _readyz(self, request: web.Request) -> web.Response:
        status = self._status()
        body = self._body(status, "ready" if status.ready else "not ready")
        return web.json_response(body, status=200 if status.ready else 503)
