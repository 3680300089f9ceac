"""The shells feed the timeline: a reconcile cycle records its reads and its confirmed writes."""

from __future__ import annotations

from pathlib import Path

from controller.adherence.daily import today_ratios
from controller.adherence.recorder import TimelineRecorder
from controller.adherence.store import TimelineStore
from controller.audit import AuditWriter
from controller.emulator.server import RunningEmulator
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.metrics import Metrics
from tests.engine.conftest import emulator_clock, open_test_session


def test_a_cycle_records_its_reads_and_confirmed_writes(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    session = open_test_session(day_emulator)
    clock = emulator_clock(day_emulator)
    store = TimelineStore(tmp_path / "adherence.sqlite")
    recorder = TimelineRecorder(store, clock)
    metrics = Metrics()
    executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), metrics, clock)
    reconciler = Reconciler(session.client, session.org_reader, metrics, clock, executor, recorder)
    result = reconciler.cycle(session.state)
    recorder.flush()
    assert result.report is not None and result.report.ok, "the demo org starts with corrections to make"
    for user_id in result.report.ok:
        changes = store.changes(user_id)
        assert [c.source for c in changes] == ["read", "write"], user_id
        live = session.client.presence.get_presence(user_id)
        assert changes[-1].presence_id == live.presence_id and changes[-1].start == live.modified
    unwritten = set(result.observed) - set(result.report.ok)
    assert unwritten and all([c.source for c in store.changes(u)] == ["read"] for u in unwritten)
    executor.close()
    store.close()


def test_todays_time_weighted_ratio_comes_from_the_timeline(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    """presencectl_adherence_ratio's figure: London Support's windows are open at 10:00 UTC; after
    ten recorded minutes every policy with known scheduled time has a ratio in [0, 1]."""
    session = open_test_session(day_emulator)
    clock = emulator_clock(day_emulator)
    database = tmp_path / "adherence.sqlite"
    store = TimelineStore(database)
    recorder = TimelineRecorder(store, clock)
    metrics = Metrics()
    executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), metrics, clock)
    reconciler = Reconciler(session.client, session.org_reader, metrics, clock, executor, recorder)
    reconciler.cycle(session.state)
    day_emulator.control.advance_clock(600)
    reconciler.cycle(session.state)
    recorder.flush()
    ratios = today_ratios(session, str(database), clock())
    assert "emea-support-hours" in ratios and all(0.0 <= r <= 1.0 for r in ratios.values())
    # Some London agents are logged out (left alone, out of adherence), the others were corrected.
    assert 0.0 < ratios["emea-support-hours"] < 1.0
    executor.close()
    store.close()
