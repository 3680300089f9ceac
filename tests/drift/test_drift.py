"""DriftWatcher against the emulator's Notifications API over a real WebSocket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.drift import DriftWatcher, sticky_order, topics_for
from controller.metrics import Metrics
from tests.drift.recorder import FAST, Recorder, client_for
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with start_emulator(agents=20, seed=3, rate_limit=100_000) as running:
        yield running


@pytest.fixture
def watched(emu: RunningEmulator) -> Iterator[tuple[DriftWatcher, Recorder, Metrics, list[str]]]:
    emu.control.reset()
    recorder, metrics = Recorder(), Metrics()
    watcher = DriftWatcher(
        client_for(emu), recorder.on_agents, recorder.on_connection, metrics, backoff=FAST, ping_seconds=0.5
    )
    managed = [a.id for a in emu.org.agents[:10]]
    watcher.watch(managed)
    recorder.wait_connection([True])
    yield watcher, recorder, metrics, managed
    watcher.stop()


def test_hand_made_changes_reach_on_agents_as_events(
    emu: RunningEmulator, watched: tuple[DriftWatcher, Recorder, Metrics, list[str]]
) -> None:
    watcher, recorder, metrics, managed = watched
    agent = managed[3]
    for presence in ("Break", "Meal", "Available", "Busy", "Away"):
        sent = time.monotonic()
        emu.control.set_presence(agent, presence)
        recorder.wait_agent(agent, after=sent)
    assert all(why == "event" for _, _, why in recorder.agents)
    assert (metrics.registry.get_sample_value("presencectl_event_lag_seconds_count") or 0) >= 5
    assert watcher.channel_count == 1 and watcher.connected


def test_unmanaged_agents_are_ignored(
    emu: RunningEmulator, watched: tuple[DriftWatcher, Recorder, Metrics, list[str]]
) -> None:
    _, recorder, _, managed = watched
    outsider = emu.org.agents[15].id
    sent = time.monotonic()
    emu.control.set_presence(outsider, "Break")
    emu.control.set_presence(managed[0], "Break")  # an event that does arrive, to bound the wait
    recorder.wait_agent(managed[0], after=sent)
    assert recorder.arrival(outsider, after=sent) is None


def test_stream_drop_reconnects_resubscribes_and_signals(
    emu: RunningEmulator, watched: tuple[DriftWatcher, Recorder, Metrics, list[str]]
) -> None:
    watcher, recorder, metrics, managed = watched
    emu.control.set_presence(managed[1], "Break")  # drift in progress
    emu.control.clear_requests()
    assert emu.control.drop_websockets() == 1
    recorder.wait_connection([False, True])
    counts = emu.control.request_counts()
    assert counts.get("POST /api/v2/notifications/channels") == 1
    assert counts.get("PUT /api/v2/notifications/channels/{channelId}/subscriptions") == 1
    sent = time.monotonic()
    emu.control.set_presence(managed[1], "Available")
    recorder.wait_agent(managed[1], after=sent)
    assert metrics.registry.get_sample_value("presencectl_stream_connected") == 1
    assert watcher.connected


def test_watch_change_resubscribes_new_agents(
    emu: RunningEmulator, watched: tuple[DriftWatcher, Recorder, Metrics, list[str]]
) -> None:
    watcher, recorder, _, managed = watched
    newcomer = emu.org.agents[12].id
    emu.control.clear_requests()
    watcher.watch([*managed[1:], newcomer])
    watcher.watch([*managed[1:], newcomer])  # unchanged: no call
    put = "PUT /api/v2/notifications/channels/{channelId}/subscriptions"
    wait_for(lambda: put in emu.control.request_counts(), "the subscriptions PUT")
    assert emu.control.request_counts() == {put: 1}
    sent = time.monotonic()
    emu.control.set_presence(managed[0], "Meal")  # no longer managed
    emu.control.set_presence(newcomer, "Meal")  # an event that does arrive, after the other's
    recorder.wait_agent(newcomer, after=sent)
    assert recorder.arrival(managed[0], after=sent) is None


def test_agents_added_to_a_running_stream_are_handed_over_once_their_subscription_is_confirmed(
    emu: RunningEmulator, watched: tuple[DriftWatcher, Recorder, Metrics, list[str]]
) -> None:
    """A sharded member taking over agents reads them in a full cycle, then watches them: a drift
    between that read and the subscription reaches no event, so the watcher names them once the
    platform confirmed the new subscription (`subscribed`), for one more read."""
    watcher, recorder, _, managed = watched
    newcomers = [a.id for a in emu.org.agents[12:15]]
    emu.control.clear_requests()
    watcher.watch([*managed[1:], *newcomers])
    wait_for(
        lambda: any(w == "subscribed" for _, _, w in list(recorder.agents)), "the hand-over once subscribed"
    )
    subscribed = [u for _, u, why in recorder.agents if why == "subscribed"]
    assert sorted(subscribed) == sorted(newcomers)  # not the agents it already watched, each once
    routes = [f"{r['method']} {r['route']}" for r in emu.control.requests_log()]
    assert "PUT /api/v2/notifications/channels/{channelId}/subscriptions" in routes  # confirmed first
    watcher.watch([*managed[2:], *newcomers])  # a shrink adds nobody
    sent = time.monotonic()
    emu.control.set_presence(newcomers[0], "Meal")
    recorder.wait_agent(newcomers[0], after=sent)
    assert [u for _, u, why in recorder.agents if why == "subscribed"] == subscribed


def test_more_than_1000_agents_use_two_channels() -> None:
    with start_emulator(agents=1005, seed=1, rate_limit=100_000) as big:
        recorder = Recorder()
        watcher = DriftWatcher(client_for(big), recorder.on_agents, recorder.on_connection, backoff=FAST)
        try:
            ids = [a.id for a in big.org.agents]
            watcher.watch(ids)
            recorder.wait_connection([True])
            assert watcher.channel_count == 2
            assert big.control.request_counts()["POST /api/v2/notifications/channels"] == 2
            last = ids[-1]  # sorted order puts some agent on the second channel; take one from each
            for agent in (sorted(ids)[0], sorted(ids)[-1], last):
                sent = time.monotonic()
                big.control.set_presence(agent, "Break")
                recorder.wait_agent(agent, after=sent)
        finally:
            watcher.stop()


def test_topic_kinds() -> None:
    assert topics_for(["u1"]) == ["v2.users.u1.activity"]
    assert topics_for(["u1"], "presence+routingStatus") == [
        "v2.users.u1.presence",
        "v2.users.u1.routingStatus",
    ]


@given(st.lists(st.sampled_from("abcdefgh"), unique=True), st.sets(st.sampled_from("abcdefgh")))
def test_sticky_order_keeps_existing_positions(current: list[str], wanted: set[str]) -> None:
    order = sticky_order(current, wanted)
    assert sorted(order) == sorted(wanted)
    kept = [u for u in current if u in wanted]
    assert order[: len(kept)] == kept


@pytest.mark.parametrize("how", ["expire_channels", "restart"])
def test_channel_expiry_or_platform_restart_recovers(
    emu: RunningEmulator, watched: tuple[DriftWatcher, Recorder, Metrics, list[str]], how: str
) -> None:
    watcher, recorder, _, managed = watched
    getattr(emu.control, how)()
    recorder.wait_connection([False, True])
    sent = time.monotonic()
    emu.control.set_presence(managed[2], "Training")
    recorder.wait_agent(managed[2], after=sent)
    assert watcher.connected


def test_empty_managed_set_is_connected_without_channels(emu: RunningEmulator) -> None:
    recorder = Recorder()
    watcher = DriftWatcher(client_for(emu), recorder.on_agents, recorder.on_connection, backoff=FAST)
    try:
        emu.control.clear_requests()
        watcher.watch([])
        assert watcher.connected and recorder.connection == [True] and watcher.channel_count == 0
        assert "POST /api/v2/notifications/channels" not in emu.control.request_counts()
    finally:
        watcher.stop()
