"""Daemon.stop() while the reconcile worker waits for the rate budget (a cycle at a schedule
boundary on a busy org): the wait is abandoned and the worker ends, instead of holding the
shutdown for up to a minute (the cause of the demo's slow Ctrl-C)."""

from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon, wait_in_main_thread
from controller.engine.wakeups import Wake, WakeReason
from tests.engine.conftest import daemon_session, emulator_clock
from tests.support.waiting import wait_for


def waiting_for_budget(thread: threading.Thread) -> bool:
    frame = sys._current_frames().get(thread.ident or -1)
    return frame is not None and any(f.name == "acquire" for f in traceback.extract_stack(frame))


def test_stop_abandons_a_cycle_waiting_for_the_rate_budget(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "test-webhook-secret-0123456789")
    session = daemon_session(day_emulator, tmp_path)
    daemon = Daemon("desired", session, clock=emulator_clock(day_emulator), stream=False)
    daemon.start()
    try:
        wait_for(lambda: daemon.health().ready, "the first full resync")
        budget = daemon.client.budget
        budget.set_rate(1)  # one request a minute from now on: the next cycle waits at once
        while budget.try_acquire() == 0:
            pass
        daemon.wake(Wake(WakeReason.RESYNC))
        worker = daemon._worker
        wait_for(lambda: waiting_for_budget(worker), "the worker waiting for the budget")
    finally:
        daemon.stop()
    assert not worker.is_alive(), "the reconcile worker was still waiting for the budget after stop()"


def test_a_signal_received_by_another_thread_still_stops_the_main_thread_wait() -> None:
    """The kernel may hand SIGTERM to any thread of the daemon; Python runs the handler (which
    sets the stop event) in the main thread only, when it next wakes. A main thread blocked in
    `stop.wait()` with no timeout never woke: `presencectl run` ignored SIGTERM (left running
    after its test had timed out). Fails by the suite's timeout without the fix."""
    stop = threading.Event()
    main = threading.get_native_id()

    def parked() -> bool:  # the main thread sleeps in the kernel (its wait), not in Python
        return Path(f"/proc/self/task/{main}/wchan").read_text().startswith("futex")

    def send() -> None:
        while not all(parked() for _ in range(3)):
            time.sleep(0.01)  # releases the GIL: the main thread reaches its wait
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)  # to this thread, not main

    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: stop.set())
    try:
        sender = threading.Thread(target=send)
        sender.start()
        wait_in_main_thread(stop)
        sender.join()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert stop.is_set()
