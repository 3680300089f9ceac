"""Corrections overtake a long resync: the periodic resync reads off the worker, in the budget's
resync lane (at most its share, behind any waiting correction), so a hand-made change is put right
while the resync is still reading; the resync then plans everyone against what it read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import CycleResult
from controller.model.types import BlastRadius
from tests.engine.conftest import DAY, DESIRED, daemon_session, emulator_clock
from tests.support.waiting import wait_for

ACTIVITY = "POST /api/v2/workforcemanagement/users/activity"


@pytest.fixture
def org_of_600() -> Iterator[RunningEmulator]:
    org = generate_org(agents=600, seed=5, start=DAY - timedelta(days=1), days=3, always_logged_in=True)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(datetime.combine(DAY, time(15), UTC))  # 10:00 in New York
        yield emu


def started_daemon(emu: RunningEmulator, tmp_path: Path, full: list[CycleResult]) -> Daemon:
    session = daemon_session(
        emu,
        tmp_path,
        rate=120,  # resync reads: 25 % of it, ~1 call / 2 s
        resync_interval_seconds=86400,  # the test starts the resync itself
        webhook_secret=None,
        blast_radius=BlastRadius(percent=100, min_agents=1000),  # the first plan puts 300 agents right
    )
    daemon = Daemon(
        str(DESIRED),
        session,
        clock=emulator_clock(emu),
        resync_chunk=100,
        on_cycle=lambda r: full.append(r) if r.full else None,
    )
    daemon.start()
    return daemon


@contextmanager
def ready_daemon(emu: RunningEmulator, tmp_path: Path) -> Iterator[tuple[Daemon, list[CycleResult]]]:
    """The daemon after its first full resync, with the full cycles it has made; stopped after."""
    full: list[CycleResult] = []
    daemon = started_daemon(emu, tmp_path, full)
    try:
        wait_for(lambda: daemon.health().ready, what="the first full resync")
        yield daemon, full
    finally:
        daemon.stop()


def start_resync(emu: RunningEmulator, daemon: Daemon) -> None:
    """A periodic resync starts and is reading (the request log counts from its reads on)."""
    emu.control.clear_requests()
    daemon.resync()
    wait_for(lambda: emu.control.request_counts().get(ACTIVITY, 0) >= 1, what="the resync's first read")


def test_a_correction_is_written_while_a_long_resync_is_still_reading(
    org_of_600: RunningEmulator, tmp_path: Path
) -> None:
    emu = org_of_600
    with ready_daemon(emu, tmp_path) as (daemon, full):
        wait_for(lambda: daemon.wait_streaming(0), "the notification stream")
        live = daemon.client.presence.observe(sorted(d.user_id for d in full[0].plan.decisions))
        user_id = next(u for u, a in sorted(live.items()) if a.system_presence.value == "OnQueue")
        start_resync(emu, daemon)
        emu.control.set_presence(user_id, "Away")
        wait_for(
            lambda: emu.backend.presence.users[user_id].definition_id == live[user_id].presence_id,
            what="the correction of the hand-made change",
        )
        assert daemon.resync_reading, "the correction waited for the resync's reads"
        before = len(full)
        # Planned against what the background read put in the cache: the worker reads (almost)
        # nobody. (A stream hiccup on a loaded machine may add a full poll that reads everyone.)
        wait_for(lambda: any(r.read <= 1 for r in full[before:]), what="the resync's full plan")
        resync = next(r for r in full[before:] if r.read <= 1)
        assert len(resync.plan.decisions) == len(full[0].plan.decisions)


def test_sigterm_abandons_a_background_resync_read_at_once(
    org_of_600: RunningEmulator, tmp_path: Path
) -> None:
    emu = org_of_600
    with ready_daemon(emu, tmp_path) as (daemon, _):
        start_resync(emu, daemon)
    # leaving the block ran daemon.stop(): what SIGTERM runs
    assert not daemon.resync_reading, "the resync read outlived stop()"
    reads = emu.control.request_counts().get(ACTIVITY, 0)
    assert reads < 6, "the whole org was read before stopping"
    # Nothing reads after stop: the org's 6 reads were abandoned, not queued.
    daemon.resync()
    assert emu.control.request_counts().get(ACTIVITY, 0) == reads
