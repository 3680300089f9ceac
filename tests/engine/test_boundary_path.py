"""A boundary is met without re-reading the org: the changing agents are known before it (a heap
of per-agent next changes), planned against the observed cache, and only entries that are not
fresh are read, in bulk. The calls between the boundary and the write are counted in the
emulator's request log."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from controller.audit import AuditWriter
from controller.core.selection import select_agents
from controller.core.timeline import agent_changes, next_boundary
from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.executor import Executor
from controller.engine.reconciler import CycleResult, Reconciler
from controller.engine.session import Session
from controller.metrics import Metrics
from tests.engine.conftest import DAY, emulator_clock, open_test_session

ACTIVITY = "POST /api/v2/workforcemanagement/users/activity"
USERS = "GET /api/v2/users"
BULK_WRITE = "PUT /api/v2/users/presences/bulk"


@pytest.fixture
def org_of_300() -> Iterator[RunningEmulator]:
    org = generate_org(agents=300, seed=3, start=DAY - timedelta(days=1), days=3, always_logged_in=True)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(datetime.combine(DAY, time(13), UTC))
        yield emu


class Rig(NamedTuple):
    emu: RunningEmulator
    session: Session
    reconciler: Reconciler  # writing through an executor, on the emulator's clock


@pytest.fixture
def rig(org_of_300: RunningEmulator, tmp_path: Path) -> Iterator[Rig]:
    session = open_test_session(org_of_300)
    clock = emulator_clock(org_of_300)
    executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), Metrics(), clock)
    yield Rig(org_of_300, session, Reconciler(session.client, session.org_reader, Metrics(), clock, executor))
    executor.close()


def test_a_boundary_reads_only_its_changing_agents_then_writes(
    rig: Rig,
) -> None:
    emu, session, reconciler = rig
    full = reconciler.cycle(session.state)
    full_reads = emu.control.request_counts()[ACTIVITY]
    assert full.read > 200 and full_reads >= 3

    writes = boundaries = 0
    result = full
    while writes == 0 and boundaries < 20:
        at, changing = result.next_boundary, result.boundary_agents
        assert at is not None and changing, "the org's agents change activity during the day"
        emu.control.set_clock(at)
        emu.control.clear_requests()
        result = reconciler.cycle(session.state, only=changing, boundary=at, cached=True)
        boundaries += 1
        calls = emu.control.request_counts()
        # The cache entries are older than their max age (the clock jumped): the changing agents
        # alone are read again, in bulk; nobody else is.
        assert result.read == len(changing) < full.read
        assert calls.get(ACTIVITY, 0) == math.ceil(len(changing) / 100)
        assert calls.get(USERS, 0) == 0
        assert {d.user_id for d in result.plan.decisions} == set(changing)
        if result.report is not None and result.report.ok:
            writes += len(result.report.ok)
            assert calls[BULK_WRITE] == math.ceil(len(result.report.ok) / 50)
        # The heap, re-walked only for the agents whose change passed, agrees with a full walk.
        assert (result.next_boundary, result.boundary_agents) == walked_from_scratch(session, result)
    assert writes > 0, "some boundary of the day needed a correction"


def test_with_a_connected_stream_a_boundary_writes_without_any_read(
    rig: Rig,
) -> None:
    emu, session, reconciler = rig
    result = reconciler.cycle(session.state)
    # What the daemon does while every channel is connected: no event named these agents since
    # their read (agents here stay logged in and nobody changes presence by hand).
    reconciler.observed.stream({d.user_id for d in result.plan.decisions})
    writes = boundaries = 0
    while writes == 0 and boundaries < 20:
        at, changing = result.next_boundary, result.boundary_agents
        assert at is not None and changing
        emu.control.set_clock(at)
        emu.control.clear_requests()
        result = reconciler.cycle(session.state, only=changing, boundary=at, cached=True)
        boundaries += 1
        calls = emu.control.request_counts()
        assert result.read == 0
        assert calls.get(ACTIVITY, 0) == calls.get(USERS, 0) == 0, calls
        if result.report is not None and result.report.ok:
            writes += len(result.report.ok)
            # The write, then its read-back (the confirmation), and nothing else read presence.
            assert calls[BULK_WRITE] == math.ceil(len(result.report.ok) / 50)
    assert writes > 0
    # The confirmed writes fed the cache: what it holds for them is what the org shows.
    written = list(result.report.ok) if result.report is not None else []
    live = session.client.presence.observe(written)
    cached, stale = reconciler.observed.split(written, emulator_clock(emu)())
    assert not stale
    assert {a: o.presence_id for a, o in cached.items()} == {a: o.presence_id for a, o in live.items()}


def test_a_boundary_after_the_directory_and_schedule_ttls_reads_neither(
    org_of_300: RunningEmulator, tmp_path: Path
) -> None:
    """Boundaries an hour after the last full cycle (the directory is kept 30 min, schedules 15)
    still read nothing of the org but their stale agents: the whole org's directory and schedules
    are read again by the next full resync, never on a boundary's path."""
    emu = org_of_300
    session = open_test_session(emu)
    clock = emulator_clock(emu)
    executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), Metrics(), clock)
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock, executor)
    full = reconciler.cycle(session.state)
    result, late = full, 0
    while late < 3:
        at, changing = result.next_boundary, result.boundary_agents
        assert at is not None and changing
        emu.control.set_clock(at)
        emu.control.clear_requests()
        result = reconciler.cycle(session.state, only=changing, boundary=at, cached=True)
        org_reads = [
            c for c in emu.control.request_counts() if c == USERS or "agentschedules" in c or "units" in c
        ]
        assert not org_reads, f"a boundary at {at:%H:%M} read the org: {org_reads}"
        late += at - full.now > timedelta(hours=1)
    emu.control.clear_requests()
    reconciler.cycle(session.state)  # the next full resync reads them again
    calls = emu.control.request_counts()
    assert calls[USERS] >= 1 and any("agentschedules/search" in c for c in calls)
    executor.close()


