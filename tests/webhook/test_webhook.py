"""Webhook receiver over real HTTP: signed, forged, replayed, oversized, unsigned, malformed deliveries."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.http import HealthStatus, HttpServer
from controller.log import scrub
from controller.metrics import Metrics
from controller.model.types import PresenceMapping, PresenceTarget, SecretRef
from controller.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ExternalState,
    RecheckAgent,
    SeenIds,
    WebhookConfigError,
    WebhookEvent,
    WebhookReceiver,
    external_override,
    json_depth_exceeds,
    load_secret,
    sign,
    verify_signature,
    webhook_routes,
)

SECRET = "s3cret-webhook-key"
USER = "6f3b1c2e-0000-4000-8000-000000000001"
MAPPING = PresenceMapping(
    "wfm-feed", {"WFM_BREAK": PresenceTarget("Break"), "WFM_LUNCH": PresenceTarget("Meal")}
)
AGENTS = {USER: USER, "ann@example.com": USER}
JSON = {"Content-Type": "application/json"}


@dataclass
class Served:
    url: str
    events: list[WebhookEvent]
    metrics: Metrics
    receiver: WebhookReceiver
    fail_enqueue: list[bool] = field(default_factory=lambda: [False])
    frozen_now: list[float | None] = field(default_factory=lambda: [None])  # the receiver's clock

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(self.url, data=body, headers=headers or {}, timeout=5)

    def signed(self, doc: Any, ts: int | None = None) -> requests.Response:
        body = json.dumps(doc).encode()
        return self.post(body, {**sign(SECRET, body, int(time.time()) if ts is None else ts), **JSON})

    def count(self, result: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "presencectl_webhook_requests_total", {"result": result}
        )
        return value or 0.0


@pytest.fixture
def served() -> Iterator[Served]:
    events: list[WebhookEvent] = []
    metrics = Metrics()
    fail = [False]

    def enqueue(event: WebhookEvent) -> None:
        if fail[0]:
            raise RuntimeError("queue full")
        events.append(event)

    frozen: list[float | None] = [None]

    def clock() -> float:
        now = frozen[0]
        return time.time() if now is None else now

    receiver = WebhookReceiver(SECRET, enqueue, [MAPPING], AGENTS.get, metrics, clock=clock)
    # The daemon's own HTTP port, with the webhook mounted as the daemon mounts it.
    server = HttpServer("127.0.0.1:0", metrics, lambda: HealthStatus(True, True), webhook_routes(receiver))
    port = server.start()
    yield Served(f"http://127.0.0.1:{port}/webhooks/presence", events, metrics, receiver, fail, frozen)
    server.stop()


def envelope(user: str = USER, topic: str = "presence", correlation: str = "c-1") -> dict[str, Any]:
    return {
        "topicName": f"v2.users.{user}.{topic}",
        "version": "2",
        "eventBody": {"source": "PURECLOUD", "presenceDefinition": {"id": "x", "systemPresence": "BREAK"}},
        "metadata": {"CorrelationId": correlation},
    }


def a_minute_ago() -> datetime:
    return datetime.fromtimestamp(int(time.time()) - 60, UTC)


def wfm(event_id: str = "e-1", state: str = "WFM_BREAK", **kw: Any) -> dict[str, Any]:
    return {"eventId": event_id, "userId": USER, "state": state, "time": a_minute_ago().isoformat(), **kw}


def test_valid_envelope_is_accepted_and_enqueued(served: Served) -> None:
    r = served.signed(envelope(topic="activity"))
    assert r.status_code == 202 and r.json() == {"status": "accepted", "eventId": "c-1"}
    assert served.events == [RecheckAgent("c-1", USER, f"v2.users.{USER}.activity")]
    assert served.count("accepted") == 1


def test_valid_external_state_by_email(served: Served) -> None:
    began = datetime(2026, 11, 24, 10, tzinfo=UTC)
    doc = wfm(time="2026-11-24T10:00:00Z")
    del doc["userId"]
    sent = int(began.timestamp()) + 60
    served.frozen_now[0] = float(sent)  # the receiver's clock agrees with the sender's
    r = served.signed({**doc, "email": "ann@example.com"}, ts=sent)
    assert r.status_code == 202
    (event,) = served.events
    assert isinstance(event, ExternalState)
    assert (event.agent, event.state, event.mapping.name) == (USER, "WFM_BREAK", "wfm-feed")
    assert (event.time, event.age) == (began, timedelta(minutes=1))


def test_forged_signature(served: Served) -> None:
    body = json.dumps(envelope()).encode()
    headers = sign("not-the-secret", body, int(time.time()))
    r = served.post(body, {**headers, **JSON})
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    # A valid signature over another body does not carry over either.
    headers = sign(SECRET, body, int(time.time()))
    r = served.post(body.replace(b"c-1", b"c-2"), {**headers, **JSON})
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    assert served.events == [] and served.count("bad_signature") == 2


def test_unsigned(served: Served) -> None:
    r = served.post(json.dumps(envelope()).encode(), JSON)
    assert r.status_code == 401
    assert r.json()["error"] == "bad_signature" and TIMESTAMP_HEADER in r.json()["detail"]
    r = served.post(b"{}", {TIMESTAMP_HEADER: str(int(time.time())), **JSON})
    assert r.status_code == 401 and SIGNATURE_HEADER in r.json()["detail"]
    assert served.events == [] and served.count("bad_signature") == 2


def test_replayed_old_and_future_timestamps_are_stale(served: Served) -> None:
    now = int(time.time())
    # The receiver reads this instant, so the window edges are exact however slow the machine.
    served.frozen_now[0] = float(now)
    assert served.signed(envelope(), ts=now - 301).json()["error"] == "stale"
    assert served.signed(envelope(), ts=now + 301).json()["error"] == "stale"
    assert served.signed(envelope(), ts=now - 290).status_code == 202
    assert served.count("stale") == 2


def test_replayed_event_id_is_a_duplicate(served: Served) -> None:
    assert served.signed(wfm("e-7")).status_code == 202
    r = served.signed(wfm("e-7"), ts=int(time.time()) + 1)  # re-signed redelivery
    assert r.status_code == 200 and r.json() == {"status": "duplicate", "eventId": "e-7"}
    assert len(served.events) == 1 and served.count("duplicate") == 1


def test_oversized_body(served: Served) -> None:
    doc = wfm(padding="x" * 70_000)
    r = served.signed(doc)
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(10):
            yield b"x" * 10_000

    headers = {**sign(SECRET, b"", int(time.time())), **JSON}
    r = requests.post(served.url, data=chunked(), headers=headers, timeout=5)
    assert r.status_code == 413
    assert served.count("too_large") == 2 and served.events == []


@pytest.mark.parametrize(
    ("doc", "detail"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"hello": 1}', "expected a notification envelope"),
        (json.dumps({"topicName": "v2.routing.queues.q.members", "eventBody": {}}).encode(), "unsupported"),
        (json.dumps({"state": "WFM_BREAK", "userId": USER}).encode(), "eventId"),
        (json.dumps(wfm(time="yesterday")).encode(), "ISO-8601"),
        (json.dumps(wfm(time="2026-11-24T10:00:00")).encode(), "UTC offset"),
    ],
)
def test_malformed(served: Served, doc: bytes, detail: str) -> None:
    r = served.post(doc, {**sign(SECRET, doc, int(time.time())), **JSON})
    assert r.status_code == 400 and r.json()["error"] == "malformed"
    assert detail in r.json()["detail"]
    assert served.count("malformed") == 1


def test_unknown_state_and_agent(served: Served) -> None:
    r = served.signed(wfm(state="WFM_NAP"))
    assert r.status_code == 422 and r.json()["error"] == "unknown_state"
    assert "WFM_BREAK" in r.json()["detail"]
    r = served.signed(wfm(userId="someone-else"))
    assert r.status_code == 422 and r.json()["error"] == "unknown_agent"
    r = served.signed(envelope(user="someone-else"))
    assert r.status_code == 422 and r.json()["error"] == "unknown_agent"
    assert served.events == []


def test_enqueue_failure_is_503_and_retry_is_accepted(served: Served) -> None:
    served.fail_enqueue[0] = True
    assert served.signed(wfm("e-9")).status_code == 503
    served.fail_enqueue[0] = False
    assert served.signed(wfm("e-9")).status_code == 202


def test_missing_correlation_id_falls_back_to_body_hash(served: Served) -> None:
    doc = envelope()
    del doc["metadata"]
    assert served.signed(doc).status_code == 202
    assert served.signed(doc).json()["status"] == "duplicate"


def test_external_override() -> None:
    event = ExternalState("e-1", USER, "WFM_LUNCH", datetime(2026, 11, 24, 12, tzinfo=UTC), MAPPING)
    o = external_override(event, MAPPING, timedelta(minutes=30))
    assert (o.agent, o.presence.name) == (USER, "Meal")
    assert (o.start, o.until) == (event.time, event.time + timedelta(minutes=30))
    assert o.reason == "external WFM state WFM_LUNCH via mapping wfm-feed"


def test_load_secret(tmp_path: Path) -> None:
    assert load_secret(SecretRef(env="HOOK"), {"HOOK": "env-secret-value"}) == "env-secret-value"
    assert scrub("x env-secret-value y") == "x *** y"
    f = tmp_path / "secret"
    f.write_text("file-secret-value\n")
    assert load_secret(SecretRef(file=str(f))) == "file-secret-value"
    with pytest.raises(WebhookConfigError, match="HOOK is unset"):
        load_secret(SecretRef(env="HOOK"), {})
    with pytest.raises(WebhookConfigError, match="cannot read"):
        load_secret(SecretRef(file=str(tmp_path / "missing")))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 2**40), st.integers(-600, 600))
def test_signature_round_trip(body: bytes, ts: int, skew: int) -> None:
    headers = sign(SECRET, body, ts)
    verdict = verify_signature(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body, ts + skew)
    assert (verdict is None) == (abs(skew) <= 300)
    tampered = body + b"!"
    bad = verify_signature(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], tampered, ts)
    assert bad is not None and bad.result == "bad_signature"


def test_seen_ids_are_bounded_by_age_and_count() -> None:
    seen = SeenIds(ttl=600, capacity=3)
    for i, at in enumerate((0, 1, 2)):
        seen.add(f"e{i}", at)
    seen.add("e3", 3)  # over capacity: the oldest goes
    assert "e0" not in seen and all(f"e{i}" in seen for i in (1, 2, 3))
    seen.add("e4", 602)  # e1 and e2 are 600 s old or more: gone; e3 (599 s) stays
    assert "e1" not in seen and "e2" not in seen and "e3" in seen and "e4" in seen


def test_deeply_nested_body_is_malformed_and_counted(served: Served) -> None:
    deep = b"[" * 30_000 + b"]" * 30_000  # 60 KB of brackets: json.loads alone would recurse out
    r = served.post(deep, {**sign(SECRET, deep, int(time.time())), **JSON})
    assert r.status_code == 400 and r.json()["error"] == "malformed"
    assert "nested deeper than" in r.json()["detail"]
    # Brackets inside strings are text, not nesting.
    assert served.signed(wfm("e-deep", note="[{" * 1000)).status_code == 202
    assert served.count("malformed") == 1 and served.count("internal") == 0


def _nesting(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_nesting(v) for v in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(0, 8))
def test_depth_scan_agrees_with_the_parsed_nesting(value: Any, limit: int) -> None:
    assert json_depth_exceeds(json.dumps(value).encode(), limit) == (_nesting(value) > limit)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_a_body_that_is_not_json_is_415(served: Served, content_type: str | None) -> None:
    body = json.dumps(wfm("e-415")).encode()
    headers = sign(SECRET, body, int(time.time()))
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = served.post(body, headers)
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert served.events == [] and served.count("unsupported_media_type") == 1


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/cloudevents+json"])
def test_json_media_types_are_accepted(served: Served, content_type: str) -> None:
    body = json.dumps(wfm("e-json")).encode()
    r = served.post(body, {**sign(SECRET, body, int(time.time())), "Content-Type": content_type})
    assert r.status_code == 202


def test_a_slow_drip_body_is_cut_off(served: Served) -> None:
    served.receiver.body_timeout_seconds = 0.2
    port = int(served.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(
            b"POST /webhooks/presence HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"eventId": '
        )  # ... and the rest never comes
        answer = b""
        while chunk := conn.recv(4096):  # the receiver answers and closes; no wait of ours
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"timeout"' in answer and served.count("timeout") == 1


def test_an_external_state_older_than_its_ttl_is_refused(served: Served) -> None:
    now = int(time.time())
    eleven_days = datetime.fromtimestamp(now, UTC) - timedelta(days=11)
    r = served.signed(wfm("e-old", time=eleven_days.isoformat()), ts=now)
    assert r.status_code == 422 and r.json()["error"] == "stale_event"
    assert "8:00:00" in r.json()["detail"]
    assert served.events == [] and served.count("stale_event") == 1
    hour_ago = datetime.fromtimestamp(now, UTC) - timedelta(hours=1)
    assert served.signed(wfm("e-recent", time=hour_ago.isoformat()), ts=now).status_code == 202
    (event,) = served.events
    assert isinstance(event, ExternalState) and event.age == timedelta(hours=1)
