"""The Notifications consumer against the emulator's real WebSocket: events, drops, expiry,
restarts, sharding past 1,000 topics, pings. Counts what the emulator saw."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Callable, Iterator

import pytest

from controller.core.presence import RoutingStatus, SystemPresence
from controller.emulator.server import RunningEmulator, start_emulator
from controller.genesys import Backoff, GenesysClient
from controller.genesys.streaming import (
    ActivityEvent,
    NotificationStream,
    PresenceEvent,
    RawEvent,
    RoutingStatusEvent,
    StreamEvent,
    StreamStatus,
    parse_event,
    shard_topics,
)
from tests.genesys.conftest import client_for

QUICK = Backoff(base_seconds=0.02, cap_seconds=0.1)
CHANNELS = "POST /api/v2/notifications/channels"
SUBSCRIBE = "PUT /api/v2/notifications/channels/{channelId}/subscriptions"


class Events:
    def __init__(self) -> None:
        self.q: queue.Queue[StreamEvent] = queue.Queue()

    def __call__(self, event: StreamEvent) -> None:
        self.q.put(event)

    def next(self, cls: type, timeout: float = 5.0, **match: object) -> StreamEvent:
        """The next event of class `cls` whose attributes equal `match` (others are skipped)."""
        while True:
            event = self.q.get(timeout=timeout)
            if isinstance(event, cls) and all(getattr(event, k) == v for k, v in match.items()):
                return event


@pytest.fixture
def stream_for(emu: RunningEmulator) -> Iterator[Callable[..., tuple[NotificationStream, Events]]]:
    made: list[tuple[NotificationStream, GenesysClient]] = []

    def make(topics: list[str], **kw: object) -> tuple[NotificationStream, Events]:
        client = client_for(emu)
        events = Events()
        stream = NotificationStream(client.notifications, topics, events, backoff=QUICK, **kw)  # type: ignore[arg-type]
        made.append((stream, client))
        stream.start()
        assert stream.wait_connected(5)
        return stream, events

    yield make
    for stream, client in made:
        stream.stop()
        client.close()


def user_topics(user_id: str) -> list[str]:
    return [f"v2.users.{user_id}.{kind}" for kind in ("presence", "routingStatus", "activity")]


def test_typed_events_arrive(
    emu: RunningEmulator, stream_for: Callable[..., tuple[NotificationStream, Events]]
) -> None:
    uid = emu.org.agents[0].id
    _, events = stream_for(user_topics(uid))
    assert isinstance(events.next(StreamStatus), StreamStatus)
    emu.control.set_presence(uid, "On Queue")
    presence = events.next(PresenceEvent, user_id=uid)
    assert isinstance(presence, PresenceEvent) and presence.system_presence is SystemPresence.ON_QUEUE
    routing = events.next(RoutingStatusEvent, user_id=uid)
    assert isinstance(routing, RoutingStatusEvent) and routing.status is RoutingStatus.IDLE
    activity = events.next(ActivityEvent, user_id=uid)
    assert isinstance(activity, ActivityEvent) and activity.observed.routing_status is RoutingStatus.IDLE
    counts = emu.control.request_counts()
    assert counts[CHANNELS] == 1 and counts[SUBSCRIBE] == 1


@pytest.mark.parametrize("break_it", ["drop", "expire", "restart"])
def test_resubscribes_after_drop_expiry_and_restart(
    emu: RunningEmulator, stream_for: Callable[..., tuple[NotificationStream, Events]], break_it: str
) -> None:
    uid = emu.org.agents[1].id
    stream, events = stream_for([f"v2.users.{uid}.activity"])
    first = stream.channels[0].id
    events.next(StreamStatus, kind="connected")
    {
        "drop": emu.control.drop_websockets,
        "expire": emu.control.expire_channels,
        "restart": emu.control.restart,
    }[break_it]()
    down = events.next(StreamStatus, kind="disconnected")
    assert isinstance(down, StreamStatus)
    if break_it == "drop":  # the emulator announces the drop first, as Genesys does before maintenance
        assert down.reason == "socket_closing notice"
    events.next(StreamStatus, kind="reconnected")
    assert stream.channels[0].id != first
    emu.control.set_presence(uid, "Break")
    event = events.next(ActivityEvent, user_id=uid)
    assert isinstance(event, ActivityEvent) and event.system_presence is SystemPresence.BREAK
    ok = [f"{r['method']} {r['route']}" for r in emu.control.requests_log() if r["status"] == 200]
    assert ok.count(CHANNELS) == 2 and ok.count(SUBSCRIBE) == 2
    if break_it == "restart":  # tokens were dropped too: one 401 on the channel create, one new token
        assert ok.count("POST /oauth/token") == 2
        assert emu.control.request_counts()[CHANNELS] == 3


def test_topics_past_1000_are_split_over_channels(
    emu: RunningEmulator, stream_for: Callable[..., tuple[NotificationStream, Events]]
) -> None:
    uid = emu.org.agents[2].id
    fillers = [f"v2.users.{uuid.UUID(int=i)}.presence" for i in range(1200)]
    stream, events = stream_for([*fillers, f"v2.users.{uid}.presence"])
    assert len(stream.channels) == 2
    emu.control.set_presence(uid, "Meal")
    assert isinstance(events.next(PresenceEvent, user_id=uid), PresenceEvent)
    assert emu.control.request_counts()[SUBSCRIBE] == 2
    stream.set_topics([f"v2.users.{uid}.presence"])  # shrinks back to one channel
    assert len(stream.channels) == 1


def test_pings_keep_a_quiet_socket_alive() -> None:
    with start_emulator(agents=3, seed=1, heartbeat_seconds=60) as quiet, client_for(quiet) as client:
        events = Events()
        stream = NotificationStream(
            client.notifications,
            [f"v2.users.{quiet.org.agents[0].id}.presence"],
            events,
            ping_seconds=0.05,
            silence_seconds=0.4,
            backoff=QUICK,
        )
        with stream:
            assert stream.wait_connected(5)
            with pytest.raises(queue.Empty):
                events.next(StreamStatus, timeout=1.0, kind="disconnected")  # pongs count as life
        assert quiet.control.request_counts()[CHANNELS] == 1


def test_shard_and_parse_are_pure() -> None:
    assert [len(s) for s in shard_topics([str(i) for i in range(2500)])] == [1000, 1000, 500]
    assert shard_topics(["a", "a", "b"]) == [["a", "b"]]
    with pytest.raises(ValueError, match="at most 20"):
        shard_topics([str(i) for i in range(20_001)])
    body = {
        "presenceDefinition": {"id": "d", "systemPresence": "ON_QUEUE"},
        "modifiedDate": "2026-01-01T00:00:00Z",
    }
    assert isinstance(parse_event("v2.users.u.presence", body), PresenceEvent)
    assert isinstance(parse_event("v2.users.u.workforcemanagement.adherence", {}), RawEvent)
    assert isinstance(
        parse_event("v2.users.u.presence", {"presenceDefinition": {"systemPresence": "Mars"}}), RawEvent
    )


def test_a_failing_handler_does_not_stop_the_stream(emu: RunningEmulator) -> None:
    uid = emu.org.agents[4].id
    got: queue.Queue[StreamEvent] = queue.Queue()

    def handler(event: StreamEvent) -> None:
        got.put(event)
        raise RuntimeError("handler bug")

    with (
        client_for(emu) as client,
        NotificationStream(client.notifications, [f"v2.users.{uid}.presence"], handler) as stream,
    ):
        assert stream.wait_connected(5)
        emu.control.set_presence(uid, "Busy")
        emu.control.set_presence(uid, "Away")
        kinds = [got.get(timeout=5) for _ in range(4)]
    assert [type(k).__name__ for k in kinds] == [
        "SubscriptionReport",
        "StreamStatus",
        "PresenceEvent",
        "PresenceEvent",
    ]
