"""The client's write guard (the coordination lease) is asked right before each presence or
trigger write goes on the wire, after the budget's wait and every retry pause: a guard that stops
holding in between sends nothing more. Reads never ask it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from controller.genesys import Fenced, GenesysClient, PresenceUpdate, TriggerSpec

BULK = "PUT /api/v2/users/presences/bulk"
WORKFLOW = "def82f03-5db3-5610-81c1-d148182c83f3"


class Guard:
    """Holds for the first `holds` questions, then not (a lease that ran out meanwhile)."""

    def __init__(self, holds: int) -> None:
        self.holds, self.asked = holds, 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked <= self.holds


def _agents(emu: RunningEmulator, n: int) -> list[str]:
    return [a.id for a in emu.org.agents[:n]]


def _available(client: GenesysClient) -> str:
    definition = client.presence.presence_catalog().system(SystemPresence.AVAILABLE)
    assert definition is not None
    return definition.id


def test_a_guard_that_does_not_hold_sends_no_write_and_every_read(
    emu: RunningEmulator, client: GenesysClient
) -> None:
    agents, available = _agents(emu, 3), _available(client)
    client.set_write_guard(Guard(0))
    emu.control.clear_requests()
    with pytest.raises(Fenced) as refused:
        client.presence.set_presences([PresenceUpdate(a, available) for a in agents])
    assert refused.value.code == "fenced"
    with pytest.raises(Fenced):
        client.presence.set_presence(agents[0], available)
    with pytest.raises(Fenced):
        client.triggers.create_trigger(TriggerSpec("guarded", "v2.users.{id}.activity", WORKFLOW))
    assert client.presence.get_presences(agents).keys() == set(agents)  # reads are never fenced
    assert all(r["method"] == "GET" for r in emu.control.requests_log())


def test_a_lease_lost_during_a_429_pause_stops_the_retry(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    client = make_client()
    agents, available = _agents(emu, 2), _available(client)
    guard = Guard(1)  # the first attempt goes out; by the retry the lease has run out
    client.set_write_guard(guard)
    emu.control.clear_requests()
    emu.control.faults(burst429={"count": 1, "retryAfter": None})
    with pytest.raises(Fenced):
        client.presence.set_presences([PresenceUpdate(a, available) for a in agents])
    assert emu.control.request_counts() == {BULK: 1}  # the 429'd attempt only
    assert guard.asked == 2


def test_a_holding_guard_is_asked_once_per_attempt(emu: RunningEmulator, client: GenesysClient) -> None:
    guard = Guard(10**6)
    client.set_write_guard(guard)
    (agent,) = _agents(emu, 1)
    client.presence.set_presence(agent, _available(client))
    assert guard.asked == 1
