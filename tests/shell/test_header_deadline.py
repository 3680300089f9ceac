"""The daemon's HTTP port closes connections whose request headers are late (slowloris), and
never one whose headers arrived, however long its handler or its keep-alive reuse takes."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from controller.http import HealthStatus, HttpServer
from controller.metrics import Metrics

DEADLINE = 0.3  # seconds; nothing below measures time, the tests wait for the server to act


class Served:
    def __init__(self, deadline: float = DEADLINE) -> None:
        self.release = threading.Event()  # lets the slow handler finish
        self.server = HttpServer(
            "127.0.0.1:0",
            Metrics(),
            lambda: HealthStatus(True, True),
            extra_routes=[web.get("/slow", self._slow)],
            header_seconds=deadline,
        )
        self.port = self.server.start()

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return web.Response(text="done")

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.settimeout(60)  # a safety net for a broken server, never reached when it works
        return sock


@pytest.fixture
def served() -> Iterator[Served]:
    s = Served()
    try:
        yield s
    finally:
        s.release.set()
        s.server.stop()


def _closed_by_server(sock: socket.socket) -> bool:
    """Blocks until the server sends something or hangs up; True when it hung up silently."""
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def _drip(sock: socket.socket, stop: threading.Event) -> None:
    """A header line a byte at a time, one byte per 50 ms, never finished."""
    for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Drip: " + b"a" * 10_000:
        if stop.wait(0.05):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def test_a_client_dripping_its_headers_is_disconnected(served: Served) -> None:
    sock, stop = served.connect(), threading.Event()
    dripper = threading.Thread(target=_drip, args=(sock, stop), daemon=True)
    dripper.start()
    try:
        assert _closed_by_server(sock)
    finally:
        stop.set()
        dripper.join()
        sock.close()
    assert served.server.header_deadline.closed == 1


def test_a_silent_connection_is_disconnected(served: Served) -> None:
    with served.connect() as sock:
        assert _closed_by_server(sock)
    assert served.server.header_deadline.closed == 1


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def test_an_idle_kept_alive_connection_is_closed_after_its_response(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(HEALTHZ)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(sock)  # no next request: its headers are late
    assert served.server.header_deadline.closed == 1


def test_keep_alive_requests_and_headers_split_across_reads_are_served() -> None:
    served = Served(deadline=60)  # generous: this test must not depend on the client's speed
    try:
        with served.connect() as sock:
            for part in (HEALTHZ, HEALTHZ[:-3], HEALTHZ[-3:]):  # the blank line split in two
                sock.sendall(part)
                if part.endswith(b"\r\n\r\n"):
                    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        served.server.stop()
    assert served.server.header_deadline.closed == 0


def test_a_slow_handler_is_not_cut_off_by_the_header_deadline(served: Served) -> None:
    with served.connect() as slow:
        slow.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        # A second, silent connection opened after it: once the server has closed that one, the
        # deadline has passed for the slow request too, which is still being handled.
        with served.connect() as silent:
            assert _closed_by_server(silent)
        served.release.set()
        answer = slow.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert answer.endswith(b"done")
    assert served.server.header_deadline.closed == 1
