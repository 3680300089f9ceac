"""Audit writer and reader: durability shape, rotation, torn lines, filters, CLI."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.audit import (
    AuditMode,
    AuditResult,
    AuditUnavailable,
    AuditWriter,
    Outcome,
    Phase,
    encode,
    existing_audit_files,
    pending_intents,
    read_audit,
)
from controller.commands.audit import run as run_cli
from controller.log import register_secret
from controller.status.audit_tail import audit_tail
from tests.shell.audit_records import T0, cli_args, record
from tests.smallfs import fill, free_bytes, small_filesystem


def test_record_has_every_field_and_roundtrips(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch([record(1)])
    (line,) = path.read_text().splitlines()
    got = json.loads(line)
    assert got == {
        "time": "2026-11-24T09:00:01.000+00:00",
        "agent": {"id": "u-1", "email": "a@example.com"},
        "policy": "front-line",
        "desired": {"label": "On Queue", "id": "def-oq"},
        "before": {"label": "Break", "id": "def-br", "routing_status": "OFF_QUEUE"},
        "after": {"label": "On Queue", "id": "def-oq"},
        "reason": {"text": "schedule activity 1", "kind": "schedule", "source": "desired/policies.yaml:4:3"},
        "mode": "enforced",
        "result": {"status": "ok", "error_code": None},
        "correlation_id": "corr-1",
        "latency_ms": 12.5,
        "digest": "sha256:abc",
        "cycle_id": "c1",
    }
    assert list(read_audit(path)) == [got]


def test_secrets_never_written(tmp_path: Path) -> None:
    register_secret("s3cr3t-token-value")
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch([record(1, reason="failed: bearer s3cr3t-token-value rejected")])
    text = path.read_text()
    assert "s3cr3t-token-value" not in text
    assert "failed: bearer *** rejected" in text


def test_rotation_keeps_records_whole_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    line_len = len(json.dumps(record(1).to_json(), separators=(",", ":"))) + 1
    writer = AuditWriter(path, rotate_bytes=line_len * 5, keep=3)
    for i in range(40):
        writer.write_batch([record(i), record(i + 1000)])
    files = existing_audit_files(path)
    assert [f.name for f in files] == ["audit.jsonl.3", "audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"]
    for f in files:
        assert f.stat().st_size <= line_len * 5 + 2  # never over the limit by more than rounding
        for line in f.read_text().splitlines():
            json.loads(line)  # whole records only
    # The newest records survive, in order, none duplicated.
    got = [r["cycle_id"] for r in read_audit(path)]
    assert got[-2:] == ["c39", "c1039"]
    assert len(got) == len(set(got))


def test_rotation_under_concurrent_writers_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writer = AuditWriter(path, rotate_bytes=4096, keep=1000)  # keep all, to count them
    threads_n, batches, per_batch = 6, 15, 7

    def work(t: int) -> None:
        for b in range(batches):
            writer.write_batch([record(i, agent=f"t{t}", cycle_id=f"{t}-{b}-{i}") for i in range(per_batch)])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    problems: list[str] = []
    ids = [r["cycle_id"] for r in read_audit(path, on_problem=problems.append)]
    assert problems == []
    assert len(existing_audit_files(path)) > 5
    expected = [f"{t}-{b}-{i}" for t in range(threads_n) for b in range(batches) for i in range(per_batch)]
    assert sorted(ids) == sorted(expected)
    # Each writer's batches stay in its own order across rotations.
    for t in range(threads_n):
        mine = [i for i in ids if i.startswith(f"{t}-")]
        assert mine == [f"{t}-{b}-{i}" for b in range(batches) for i in range(per_batch)]


def test_torn_last_line_is_reported_and_next_write_stays_whole(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writer = AuditWriter(path)
    writer.write_batch([record(1), record(2)])
    with open(path, "ab") as f:  # a crash mid-write
        f.write(b'{"time":"2026-11-24T09:00:03.000+00:00","agent":{"id":"u-')
    problems: list[str] = []
    assert [r["cycle_id"] for r in read_audit(path, on_problem=problems.append)] == ["c1", "c2"]
    assert len(problems) == 1 and "torn last line" in problems[0] and ":3:" in problems[0]

    writer.write_batch([record(4)])
    problems.clear()
    assert [r["cycle_id"] for r in read_audit(path, on_problem=problems.append)] == ["c1", "c2", "c4"]
    assert len(problems) == 1 and "unreadable line" in problems[0]


def test_filters_by_agent_id_or_email_and_time(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    w = AuditWriter(path)
    w.write_batch([record(i, agent="u-1", email="Ann@Example.com") for i in range(0, 10)])
    w.write_batch([record(i, agent="u-2", email=None) for i in range(10, 20)])
    assert len(list(read_audit(path, agent="u-2"))) == 10
    assert len(list(read_audit(path, agent="ann@example.com"))) == 10
    window = list(read_audit(path, since=T0 + timedelta(seconds=5), until=T0 + timedelta(seconds=12)))
    assert [r["cycle_id"] for r in window] == [f"c{i}" for i in range(5, 12)]
    assert list(read_audit(path, agent="nobody")) == []


def test_cli_text_and_json(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    w = AuditWriter(path)
    held = record(2, agent="u-9", email=None, mode=AuditMode.HELD, result=AuditResult.SKIPPED)
    w.write_batch([record(1), held])
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(cli_args(path), out, err) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["TIME", "AGENT", "BEFORE", "->", "AFTER", "MODE", "REASON"]
    assert "a@example.com" in lines[1] and "enforced" in lines[1]
    assert "Break (OFF_QUEUE) -> On Queue" in lines[1]
    assert "u-9" in lines[2] and "held/skipped" in lines[2]

    out = io.StringIO()
    assert run_cli(cli_args(path, output="json", agent="u-9", since="2026-11-24T09:00:00Z"), out, err) == 0
    (only,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert only["agent"]["id"] == "u-9"


@pytest.mark.parametrize("kw", [{"since": "yesterday"}, {"until": "9am"}])
def test_cli_rejects_bad_time(tmp_path: Path, kw: dict[str, object]) -> None:
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch([record(1)])
    err = io.StringIO()
    assert run_cli(cli_args(path, **kw), io.StringIO(), err) == 2
    assert "not an ISO-8601 time" in err.getvalue()


def test_cli_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    err = io.StringIO()
    assert run_cli(cli_args(tmp_path / "none.jsonl"), io.StringIO(), err) == 2
    assert "no audit log at" in err.getvalue()


def test_cli_says_when_nothing_matches(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch([record(1)])
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(cli_args(path, agent="someone-else"), out, err) == 0
    assert out.getvalue().split() == ["TIME", "AGENT", "BEFORE", "->", "AFTER", "MODE", "REASON"]
    assert "no audit records match" in err.getvalue()


# ---- durability: torn tails, full disks, write-ahead intents ----


def test_opening_the_writer_truncates_a_torn_tail_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch([record(1), record(2)])
    whole = path.read_bytes()
    path.write_bytes(whole + encode(record(3))[:40])  # a crash mid-write: no newline
    with caplog.at_level("WARNING", logger="controller.audit"):
        writer = AuditWriter(path)
    assert path.read_bytes() == whole
    assert writer.repaired_bytes == 40
    assert any("torn line" in r.getMessage() for r in caplog.records)
    writer.write_batch([record(4)])
    assert [r["cycle_id"] for r in read_audit(path, on_problem=pytest.fail)] == ["c1", "c2", "c4"]


def test_a_batch_that_does_not_fit_on_a_full_disk_leaves_no_torn_line_and_raises(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "fs", 64) as fs:
        path = fs / "audit.jsonl"
        writer = AuditWriter(path)
        writer.write_batch([record(i) for i in range(3)])
        before = path.read_bytes()
        filler = fill(fs, leave_bytes=2048)
        assert free_bytes(fs) < 8192
        with pytest.raises(AuditUnavailable, match="No space left"):
            writer.write_batch([record(i) for i in range(10, 40)])  # ~15 KiB: some of it fits
        assert path.read_bytes() == before  # the part that fitted was cut off again
        assert writer.error is not None and "No space left" in writer.error
        assert writer.probe() is False
        filler.unlink()
        assert writer.probe() is True and writer.error is None
        writer.write_batch([record(50)])
        ids = [r["cycle_id"] for r in read_audit(path, on_problem=pytest.fail)]
        assert ids == ["c0", "c1", "c2", "c50"]


def test_intents_are_hidden_by_default_and_pending_ones_are_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    intent: dict[str, Any] = {"phase": Phase.INTENT, "result": AuditResult.PENDING, "after": None}
    AuditWriter(path).write_batch(
        [
            record(1, write_id="w1", **intent),
            record(2, write_id="w2", **intent),
            record(3, write_id="w1", phase=Phase.OUTCOME, outcome=Outcome.CONFIRMED),
            record(4),  # an observed/held record: no phase
        ]
    )
    assert [r["cycle_id"] for r in read_audit(path)] == ["c3", "c4"]
    assert [r["cycle_id"] for r in read_audit(path, intents=True)] == ["c1", "c2", "c3", "c4"]
    (pending,) = pending_intents(path)
    assert pending == record(2, write_id="w2", **intent)  # read back exactly as written
    out = io.StringIO()
    args = cli_args(path, output="json", intents=True)
    assert run_cli(args, out=out, err=io.StringIO()) == 0
    phases = [json.loads(line).get("phase") for line in out.getvalue().splitlines()]
    assert phases == ["intent", "intent", "outcome", None]


def test_the_status_page_tail_shows_outcomes_not_intents(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    intent: dict[str, Any] = {
        "phase": Phase.INTENT,
        "result": AuditResult.PENDING,
        "after": None,
        "write_id": "w1",
    }
    AuditWriter(path).write_batch(
        [record(1, **intent), record(2, write_id="w1", phase=Phase.OUTCOME, outcome=Outcome.CONFIRMED)]
    )
    assert [r["cycle_id"] for r in audit_tail(path)] == ["c2"]
