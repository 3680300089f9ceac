"""Acceptance: a full day of published schedules run through the emulator's clock.

The reconciler is woken at each next boundary it computes (the emulator clock jumps there, as
the daemon's timer would fire there); after each cycle every managed agent with a desired
presence is in it, each write confirmed and in the audit (the boundary -> write latency is
measured by `bench/engine.py`, not gated here).
Agents log in before their shifts and out after them (some never come): the logged-out ones are
left alone, never written, and none is ever On Queue.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from controller.audit import AuditWriter, read_audit
from controller.core.planner import SAFETY_SKIPS
from controller.emulator.server import RunningEmulator
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.metrics import Metrics
from tests.engine.conftest import emulator_clock, open_test_session


def test_a_day_of_boundaries_each_met_within_a_second(day_emulator: RunningEmulator, tmp_path: Path) -> None:
    emu = day_emulator
    session = open_test_session(emu)
    clock = emulator_clock(emu)
    metrics = Metrics()
    audit_path = tmp_path / "audit.jsonl"
    executor = Executor(session.client, AuditWriter(audit_path), metrics, clock)
    reconciler = Reconciler(session.client, session.org_reader, metrics, clock, executor)

    start = clock()
    result = reconciler.cycle(session.state)
    boundaries = logged_out_left_alone = 0
    on_queue = session.client.presence.presence_catalog().resolve("On Queue").id  # type: ignore[union-attr]
    writes = len(result.report.ok) if result.report else 0
    while result.next_boundary is not None and result.next_boundary < start + timedelta(hours=24):
        boundary = result.next_boundary
        emu.control.set_clock(boundary)
        result = reconciler.cycle(session.state, boundary=boundary)
        boundaries += 1
        report = result.report
        if report is not None:
            assert not report.failed, f"writes failed at {boundary}: {report.failed}"
            writes += len(report.ok)
        # Every managed agent with an opinion is now in its desired presence (read back live),
        # except those a safety rule leaves alone: logged out (no-shows, not yet or no longer
        # logged in), and those were not written.
        live = session.client.presence.observe([d.user_id for d in result.plan.decisions])
        left_alone = {s.user_id for s in result.plan.skipped if s.kind in SAFETY_SKIPS}
        written = set(report.ok) if report is not None else set()
        assert not left_alone & written
        logged_out_left_alone += len(left_alone)
        for d in result.plan.decisions:
            target = d.decision.target
            if d.user_id in left_alone:
                assert not emu.backend.presence.users[d.user_id].logged_in, (boundary, d)
            elif target is not None and d.decision.reason.kind.value != "none":
                assert live[d.user_id].presence_id == target.definition_id, (boundary, d)
        # Nobody logged out is On Queue: no interaction rings at an empty desk.
        assert not [
            u
            for u, st in emu.backend.presence.users.items()
            if not st.logged_in and st.definition_id == on_queue
        ]

    assert boundaries > 20, "a day of the demo org has many activity edges"
    assert logged_out_left_alone > 0, "the demo org has no-shows and agents logging in and out"
    records = list(read_audit(audit_path))
    assert len(records) == writes
    assert all(r["reason"]["text"] and r["correlation_id"] for r in records)
    executor.close()
