"""Adherence export: the document, the POST, and the daemon exporting on its interval."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from controller.engine.adherence_export import adherence_document, post_adherence
from controller.http import HealthStatus, HttpServer
from controller.metrics import Metrics
from controller.planner import PolicyAdherence


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


FIGURES = (PolicyAdherence("a", 10, 7, 2, 1, 0), PolicyAdherence("b", 3, 0, 0, 3, 0))
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_document_reports_each_policy_and_null_when_nobody_is_judged() -> None:
    doc = adherence_document(NOW, "abc", FIGURES)
    assert doc["time"] == "2026-11-24T12:00:00+00:00" and doc["desiredDigest"] == "abc"
    a, b = doc["policies"]
    assert a == {
        "policy": "a",
        "managed": 10,
        "inDesired": 7,
        "outOfDesired": 2,
        "noOpinion": 1,
        "unobserved": 0,
        "percent": pytest.approx(100 * 7 / 9),
    }
    assert b["percent"] is None


def test_post_delivers_and_reports_refusals_without_raising(dashboard: Dashboard) -> None:
    doc = adherence_document(NOW, "abc", FIGURES)
    assert post_adherence(dashboard.url, doc)
    assert dashboard.received == [json.loads(json.dumps(doc))]
    dashboard.status = 503
    assert not post_adherence(dashboard.url, doc)
    assert not post_adherence("http://127.0.0.1:9/unreachable", doc)
