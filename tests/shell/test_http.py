"""HTTP port: /metrics exposition, liveness and readiness probes, extra routes, bind errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from controller.failures import LocalConfigError
from controller.http import HealthStatus, HttpServer, parse_bind
from controller.metrics import Metrics


class Probe:
    """A health source the test flips, as the engine would."""

    def __init__(self) -> None:
        self.status = HealthStatus(alive=True, ready=False, reason="desired state not loaded yet")

    def __call__(self) -> HealthStatus:
        return self.status


@pytest.fixture
def served() -> Iterator[tuple[str, Metrics, Probe]]:
    metrics, probe = Metrics(), Probe()

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": await request.json()}, status=202)

    server = HttpServer("127.0.0.1:0", metrics, probe, extra_routes=[web.post("/webhooks/presence", echo)])
    port = server.start()
    try:
        yield f"http://127.0.0.1:{port}", metrics, probe
    finally:
        server.stop()


def test_metrics_endpoint_serves_the_registry(served: tuple[str, Metrics, Probe]) -> None:
    base, metrics, _ = served
    metrics.managed_agents.set(42)
    resp = requests.get(f"{base}/metrics", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    values = {
        s.name: s.value for f in text_string_to_metric_families(resp.text) for s in f.samples if not s.labels
    }
    assert values["presencectl_managed_agents"] == 42


def test_readiness_follows_the_engine(served: tuple[str, Metrics, Probe]) -> None:
    base, _, probe = served
    resp = requests.get(f"{base}/readyz", timeout=5)
    assert resp.status_code == 503
    assert resp.json()["status"] == "not ready"
    assert resp.json()["reason"] == "desired state not loaded yet"
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200

    last = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    probe.status = HealthStatus(alive=True, ready=True, last_cycle=last, details={"managed_agents": 7})
    resp = requests.get(f"{base}/readyz", timeout=5)
    assert resp.status_code == 200
    assert resp.json() == {
        "status": "ready",
        "reason": "",
        "last_cycle": "2026-11-24T09:30:00+00:00",
        "managed_agents": 7,
    }


def test_liveness_fails_when_loop_is_dead_or_probe_raises(served: tuple[str, Metrics, Probe]) -> None:
    base, _, probe = served
    probe.status = HealthStatus(alive=False, ready=True, reason="reconcile loop stopped")
    resp = requests.get(f"{base}/healthz", timeout=5)
    assert (resp.status_code, resp.json()["status"], resp.json()["reason"]) == (
        503,
        "failing",
        "reconcile loop stopped",
    )

    def broken() -> HealthStatus:
        raise RuntimeError("boom")

    server = HttpServer("127.0.0.1:0", Metrics(), broken)
    port = server.start()
    try:
        resp = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert resp.status_code == 503 and "boom" in resp.json()["reason"]
    finally:
        server.stop()


def test_extra_routes_are_served(served: tuple[str, Metrics, Probe]) -> None:
    base, _, _ = served
    resp = requests.post(f"{base}/webhooks/presence", json={"a": 1}, timeout=5)
    assert (resp.status_code, resp.json()) == (202, {"got": {"a": 1}})
    assert requests.get(f"{base}/nope", timeout=5).status_code == 404


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LocalConfigError, match=f"cannot serve HTTP on 127.0.0.1:{port}"):
            HttpServer(f"127.0.0.1:{port}", Metrics(), Probe()).start()


def test_stop_releases_the_port() -> None:
    server = HttpServer("127.0.0.1:0", Metrics(), Probe())
    port = server.start()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


@pytest.mark.parametrize(
    ("bind", "expected"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), (":9464", ("0.0.0.0", 9464)), ("[::1]:0", ("::1", 0))],
)
def test_parse_bind(bind: str, expected: tuple[str, int]) -> None:
    assert parse_bind(bind) == expected


@pytest.mark.parametrize("bind", ["9464", "host:", "host:http", "h:70000"])
def test_parse_bind_rejects(bind: str) -> None:
    with pytest.raises(ValueError, match="must be host:port"):
        parse_bind(bind)
