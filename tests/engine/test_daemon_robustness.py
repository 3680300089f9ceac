"""The daemon on an idle org: reading desired/ never reloads it, a reload of unchanged content
costs no API call, and a cycle the API refuses is one log line and does not stop the next.

Before: one `cat desired/mapping-wfm.yaml` started a loop (the watcher reacted to open/close
events, the reload's own reads made more), and every reload re-read presence definitions and
the directory: on an idle 200-agent org about 240 of the 300 calls a minute.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchdog.events import FileSystemEvent, FileSystemEventHandler

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.desired_watch import DesiredWatch
from controller.engine.wakeups import Wake, WakeReason
from controller.metrics import TRIGGER_STATES
from tests.engine.conftest import DAY, SECRET, daemon_session, desired_copy, emulator_clock
from tests.support.waiting import wait_for


class Barrier(FileSystemEventHandler):
    """Sees the watch's events in order: once it saw `name`, every earlier event was handled."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.changed = threading.Condition()

    def on_any_event(self, event: FileSystemEvent) -> None:
        with self.changed:
            self.seen.add(Path(str(event.src_path)).name)
            self.changed.notify_all()

    def reached(self, directory: Path, name: str) -> None:
        (directory / name).write_text("barrier")
        with self.changed:
            assert self.changed.wait_for(lambda: name in self.seen, timeout=30), f"no event for {name}"


def read_every_file(directory: Path, times: int) -> None:
    for _ in range(times):
        for path in sorted(directory.glob("*.yaml")):
            path.read_bytes()  # `cat`: open, read, close


