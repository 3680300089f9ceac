"""SIGTERM while the daemon reads a large org: reads stop at once, the process exits 0.

Before the fix a SIGTERM during a full read let every remaining read batch run (a 10,000-agent
read at 2 s latency outlived Kubernetes' 30 s grace). The proof is counted, not timed: read
requests the emulator serves after the signal are at most the ones already on the wire.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import Harness, chaos_emulator, desired_for_chaos
from tests.support.waiting import wait_for

OBSERVE = "POST /api/v2/workforcemanagement/users/activity"
IN_FLIGHT_MAX = 8  # the client's 4 read workers, twice: some may start while the signal travels


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with chaos_emulator(3000) as emu:
        audit_path = tmp_path / "audit" / "audit.jsonl"
        yield Harness(emu, desired_for_chaos(tmp_path, audit_path), audit_path)


def observe_calls(harness: Harness) -> int:
    return sum(1 for r in harness.requests() if f"{r['method']} {r['route']}" == OBSERVE)


def test_sigterm_during_a_full_read_abandons_the_reads_and_exits_zero(harness: Harness) -> None:
    harness.emu.control.faults(latencyMs=300, pathPattern=r"/users/activity$")  # 30 batches of 100
    process = harness.start("run")
    try:
        wait_for(lambda: observe_calls(harness) >= 2, "the daemon's full read under way")
        at_signal = observe_calls(harness)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate()
    finally:
        process.kill()
    assert process.returncode == 0, err[-3000:]
    served_after = observe_calls(harness) - at_signal
    assert served_after <= IN_FLIGHT_MAX, f"{served_after} read batches were still sent after SIGTERM"
    assert harness.writes_seen() == 0  # the cycle never got to planning writes
    assert "Traceback" not in err
