"""A real HTTP endpoint standing in for an adherence dashboard (the export tests post to it)."""

from __future__ import annotations

import json
import threading
from typing import Any

from aiohttp import web

from controller.http import HealthStatus, HttpServer
from controller.metrics import Metrics

Received = tuple[str, dict[str, Any], dict[str, str]]  # idempotency key, body, headers


class Receiver:
    """A real HTTP dashboard: answers each POST with the next scripted status (then 204)."""

    def __init__(self, port: int = 0, answer_first: int | None = None) -> None:
        """`answer_first`: answer that many POSTs, then drop every connection unanswered (a
        dashboard going away mid-export, with no answer half-sent when the test stops it)."""
        self.received: list[Received] = []
        self.script: list[int] = []
        self.answer_first = answer_first
        self.lock = threading.Lock()
        self.server = HttpServer(
            f"127.0.0.1:{port}",
            Metrics(),
            lambda: HealthStatus(alive=True, ready=True),
            [web.post("/adherence", self._handle)],
        )
        self.port = self.server.start()
        self.url = f"http://127.0.0.1:{self.port}/adherence"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self.lock:
            status = self.script.pop(0) if self.script else 204
            self.received.append(
                (request.headers["Idempotency-Key"], json.loads(body), dict(request.headers))
            )
            gone = self.answer_first is not None and len(self.received) > self.answer_first
        if gone and request.transport is not None:
            request.transport.close()
        headers = {"Retry-After": "0"} if status == 429 else {}
        return web.Response(status=status, headers=headers)


def unique(received: list[Received], accepted: set[str]) -> list[tuple[str, Any]]:
    """What a dashboard keeps: the first copy of each key it accepted, in arrival order."""
    seen: set[str] = set()
    out = []
    for key, body, _ in received:
        if key in accepted and key not in seen:
            seen.add(key)
            out.append((key, body))
    return out
