"""The lossless export: batches with idempotency keys, retries, a spool that survives a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.adherence.compute import AgentAdherence
from controller.adherence.export import Exporter, ExportSettings, batches
from controller.adherence.report import AgentDay
from controller.adherence.store import TimelineStore
from controller.core.domain import Agent
from controller.genesys import Backoff
from controller.metrics import Metrics
from controller.webhook import verify_signature
from tests.core.builders import policy
from tests.support.dashboard import Receiver, unique

FIRST = date(2026, 11, 24)
NOW = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
QUICK = Backoff(base_seconds=0.001, cap_seconds=0.01)


def agent_days(n: int) -> list[AgentDay]:
    p = policy()
    start = datetime(2026, 11, 24, tzinfo=UTC)
    return [
        AgentDay(
            p,
            Agent(f"u{i:04d}", f"A {i}", f"a{i}@example.com"),
            FIRST,
            AgentAdherence(f"u{i:04d}", start, start + timedelta(days=1), timedelta(hours=8)),
        )
        for i in range(n)
    ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.stop()


def exporter(path: Path, url: str, metrics: Metrics, **settings: Any) -> Exporter:
    return Exporter(
        TimelineStore(path),
        ExportSettings(url, batch_size=10, **settings),
        metrics,
        lambda: NOW,
        backoff=QUICK,
    )


def test_batches_have_stable_keys_that_depend_on_range_and_content() -> None:
    days = agent_days(25)
    first = batches(days, FIRST, FIRST, 10)
    assert [json.loads(b)["batch"] for _, b in first] == [1, 2, 3]
    assert first == batches(days, FIRST, FIRST, 10)  # a re-export has the same keys
    assert len({k for k, _ in first}) == 3
    assert batches(days, FIRST, FIRST + timedelta(days=1), 10)[0][0] != first[0][0]


def test_5xx_429_and_refused_connections_are_retried_and_signed(receiver: Receiver, tmp_path: Path) -> None:
    metrics = Metrics()
    receiver.script = [503, 429, 500]
    out = exporter(
        tmp_path / "a.sqlite",
        receiver.url,
        metrics,
        auth_header=("Authorization", "Bearer t0k"),
        signing_secret="s3cret-s3cret",
    )
    assert out.export(agent_days(5), FIRST, FIRST) == 0
    assert len(receiver.received) == 4 and len({k for k, _, _ in receiver.received}) == 1
    _, body, headers = receiver.received[-1]
    assert headers["Authorization"] == "Bearer t0k"
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()  # the bytes as sent
    stamp, signature = headers["X-Presencectl-Timestamp"], headers["X-Presencectl-Signature"]
    assert verify_signature("s3cret-s3cret", stamp, signature, raw, now=float(stamp)) is None
    assert (
        metrics.registry.get_sample_value("presencectl_adherence_export_batches_total", {"result": "sent"})
        == 1
    )


def test_a_dashboard_down_mid_export_gets_every_record_once_in_order_after_a_restart(tmp_path: Path) -> None:
    """The receiver accepts two batches, then stops; the rest waits in the spool (the process
    ends); a new process on the same database delivers it once the receiver is back."""
    days = agent_days(57)
    database = tmp_path / "adherence.sqlite"
    board = Receiver()
    metrics = Metrics()
    first = exporter(database, board.url, metrics)
    board.script = [204, 204, 503, 503, 503, 503, 503]  # the third batch is never accepted
    assert first.export(days, FIRST, FIRST) == 4
    accepted = {k for (k, _, _), status in zip(board.received, [204, 204], strict=False)}
    assert (
        metrics.registry.get_sample_value("presencectl_adherence_export_batches_total", {"result": "spooled"})
        == 6
    )
    assert (
        metrics.registry.get_sample_value("presencectl_adherence_export_batches_total", {"result": "failed"})
        == 1
    )
    port = board.port
    board.server.stop()  # the dashboard goes away; so does the daemon
    first._store.close()

    again = Metrics()
    restarted = exporter(database, f"http://127.0.0.1:{port}/adherence", again)
    assert restarted.deliver() == 4  # still down: nothing lost, nothing skipped
    assert (again.registry.get_sample_value("presencectl_adherence_export_oldest_spooled_seconds") or 0) >= 0
    back = Receiver(port)
    try:
        assert restarted.export(days, FIRST, FIRST) == 0  # the same range again: the same keys
        accepted |= {k for k, _, _ in back.received}
        keys = [k for k, _ in batches(days, FIRST, FIRST, 10)]
        # the dashboard drops a key it already has (the re-export resends the first two batches)
        kept = unique(board.received + back.received, accepted)
        assert [k for k, _ in kept] == keys  # every batch, once, in order
        records = [r["agentId"] for _, body in kept for r in body["records"]]
        assert records == [d.agent.id for d in days]
    finally:
        back.server.stop()
