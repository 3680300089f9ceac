"""One cycle against the emulator: plan, apply, converge, and the calls a resync costs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from controller.audit import AuditWriter, read_audit
from controller.emulator.server import RunningEmulator
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.metrics import Metrics
from controller.model.types import Mode
from tests.engine.conftest import emulator_clock, open_test_session


def test_apply_converges_and_replanning_finds_nothing(day_emulator: RunningEmulator, tmp_path: Path) -> None:
    emu = day_emulator
    session = open_test_session(emu)
    clock = emulator_clock(emu)
    audit_path = tmp_path / "audit.jsonl"
    executor = Executor(session.client, AuditWriter(audit_path), Metrics(), clock)
    reconciler = Reconciler(session.client, session.world, Metrics(), clock, executor)

    first = reconciler.cycle(session.state)
    assert first.plan.writable, "the demo org starts with agents out of their desired presence"
    assert first.report is not None and not first.report.failed
    assert set(first.report.ok) == {a.user_id for a in first.plan.writable}

    second = reconciler.cycle(session.state)
    assert second.plan.actions == ()
    records = list(read_audit(audit_path))
    assert len(records) == len(first.plan.writable)
    assert all(r["reason"]["text"] and r["result"]["status"] == "ok" for r in records)
    executor.close()


def test_a_resync_without_drift_reads_presence_in_bulk_only(day_emulator: RunningEmulator) -> None:
    emu = day_emulator
    session = open_test_session(emu)
    clock = emulator_clock(emu)
    reconciler = Reconciler(session.client, session.world, Metrics(), clock)
    reconciler.cycle(session.state, write=False)  # warms the directory and schedule caches
    emu.control.clear_requests()

    result = reconciler.cycle(session.state, write=False)

    counts = emu.control.request_counts()
    managed = result.plan.managed
    assert counts == {"POST /api/v2/workforcemanagement/users/activity": -(-managed // 100)}


def test_observe_mode_plans_but_never_writes(day_emulator: RunningEmulator, tmp_path: Path) -> None:
    emu = day_emulator
    session = open_test_session(emu)
    observed_state = session.state.with_policies(
        tuple(replace(p, mode=Mode.OBSERVE) for p in session.state.policies)
    )
    clock = emulator_clock(emu)
    executor = Executor(session.client, AuditWriter(tmp_path / "a.jsonl"), Metrics(), clock)
    reconciler = Reconciler(session.client, session.world, Metrics(), clock, executor)
    emu.control.clear_requests()

    result = reconciler.cycle(observed_state)

    assert result.plan.actions and not result.plan.writable
    writes = {k: v for k, v in emu.control.request_counts().items() if k.startswith(("PUT", "PATCH"))}
    assert writes == {}
    executor.close()
