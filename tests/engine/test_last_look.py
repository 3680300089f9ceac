"""The last look before a write: an agent that changed after the plan read it is not written.

The platform takes no precondition on a presence write, so the loop looks once more right before
sending: an agent an event named since (its cache entry is gone), or that a newer read shows
otherwise, is skipped and re-planned at once; one no stream watches whose read is older than
LAST_LOOK_AGE is read again, in bulk, first. The emulator tells a write to an agent on an
interaction apart (`writesOnInteraction`), so the race it closes is shown both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from controller.audit import AuditWriter, read_audit
from controller.commands.reconcile import apply_summary
from controller.core.presence import SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.executor import Executor
from controller.engine.reconciler import CycleResult, Reconciler
from controller.engine.render import Style
from controller.engine.session import Session, session_on
from controller.metrics import Metrics
from tests.engine.conftest import DAY, client_for, desired_copy, emulator_clock, open_test_session

WRITES = ("PUT /api/v2/users/presences/bulk", "PATCH /api/v2/users/{userId}/presences/purecloud")


class Rig(NamedTuple):
    emu: RunningEmulator
    session: Session
    reconciler: Reconciler
    audit: Path


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    org = generate_org(agents=60, seed=3, start=DAY - timedelta(days=1), days=3, always_logged_in=True)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(datetime.combine(DAY, time(15), UTC))
        session = open_test_session(emu, desired_copy(tmp_path, grace_seconds=0))
        clock = emulator_clock(emu)
        audit = tmp_path / "audit.jsonl"
        executor = Executor(session.client, AuditWriter(audit), Metrics(), clock)
        yield Rig(
            emu, session, Reconciler(session.client, session.org_reader, Metrics(), clock, executor), audit
        )
        executor.close()


def _off_queue_agent(settled: CycleResult) -> str:
    """An agent whose desired presence now is not On Queue (On Queue by hand is wrong for it)."""

    def off_queue(definition_id: str | None) -> bool:
        found = settled.catalog.by_id(definition_id) if definition_id else None
        return found is not None and found.system_presence is not SystemPresence.ON_QUEUE

    return next(
        d.user_id
        for d in settled.plan.decisions
        if d.decision.target is not None and off_queue(d.decision.target.definition_id)
    )


def _planned_on_a_stale_read(
    rig: Rig, before: Callable[[], object] = lambda: None
) -> tuple[str, CycleResult]:
    """An agent due off queue is put On Queue by hand; the loop reads it (the entry the next plan
    uses); then it picks up an interaction; 5 s later a targeted re-plan plans it from that entry,
    which is still inside the cache's max age (`before` runs just before that re-plan)."""
    emu, session, reconciler, _ = rig
    agent = _off_queue_agent(reconciler.cycle(session.state))
    emu.control.set_presence(agent, "On Queue")
    seen = reconciler.cycle(session.state, only={agent}, write=False)
    assert [a.user_id for a in seen.plan.actions] == [agent], "On Queue is wrong for it (no grace)"
    emu.control.start_interaction(agent)
    emu.control.advance_clock(5)
    emu.control.clear_requests()
    before()
    return agent, reconciler.cycle(session.state, only={agent}, boundary=emu.control.now(), cached=True)


def test_an_agent_that_picked_up_an_interaction_after_its_read_is_not_written(rig: Rig) -> None:
    agent, result = _planned_on_a_stale_read(rig)
    assert [a.user_id for a in result.plan.actions] == [agent], "planned from the 5 s old entry"
    calls = rig.emu.control.request_counts()
    assert calls.get("POST /api/v2/workforcemanagement/users/activity") == 1, "one last look, in bulk"
    assert not any(calls.get(route) for route in WRITES), calls
    assert rig.emu.control.summary()["writesOnInteraction"] == 0
    assert result.report is not None and result.report.changed == (agent,)
    assert result.rechecks[agent] == result.now, "re-planned at once"
    results = [r["result"] for r in read_audit(rig.audit, agent=agent)]
    assert {"status": "skipped", "error_code": "changed"} in results, results
    text, clean = apply_summary(result, None, Style())  # what `presencectl apply` prints
    assert f"skipped {result.agents[agent].email}: changed after it was read; run apply again" in text
    assert "0 written, 0 failed, 1 changed meanwhile" in text and not clean


