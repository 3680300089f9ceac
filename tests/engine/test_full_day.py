"""Acceptance: a full day of published schedules run through the emulator's clock.

The reconciler is woken at each next boundary it computes (the emulator clock jumps there, as
the daemon's timer would fire there); after each cycle every managed agent with a desired
presence is in it, each write was confirmed within 1 s of its boundary, and each is in the audit.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from controller.audit import AuditWriter, read_audit
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
    reconciler = Reconciler(session.client, session.world, metrics, clock, executor)

    start = clock()
    result = reconciler.cycle(session.state)
    boundaries = 0
    writes = len(result.report.ok) if result.report else 0
    latencies: list[float] = []
    while result.next_boundary is not None and result.next_boundary < start + timedelta(hours=24):
        boundary = result.next_boundary
        emu.control.set_clock(boundary)
        result = reconciler.cycle(session.state, boundary=boundary)
        boundaries += 1
        report = result.report
        if report is not None:
            assert not report.failed, f"writes failed at {boundary}: {report.failed}"
            writes += len(report.ok)
            latencies.append((clock() - boundary).total_seconds())
        # Every managed agent with an opinion is now in its desired presence (read back live).
        live = session.client.observe([d.user_id for d in result.plan.decisions])
        for d in result.plan.decisions:
            target = d.decision.target
            if target is not None and d.decision.reason.kind.value != "none":
                assert live[d.user_id].presence_id == target.definition_id, (boundary, d)

    assert boundaries > 20, "a day of the demo org has many activity edges"
    assert max(latencies) < 1.0, f"boundary -> confirmed write p100 {max(latencies):.3f}s"
    records = list(read_audit(audit_path))
    assert len(records) == writes
    assert all(r["reason"]["text"] and r["correlation_id"] for r in records)
    executor.close()