def test_reads_never_arm_the_watcher_and_writes_do(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: x\n")
    fired = threading.Event()
    watch = DesiredWatch(tmp_path, fired.set, delay=3600)  # a change stays pending: nothing fires
    barrier = Barrier()
    watch.also_notify(barrier)
    watch.start()
    try:
        read_every_file(tmp_path, 20)
        barrier.reached(tmp_path, "after-reads.txt")
        assert not watch.pending, "reading desired/ armed a reload"
        (tmp_path / "a.yaml").write_text("kind: y\n")
        barrier.reached(tmp_path, "after-write.txt")
        assert watch.pending, "a write did not arm a reload"
    finally:
        watch.stop()
    assert not fired.is_set()


@pytest.fixture
def idle_daemon(
    day_emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Daemon]:
    """A ready daemon with no periodic resync, no stream and no grace: nothing calls the API
    unless something wakes it."""
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", SECRET)
    directory = desired_copy(tmp_path, 0)
    extra = getattr(request, "param", {}).get("override")
    if extra is not None:
        policy = directory / "policy-customer-care.yaml"
        policy.write_text(policy.read_text().replace("  overrides:\n", f"  overrides:\n{extra}", 1))
    session = daemon_session(
        day_emulator, tmp_path, directory, resync_interval_seconds=86_400, trigger_interval_seconds=86_400
    )
    daemon = Daemon(str(directory), session, clock=emulator_clock(day_emulator), stream=False)
    daemon.start()
    try:
        wait_for(lambda: daemon.health().ready, what="the first full resync")
        wait_for(lambda: trigger_pass_done(daemon), what="the trigger pass at start")
        yield daemon
    finally:
        daemon.stop()


def trigger_pass_done(daemon: Daemon) -> bool:
    values = (
        daemon.metrics.registry.get_sample_value("presencectl_triggers", {"state": state}) or 0.0
        for state in TRIGGER_STATES
    )
    return sum(values) >= 1  # desired/ declares one EventSubscription


def reloads(daemon: Daemon, result: str) -> float:
    value = daemon.metrics.registry.get_sample_value("presencectl_desired_reloads_total", {"result": result})
    return value or 0.0


def test_reading_and_resaving_desired_costs_no_api_call(
    idle_daemon: Daemon, day_emulator: RunningEmulator
) -> None:
    directory = Path(idle_daemon.directory)
    day_emulator.control.clear_requests()
    read_every_file(directory, 10)
    mapping = directory / "mapping-wfm.yaml"
    mapping.write_bytes(mapping.read_bytes())  # saved without edits: a content event, same digest
    wait_for(lambda: reloads(idle_daemon, "unchanged") >= 1, what="the reload of unchanged content")
    idle_daemon.wake(Wake(WakeReason.DESIRED))  # as a burst of events would
    wait_for(lambda: reloads(idle_daemon, "unchanged") >= 2, what="the second unchanged reload")
    assert day_emulator.control.requests_log() == []
    assert reloads(idle_daemon, "applied") == 0


def test_a_real_change_is_applied_once(idle_daemon: Daemon, day_emulator: RunningEmulator) -> None:
    directory = Path(idle_daemon.directory)
    before = idle_daemon.desired.digest
    mapping = directory / "mapping-wfm.yaml"
    mapping.write_text(mapping.read_text().replace("WFM_AWAY: Away", "WFM_AWAY: Away\n    WFM_GONE: Offline"))
    wait_for(lambda: reloads(idle_daemon, "applied") >= 1, what="the reload")
    assert reloads(idle_daemon, "applied") == 1 and idle_daemon.desired.digest != before
    assert any("WFM_GONE" in m.states for m in idle_daemon.desired.mappings)


def cycles(daemon: Daemon, result: str) -> float:
    value = daemon.metrics.registry.get_sample_value("presencectl_reconcile_cycles_total", {"result": result})
    return value or 0.0


def test_a_cycle_whose_429s_outlast_the_retries_is_one_line_and_the_next_cycle_runs(
    idle_daemon: Daemon, day_emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ok_before = cycles(idle_daemon, "ok")
    # The cycle's bulk read and its 5 retries (only that path: a trigger pass may be running too).
    day_emulator.control.faults(burst429={"count": 6, "retryAfter": 0}, pathPattern="/users/activity$")
    idle_daemon.wake(Wake(WakeReason.RESYNC))
    wait_for(lambda: cycles(idle_daemon, "rate_limited") == 1, what="the rate-limited cycle")
    failed = [r for r in caplog.records if r.getMessage() == "reconcile cycle failed"]
    assert len(failed) == 1, failed
    (line,) = failed
    assert line.levelno == logging.ERROR and line.exc_info is None, "a traceback for an API refusal"
    assert getattr(line, "status", None) == 429 and getattr(line, "retry_in_seconds", 0) >= 30
    idle_daemon.wake(Wake(WakeReason.RESYNC))
    wait_for(lambda: cycles(idle_daemon, "ok") > ok_before, what="the next cycle")
    assert cycles(idle_daemon, "failed") == 0


EXPIRED = f"""    - agent: agent00003@demo.example.com
      presence: Training
      until: "{DAY.isoformat()}T09:00:00Z"
      reason: A course that ended an hour before the emulator's 10:00
"""


@pytest.mark.parametrize("idle_daemon", [{"override": EXPIRED}], indirect=True)
def test_an_expired_override_is_audited_once_and_ignored(idle_daemon: Daemon, tmp_path: Path) -> None:
    assert idle_daemon.desired.expired and len(idle_daemon.desired.policies[0].overrides) == 1
    ok_before = cycles(idle_daemon, "ok")
    idle_daemon.wake(Wake(WakeReason.RESYNC))
    wait_for(lambda: cycles(idle_daemon, "ok") > ok_before, what="a second full cycle")
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    expired = [json.loads(line) for line in lines if '"override_expired"' in line]
    assert len(expired) == 1, expired
    (record,) = expired
    assert record["agent"]["email"] == "agent00003@demo.example.com"
    assert (record["mode"], record["result"]["status"]) == ("observed", "skipped")
    assert record["desired"]["label"] == "Training" and "expired" in record["reason"]["text"]
