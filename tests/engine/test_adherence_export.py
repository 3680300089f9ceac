"""A real HTTP endpoint standing in for an adherence dashboard (the daemon tests export to it)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from controller.http import HealthStatus, HttpServer
from controller.metrics import Metrics


class Dashboard:
    """A real HTTP endpoint standing in for an external dashboard (answers `status`)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 204
        self.arrived = threading.Event()
        self.server = HttpServer(
            "127.0.0.1:0",
            Metrics(),
            lambda: HealthStatus(alive=True, ready=True),
            [web.post("/adherence", self._handle)],
        )
        self.url = f"http://127.0.0.1:{self.server.start()}/adherence"

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        self.arrived.set()
        return web.Response(status=self.status)


@pytest.fixture
def dashboard() -> Iterator[Dashboard]:
    board = Dashboard()
    yield board
    board.server.stop()
