"""Above one OAuth client's streaming capacity (20 channels x 1,000 topics: 20,000 agents) the
daemon says so once, streams what fits, leaves the rest to the resync (read in its budget lane)
and keeps correcting both. The emulator's limits and the client's are lowered together (2 channels
x 10 topics) so a 60-agent org is over capacity; the emulator answers 400 to an 11th topic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import CycleResult
from tests.engine.conftest import streaming_daemon
from tests.support.waiting import wait_for

CHANNELS, TOPICS = 2, 10
WARNING = "exceed one client's streaming capacity"
SUBSCRIBE = "PUT /api/v2/notifications/channels/{channelId}/subscriptions"


class OverCapacity(NamedTuple):
    daemon: Daemon
    emu: RunningEmulator
    cycles: list[CycleResult]


@pytest.fixture
def over_capacity(day_emulator: RunningEmulator, tmp_path: Path) -> Iterator[OverCapacity]:
    day_emulator.hub.channels_per_client, day_emulator.hub.topics_per_channel = CHANNELS, TOPICS
    with streaming_daemon(day_emulator, tmp_path, stream_limits=(CHANNELS, TOPICS)) as (daemon, cycles):
        yield OverCapacity(daemon, day_emulator, cycles)


def _to_drift(daemon: Daemon, plan: CycleResult, agents: list[str]) -> tuple[str, str, str]:
    """(agent, its desired definition id, a presence to set by hand) for an agent of `agents`
    with an opinion other than Offline and on no interaction: a hand change to that presence
    (which also signs a logged-out agent in) is a drift to correct."""
    desired = {d.user_id: d.decision.target for d in plan.plan.decisions}
    live = daemon.client.presence.observe(agents)
    for user_id, now in sorted(live.items()):
        target = desired.get(user_id)
        if (
            target is not None
            and target.definition_id is not None
            and target.name not in ("Offline", "Busy")
            and now.routing_status.value not in ("INTERACTING", "COMMUNICATING")
        ):
            return user_id, target.definition_id, "Busy"
    raise AssertionError("no agent with an opinion to drift from")


def _corrected(daemon: Daemon, agent: str, definition_id: str) -> bool:
    return daemon.client.presence.get_presence(agent).presence_id == definition_id


def test_over_capacity_streams_what_fits_says_so_once_and_the_resync_corrects_the_rest(
    over_capacity: OverCapacity, caplog: pytest.LogCaptureFixture
) -> None:
    daemon, emu, cycles = over_capacity
    managed = sorted(d.user_id for d in cycles[0].plan.decisions)
    capacity = CHANNELS * TOPICS
    assert len(managed) > capacity
    overflow = daemon.health().details["stream_overflow_agents"]
    assert overflow == len(managed) - capacity

    # Streams what fits: the emulator holds our 2 channels, 10 topics each, and refused nothing.
    ours = [c for c in emu.hub.channels.values() if c.client_id == emu.client_id]
    assert len(ours) == CHANNELS and all(len(c.topics) == TOPICS for c in ours)
    streamed = sorted({t.split(".")[2] for c in ours for t in c.topics})
    assert len(streamed) == capacity
    assert not [r for r in emu.control.requests_log() if r["status"] >= 400]

    # A streamed agent's own change is corrected by its event, with no resync.
    agent, desired, drift = _to_drift(daemon, cycles[0], streamed)
    full_before = sum(c.full for c in list(cycles))
    emu.control.set_presence(agent, drift)
    wait_for(
        lambda: _corrected(daemon, agent, desired),
        what="the event-driven correction of a streamed agent",
    )
    assert sum(c.full for c in list(cycles)) == full_before

    # An agent beyond capacity sends no event: the resync reads it (off the worker, in the
    # resync lane of the budget) and the full plan against that read corrects it.
    unstreamed = sorted(set(managed) - set(streamed))
    agent, desired, drift = _to_drift(daemon, cycles[0], unstreamed)
    seen = len(cycles)  # before the drift: any cycle from here on may be the one that fixes it

    def fixed_by() -> list[CycleResult]:
        return [c for c in list(cycles)[seen:] if c.report is not None and agent in c.report.ok]

    emu.control.set_presence(agent, drift)
    daemon.resync()
    # The cycle's result is recorded after its write lands: wait for the record, not the write.
    wait_for(
        lambda: bool(fixed_by()), what="the resync's correction of an agent beyond the streaming capacity"
    )
    assert _corrected(daemon, agent, desired)
    [fixing] = fixed_by()
    assert fixing.full and fixing.read == 0, "planned against the background resync read"

    # Said once: another resync and a re-watch of the same agents add no second warning and no
    # second subscription.
    daemon.resync()
    wait_for(lambda: sum(c.full for c in list(cycles)) >= full_before + 2, what="another resync")
    logged = caplog.get_records("setup") + caplog.get_records("call")
    [warning] = [r for r in logged if WARNING in r.getMessage()]
    assert warning.streamed == capacity and warning.overflow == overflow  # type: ignore[attr-defined]
    assert emu.control.request_counts()[SUBSCRIBE] == CHANNELS
