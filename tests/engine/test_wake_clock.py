"""Wake-ups live on one clock, the daemon's: a boundary (planned on the daemon's clock) and an
event or webhook (stamped when received) sort and coalesce on the same time line. The daemon's
clock here follows the emulator's, days ahead of the wall clock, as in every time-travel test."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.wakeups import Wake, WakeReason, coalesce
from controller.webhook import RecheckAgent
from tests.engine.conftest import daemon_session, emulator_clock
from tests.support.waiting import wait_for


def test_event_and_webhook_wakes_are_stamped_on_the_daemons_clock(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "test-webhook-secret-0123456789")
    session = daemon_session(day_emulator, tmp_path)
    clock = emulator_clock(day_emulator)
    daemon = Daemon("desired", session, clock=clock, stream=False)
    daemon.start()
    woken: list[Wake] = []
    try:
        wait_for(lambda: daemon.health().ready, "the first full resync")
        monkeypatch.setattr(daemon, "wake", woken.append)  # keep them from the worker
        before = clock()
        daemon._on_agents({"agent-a"}, "stream")
        daemon._on_webhook(RecheckAgent("event-1", "agent-b", "v2.users.agent-b.activity"))
        after = clock()
    finally:
        daemon.stop()
    assert [w.reason for w in woken] == [WakeReason.EVENT, WakeReason.WEBHOOK]
    assert all(w.at is not None and before <= w.at <= after for w in woken), [w.at for w in woken]
    # On one time line a recheck due before the event leads the coalesced wake.
    recheck = Wake(WakeReason.RECHECK, frozenset({"agent-c"}), before - timedelta(seconds=1))
    assert coalesce([woken[0], recheck]).reason is WakeReason.RECHECK
