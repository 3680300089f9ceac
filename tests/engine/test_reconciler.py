"""One cycle against the emulator: plan, apply, converge, and the calls a resync costs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from controller.audit import AuditWriter, read_audit
from controller.core.planner import SkipKind
from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.metrics import Metrics
from controller.model.types import BlastRadius, Mode
from tests.engine.conftest import emulator_clock, open_test_session


def test_apply_converges_and_replanning_finds_nothing(day_emulator: RunningEmulator, tmp_path: Path) -> None:
    emu = day_emulator
    session = open_test_session(emu)
    clock = emulator_clock(emu)
    audit_path = tmp_path / "audit.jsonl"
    executor = Executor(session.client, AuditWriter(audit_path), Metrics(), clock)
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock, executor)

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
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock)
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
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock, executor)
    emu.control.clear_requests()

    result = reconciler.cycle(observed_state)

    assert result.plan.actions and not result.plan.writable
    writes = {k: v for k, v in emu.control.request_counts().items() if k.startswith(("PUT", "PATCH"))}
    assert writes == {}
    executor.close()


def test_a_targeted_replan_of_three_hand_changes_is_not_held(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Three agents change presence by hand at once; the event-driven re-plan looks at those three
    only. The guard weighs them against every managed agent (50 % of ~60), not against the three
    looked at (50 % of 3 = 1), so the corrections are written."""
    emu = day_emulator
    session = open_test_session(emu)
    no_grace = tuple(replace(p, rules=replace(p.rules, grace_seconds=0)) for p in session.state.policies)
    config = replace(session.state.config, blast_radius=BlastRadius(50, 1))
    state = replace(session.state.with_policies(no_grace), config=config)
    clock = emulator_clock(emu)
    executor = Executor(session.client, AuditWriter(tmp_path / "a.jsonl"), Metrics(), clock)
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock, executor)
    reconciler.cycle(state)
    settled = reconciler.cycle(state)
    in_desired = [
        s.user_id
        for s in settled.plan.skipped
        if s.kind is SkipKind.IN_DESIRED
        and settled.observed[s.user_id].system_presence is not SystemPresence.AWAY
    ]
    hand_changed = sorted(in_desired)[:3]
    assert len(hand_changed) == 3
    for user_id in hand_changed:
        emu.control.set_presence(user_id, "Away")

    result = reconciler.cycle(state, only=set(hand_changed))

    assert not result.plan.held, result.plan.held_reason
    assert result.plan.managed == settled.plan.managed > 6
    assert result.report is not None and sorted(result.report.ok) == hand_changed
    executor.close()
