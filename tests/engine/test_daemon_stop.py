"""Daemon.stop() while the reconcile worker waits for the rate budget (a cycle at a schedule
boundary on a busy org): the wait is abandoned and the worker ends, instead of holding the
shutdown for up to a minute (the cause of the demo's slow Ctrl-C)."""

from __future__ import annotations

import sys
import threading
import traceback
from dataclasses import replace
from pathlib import Path

import pytest

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.session import Session
from controller.engine.wakeups import Wake, WakeReason
from tests.chaos.harness import wait_until
from tests.engine.conftest import emulator_clock, open_test_session


def waiting_for_budget(thread: threading.Thread) -> bool:
    frame = sys._current_frames().get(thread.ident or -1)
    return frame is not None and any(f.name == "acquire" for f in traceback.extract_stack(frame))


def test_stop_abandons_a_cycle_waiting_for_the_rate_budget(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "test-webhook-secret-0123456789")
    session = open_test_session(day_emulator)
    config = replace(session.state.config, audit_path=str(tmp_path / "audit.jsonl"), http_bind="127.0.0.1:0")
    session = Session(session.client, session.org_reader, replace(session.state, config=config))
    daemon = Daemon("desired", session, clock=emulator_clock(day_emulator), stream=False)
    daemon.start()
    try:
        wait_until(lambda: daemon.health().ready, "the first full resync")
        budget = daemon.client.budget
        budget.set_rate(1)  # one request a minute from now on: the next cycle waits at once
        while budget.try_acquire() == 0:
            pass
        daemon.wake(Wake(WakeReason.RESYNC))
        worker = daemon._worker
        wait_until(lambda: waiting_for_budget(worker), "the worker waiting for the budget")
    finally:
        daemon.stop()
    assert not worker.is_alive(), "the reconcile worker was still waiting for the budget after stop()"
