"""`presencectl audit`: sorted by time, --policy, --limit, --follow, and a hint naming the real
setting when there is no log."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

from controller.audit import AuditWriter
from controller.cli import build_parser
from controller.commands.audit import run
from tests.shell.audit_records import record


def _audit(path: Path, *flags: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(build_parser().parse_args(["audit", "--path", str(path), *flags]), out, err)
    return code, out.getvalue(), err.getvalue()


def _cycles(text: str) -> list[str]:
    return [json.loads(line)["cycle_id"] for line in text.splitlines()]


def test_records_are_sorted_by_time_whatever_order_they_were_written_in(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch([record(3), record(1)])  # e.g. two processes appending
    AuditWriter(path).write_batch([record(2)])
    code, out, _ = _audit(path, "--output", "json")
    assert code == 0 and _cycles(out) == ["c1", "c2", "c3"]


def test_policy_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditWriter(path).write_batch(
        [record(i, policy="back-office" if i % 2 else "front-line") for i in range(6)]
    )
    assert _cycles(_audit(path, "--output", "json", "--policy", "back-office")[1]) == ["c1", "c3", "c5"]
    assert _cycles(_audit(path, "--output", "json", "--limit", "2")[1]) == ["c4", "c5"]  # the most recent
    assert _cycles(_audit(path, "--output", "json", "--policy", "front-line", "--limit", "1")[1]) == ["c4"]
    code, out, _ = _audit(path, "--limit", "2")
    assert code == 0 and len(out.splitlines()) == 3  # header + 2 rows
    code, _, err = _audit(path, "--limit", "0")
    assert code == 2 and "--limit 0" in err


def test_a_missing_log_names_the_real_setting(tmp_path: Path) -> None:
    code, _, err = _audit(tmp_path / "none.jsonl")
    assert code == 2 and len(err.splitlines()) == 1
    assert "audit.path" in err and "PRESENCECTL_AUDIT_PATH" in err and "audit_path" not in err


def test_the_environment_names_the_default_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.jsonl"
    AuditWriter(path).write_batch([record(1)])
    done = subprocess.run(
        [sys.executable, "-m", "controller", "audit", "--output", "json"],
        cwd=tmp_path,
        env={"PRESENCECTL_AUDIT_PATH": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert _cycles(done.stdout) == ["c1"]


def test_follow_prints_new_records_across_a_rotation_until_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writer = AuditWriter(path, rotate_bytes=2000, keep=3)
    writer.write_batch([record(1), record(2, policy="other")])
    command = ["audit", "--path", str(path), "--follow", "--output", "json", "--policy", "front-line"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "controller", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert follower.stdout is not None
    try:
        assert json.loads(follower.stdout.readline())["cycle_id"] == "c1"  # the history first
        writer.write_batch([record(3, policy="other"), record(4)])
        assert json.loads(follower.stdout.readline())["cycle_id"] == "c4"  # filtered like the history
        for i in range(5, 12):  # ~500 bytes a record: rotates at least twice
            writer.write_batch([record(i)])
        assert path.with_name("audit.jsonl.1").exists()
        seen = [json.loads(follower.stdout.readline())["cycle_id"] for _ in range(5, 12)]
        assert seen == [f"c{i}" for i in range(5, 12)]
    finally:
        follower.send_signal(signal.SIGINT)
        code = follower.wait()
    assert code == 0, follower.stderr.read() if follower.stderr else ""
