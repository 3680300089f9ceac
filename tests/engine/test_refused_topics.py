"""The daemon on an org that refuses the notification topics of some agents to its OAuth client:
it streams the rest, polls exactly the refused agents, reports them once and never reconnects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from controller.emulator.org import OrgTopicRejection
from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import CycleResult
from tests.engine.conftest import streaming_daemon
from tests.support.waiting import wait_for

LONDON_SUPPORT = "554d324a-7d92-51af-8c34-d582559158bd"  # On Queue at 10:00 on a weekday
WARNING = "notification topics refused by the platform; polling their agents instead"
POLL = timedelta(seconds=0.3)


class Refusing(NamedTuple):
    daemon: Daemon
    emu: RunningEmulator
    refused: frozenset[str]
    cycles: list[CycleResult]


@pytest.fixture
def refusing(day_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Refusing]:
    """Every other London Support agent is in a division our client's role does not reach."""
    org = day_emulator.org
    london = [a.id for a in org.agents if a.management_unit_id == LONDON_SUPPORT]
    refused = frozenset(london[::2])
    org.topic_rejections = [OrgTopicRejection(sorted(refused), client_id=day_emulator.client_id)]
    with streaming_daemon(day_emulator, tmp_path, poll_interval=POLL) as (daemon, cycles):
        yield Refusing(daemon, day_emulator, refused, cycles)


def test_refused_agents_are_polled_alone_reported_once_and_the_stream_stays_up(
    refusing: Refusing, caplog: pytest.LogCaptureFixture
) -> None:
    daemon, emu, refused, cycles = refusing
    metric = daemon.metrics.registry.get_sample_value
    managed = len(cycles[0].observed)
    assert metric("presencectl_stream_topics", {"state": "rejected"}) == len(refused)
    assert metric("presencectl_stream_topics", {"state": "permitted"}) == managed - len(refused)
    assert daemon.health().details["stream_unwatched_agents"] == len(refused)

    # A refused agent's own change sends no event; the poll of the refused agents corrects it.
    live = daemon.client.presence.observe(sorted(refused))
    agent = next(u for u, a in sorted(live.items()) if a.system_presence.value == "OnQueue")
    emu.control.set_presence(agent, "Away")
    wait_for(
        lambda: daemon.client.presence.get_presence(agent).system_presence.value == "OnQueue",
        what="the poll-driven correction of an agent whose topic was refused",
    )

    # Polls read exactly the refused agents, again and again, never everyone.
    def polls() -> list[CycleResult]:
        return [c for c in list(cycles) if not c.full and set(c.observed) == refused]

    wait_for(lambda: len(polls()) >= 5, what="five polls of the refused agents")
    partial = [c for c in list(cycles) if not c.full and set(c.observed) & refused]
    assert all(set(c.observed) >= refused for c in partial), "a refused agent was read without the rest"

    # One channel, one subscription, one warning: no reconnect loop, no repeated report.
    counts = emu.control.request_counts()
    assert counts["POST /api/v2/notifications/channels"] == 1
    assert counts["PUT /api/v2/notifications/channels/{channelId}/subscriptions"] == 1
    assert metric("presencectl_stream_connected") == 1 and daemon.health().details["stream_connected"]
    logged = caplog.get_records("setup") + caplog.get_records("call")
    [warning] = [r for r in logged if r.getMessage() == WARNING]
    assert set(warning.agent_ids) == refused  # type: ignore[attr-defined]
    assert warning.missing_permissions == ["presence:userPresence:view", "routing:agent:view"]  # type: ignore[attr-defined]