def test_without_the_last_look_the_write_lands_on_the_interaction(rig: Rig) -> None:
    """The race the last look closes, shown by turning it off: the same plan writes the agent."""
    rig.reconciler.observed.last_look_age = timedelta.max
    agent, result = _planned_on_a_stale_read(rig)
    assert result.report is not None and result.report.ok == (agent,)
    assert rig.emu.control.summary()["writesOnInteraction"] == 1


def test_a_failed_last_look_writes_nothing(rig: Rig) -> None:
    """A state that could not be confirmed is not written on: the agent is re-planned."""

    def refuse_reads() -> None:  # users/activity and its fallback, GET /users
        rig.emu.control.faults(errorRate=1.0, errorStatus=403, pathPattern="/users")

    agent, result = _planned_on_a_stale_read(rig, refuse_reads)
    calls = rig.emu.control.request_counts()
    assert calls.get("POST /api/v2/workforcemanagement/users/activity") == 1, calls
    assert not any(calls.get(route) for route in WRITES), calls
    assert result.report is not None and result.report.changed == (agent,)


def _pause_that_sees_a_call_begin(emu: RunningEmulator) -> tuple[Callable[[float], None], list[str]]:
    """A retry pause of the client during which the agent named in `agent[0]` picks up an
    interaction and 5 s pass (the write's first attempt was refused 503; the fault is gone)."""
    agent: list[str] = []

    def pause(seconds: float) -> None:
        emu.control.clear_faults()
        emu.control.start_interaction(agent[0])
        emu.control.advance_clock(5)

    return pause, agent


@pytest.mark.parametrize("look", [True, False], ids=["last look", "no last look"])
def test_a_write_retried_after_a_pause_looks_again_first(tmp_path: Path, look: bool) -> None:
    """A 503 on the write, then a retry pause in which the agent picks up an interaction: the retry
    is not sent (Superseded, audited as a failed write 'changed'). Without the last look the
    retry lands on the interaction, which is what the platform allows."""
    org = generate_org(agents=60, seed=3, start=DAY - timedelta(days=1), days=3, always_logged_in=True)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(datetime.combine(DAY, time(15), UTC))
        pause, agent = _pause_that_sees_a_call_begin(emu)
        client = client_for(emu, sleep=pause)
        session = session_on(client, str(desired_copy(tmp_path, grace_seconds=0)), emu.control.now())
        clock = emulator_clock(emu)
        executor = Executor(client, AuditWriter(tmp_path / "audit.jsonl"), Metrics(), clock)
        reconciler = Reconciler(client, session.org_reader, Metrics(), clock, executor)
        if not look:
            reconciler.observed.last_look_age = timedelta.max
        try:
            settled = reconciler.cycle(session.state)
            agent.append(_off_queue_agent(settled))
            emu.control.set_presence(agent[0], "On Queue")
            emu.control.faults(errorRate=1.0, errorStatus=503, pathPattern="/presences/purecloud$")
            result = reconciler.cycle(session.state, only=set(agent))
        finally:
            executor.close()
        assert result.report is not None and [w.user_id for w in result.report.writes] == agent
        written = result.report.writes[0]
        if look:
            assert (written.ok, written.error_code) == (False, "changed")
            assert emu.control.summary()["writesOnInteraction"] == 0
            outcome = [r["result"] for r in read_audit(tmp_path / "audit.jsonl", agent=agent[0])][-1]
            assert outcome == {"status": "failed", "error_code": "changed"}
        else:
            assert written.ok
            assert emu.control.summary()["writesOnInteraction"] == 1