def test_agents_read_just_before_their_boundary_are_planned_at_it_without_a_read(
    org_of_300: RunningEmulator, tmp_path: Path
) -> None:
    """Agents no stream watches (above one client's capacity) are read in bulk shortly before
    their boundary (the daemon's prefetch), so the boundary plans them without reading. The ones
    it writes get the last look first: their read is 10 s old and nothing watches them, so they
    are read once more, in bulk, just before the write."""
    emu = org_of_300
    session = open_test_session(emu)
    clock = emulator_clock(emu)
    executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), Metrics(), clock)
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock, executor)
    result = reconciler.cycle(session.state)
    at, changing = result.next_boundary, result.boundary_agents
    assert at is not None and changing
    emu.control.set_clock(at - timedelta(seconds=10))  # the cache entries are older than 30 s now
    emu.control.clear_requests()
    assert reconciler.prefetch(changing) == len(changing)
    assert emu.control.request_counts() == {ACTIVITY: math.ceil(len(changing) / 100)}
    assert reconciler.prefetch(changing) == 0  # fresh now: nothing read twice
    emu.control.set_clock(at)
    emu.control.clear_requests()
    boundary = reconciler.cycle(session.state, only=changing, boundary=at, cached=True)
    calls = emu.control.request_counts()
    assert boundary.read == 0 and calls.get(USERS, 0) == 0, calls
    assert boundary.report is not None
    written = len(boundary.report.writes)
    assert written and calls.get(ACTIVITY, 0) == math.ceil(written / 100), calls
    executor.close()


def walked_from_scratch(session: Session, result: CycleResult) -> tuple[datetime | None, frozenset[str]]:
    directory = session.org_reader.directory(result.now)
    managed = select_agents(session.state, directory.agents).by_agent
    schedules = session.org_reader.schedules(directory, managed.keys(), result.now)
    args = (managed, directory.agents, schedules.by_agent, schedules.codes, result.now)
    at = next_boundary(*args, catalog=result.catalog)
    changes = agent_changes(*args, catalog=result.catalog)
    return at, frozenset(a for a, t in changes.items() if t == at)
