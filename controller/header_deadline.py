"""A deadline for request headers on the daemon's HTTP port (the slowloris defence).

aiohttp times out neither a client that drips its request line and headers a byte at a time nor
one that connects and sends nothing: each holds a socket and a file descriptor for as long as it
likes, and a few thousand of them starve /metrics, the probes and the webhook. Go's
`http.Server.ReadHeaderTimeout` is the shape followed here: every connection must deliver a
request's complete headers within `seconds` of connecting (and, on keep-alive, of its previous
response), else it is closed. The webhook's own body deadline (controller/webhook.py) covers
the body. Used as `protocol_factory` of `loop.create_server` around aiohttp's `web.Server`,
with `middleware` restarting the clock after each response. Pipelined requests (which no
webhook sender or scraper uses) get the deadline of the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

HEADER_SECONDS = 10.0

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Deadline(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol; closes the transport when headers are late."""

    def __init__(self, inner: asyncio.Protocol, guard: HeaderDeadline) -> None:
        self._inner, self._guard = inner, guard
        self._transport: asyncio.BaseTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""  # the last bytes seen, for a header terminator split across reads

    def arm(self) -> None:
        self.disarm()
        self._tail = b""
        self._timer = asyncio.get_running_loop().call_later(self._guard.seconds, self._expire)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None and not self._transport.is_closing():
            self._guard.closed += 1
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._guard.connections[transport] = self
        self.arm()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        self._guard.connections.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:  # headers in once their blank line is: stop the clock here,
            seen = self._tail + data  # on the I/O callback, before any timer of this loop turn
            if b"\r\n\r\n" in seen:
                self.disarm()
            else:
                self._tail = seen[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class HeaderDeadline:
    """`protocol_factory(server)` for `loop.create_server`, and the aiohttp `middleware` that
    starts a keep-alive connection's clock again once a response is done."""

    def __init__(self, seconds: float = HEADER_SECONDS) -> None:
        self.seconds = seconds
        self.closed = 0  # connections closed for late headers
        self.connections: dict[asyncio.BaseTransport | None, _Deadline] = {}

    def protocol_factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        return lambda: _Deadline(server(), self)

    @web.middleware
    async def middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        guard = self.connections.get(request.transport)
        try:
            return await handler(request)
        finally:
            if guard is not None:  # keep-alive: the next request's headers get a fresh deadline
                guard.arm()
