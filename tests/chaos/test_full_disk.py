"""A disk that fills up mid-run, for real: the audit directory is a tmpfs of a few hundred KiB.

The daemon stops writing presence as soon as a write's intent cannot be recorded (fail closed),
says so on /healthz (503) and in `presencectl_audit_writable`, leaves no torn line, and resumes
by itself once there is room. `apply`, killed at random points while the disk fills, loses no
record either. Skipped (with the reason) where a tmpfs cannot be mounted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.session import session_on
from tests.chaos.harness import Harness, chaos_emulator, desired_for_chaos, kill_rounds
from tests.engine.conftest import client_for, emulator_clock
from tests.smallfs import grow, small_filesystem
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with chaos_emulator(5000) as running:
        yield running


def test_the_daemon_fails_closed_on_a_full_disk_and_resumes_when_there_is_room(
    emu: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "chaos-webhook-secret-0123456789")
    with small_filesystem(tmp_path / "fs", 384) as fs:
        harness = Harness(emu, desired_for_chaos(tmp_path, fs / "audit.jsonl"), fs / "audit.jsonl")
        start = emu.backend.clock.now()
        session = session_on(client_for(emu, 1_000_000), str(harness.directory), start)
        clock = emulator_clock(emu)
        daemon = Daemon(
            str(harness.directory), session, clock=clock, stream=False, audit_retry=timedelta(seconds=0.2)
        )
        daemon.start()
        try:
            health = f"http://127.0.0.1:{daemon.http_port}/healthz"
            wait_for(lambda: requests.get(health, timeout=5).status_code == 503, "/healthz failing")
            body = requests.get(health, timeout=5).json()
            assert "No space left" in body["reason"] and "presence writes stopped" in body["reason"]
            metrics = daemon.metrics.registry
            assert metrics.get_sample_value("presencectl_audit_writable") == 0
            failures = metrics.get_sample_value("presencectl_audit_write_failures_total") or 0
            assert failures >= 1
            # It keeps retrying, and every write Genesys accepted meanwhile has its intent on disk.
            wait_for(
                lambda: (metrics.get_sample_value("presencectl_audit_write_failures_total") or 0) > failures,
                "a retry",
            )
            assert harness.unrecorded(start) == {}
            assert harness.audit_problems() == []  # nothing torn, without any restart
            written_while_full = harness.writes_seen()

            grow(fs, 16 * 1024)  # the operator frees space
            wait_for(lambda: requests.get(health, timeout=5).status_code == 200, "/healthz ok again")
            wait_for(lambda: harness.pending() == 0, "every intent completed by its outcome")
            wait_for(lambda: harness.writes_seen() > written_while_full, "writing resumed")
            assert metrics.get_sample_value("presencectl_audit_writable") == 1
        finally:
            daemon.stop()
        assert harness.unrecorded(start) == {}
        assert harness.audit_problems() == []


def test_kill_9_of_apply_while_the_disk_fills_loses_no_audit_record(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    with small_filesystem(tmp_path / "fs", 256) as fs:
        harness = Harness(emu, desired_for_chaos(tmp_path, fs / "audit.jsonl"), fs / "audit.jsonl")
        kills, writes = kill_rounds(
            harness,
            "apply",
            rounds=6,
            seed=30,
            # Each round the disk gets a little room and fills up again mid-run.
            before_round=lambda n: grow(fs, 256 + 64 * (n + 1)),
            after_first_write=(0, 4),
            before_restart=lambda: grow(fs, 16 * 1024),
        )
        # A round whose apply stops on the full disk before its kill point exits by itself (fail
        # closed): how many rounds end in a kill depends on timing, so one suffices to be meaningful.
        assert kills >= 1 and writes > 0
        print(f"apply on a filling disk: {kills} kills, {writes} write requests accepted, 0 unrecorded")
