"""Notifications API channels and subscriptions, and the real WebSocket stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.emulator.orgfile import load_org
from controller.emulator.server import RunningEmulator, start_emulator
from tests.conftest import Api
from tests.emulator.streams import next_event, receive, subscribed_channel

ON_QUEUE = WELL_KNOWN_DEFINITION_IDS[SystemPresence.ON_QUEUE]


@pytest.fixture
def fast_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(agents=5, seed=1, heartbeat_seconds=0.2) as emu:
        yield emu


def test_channel_shape_head_and_listing(api: Api) -> None:
    channel = api.post("/api/v2/notifications/channels").json()
    assert set(channel) == {"id", "connectUri", "expires"}
    assert channel["connectUri"].startswith("ws://") and channel["id"] in channel["connectUri"]
    head = api.call("HEAD", f"/api/v2/notifications/channels/{channel['id']}")
    assert head.status_code == 200
    assert api.call("HEAD", "/api/v2/notifications/channels/streaming-0-nope").status_code == 404
    listed = api.get("/api/v2/notifications/channels").json()["entities"]
    assert [c["id"] for c in listed] == [channel["id"]]
    assert api.get("/api/v2/notifications/channels", params={"includechannels": "x"}).status_code == 400


def test_21st_channel_removes_the_oldest_unconnected(api: Api) -> None:
    ids = [api.post("/api/v2/notifications/channels").json()["id"] for _ in range(20)]
    with connect(f"{api.emulator.streaming_base}/channels/{ids[0]}"):
        newest = api.post("/api/v2/notifications/channels").json()["id"]
        listed = {c["id"] for c in api.get("/api/v2/notifications/channels").json()["entities"]}
        assert len(listed) == 20 and newest in listed
        assert ids[0] in listed  # connected: kept
        assert ids[1] not in listed  # the oldest unconnected one went
        assert api.call("HEAD", f"/api/v2/notifications/channels/{ids[1]}").status_code == 404


def test_subscriptions_put_post_get_delete(api: Api) -> None:
    users = [a.id for a in api.emulator.org.agents[:2]]
    channel = subscribed_channel(api, [f"v2.users.{users[0]}.presence"])
    base = f"/api/v2/notifications/channels/{channel['id']}/subscriptions"
    added = api.post(base, json=[{"id": f"v2.users.{users[1]}.routingStatus"}]).json()
    assert [t["id"] for t in added["entities"]] == [
        f"v2.users.{users[0]}.presence",
        f"v2.users.{users[1]}.routingStatus",
    ]
    replaced = api.put(base, json=[{"id": f"v2.users.{users[1]}.activity"}]).json()
    assert [t["id"] for t in replaced["entities"]] == [f"v2.users.{users[1]}.activity"]
    assert api.get(base).json() == replaced
    assert api.delete(base).status_code == 204
    assert api.get(base).json() == {"entities": []}


def test_invalid_topics_and_over_1000_topics_are_400(api: Api) -> None:
    channel = api.post("/api/v2/notifications/channels").json()
    base = f"/api/v2/notifications/channels/{channel['id']}/subscriptions"
    assert api.put(base, json=[{"id": "v2.users.x.nonsense"}]).status_code == 400
    assert (
        api.put(base, params={"ignoreErrors": "true"}, json=[{"id": "v2.users.x.nonsense"}]).status_code
        == 200
    )
    assert api.put(base, json={"id": "v2.users.x.presence"}).status_code == 400
    thousand = [{"id": f"v2.users.u{i}.presence"} for i in range(1000)]
    assert api.put(base, json=thousand).status_code == 200
    over = api.post(base, json=[{"id": "v2.users.extra.presence"}])
    assert over.status_code == 400 and over.json()["code"] == "bad.request"
    assert api.put(base, json=[*thousand, {"id": "v2.users.extra.presence"}]).status_code == 400
    assert api.get("/api/v2/notifications/channels/streaming-0-nope/subscriptions").status_code == 404


def test_refused_topics_per_client_with_and_without_ignore_errors(tmp_path: Path) -> None:
    """An org file refuses agent 0's topics to our client (default permissions) and agent 1's to
    another client only; agent 2's are refused with the file's own missingPermissions."""
    org_file = tmp_path / "org.yaml"
    org_file.write_text(
        "agents:\n" + "".join(f"  - {{name: A{i}, email: a{i}@x}}\n" for i in range(3)) + "rejectedTopics:\n"
        "  - {users: [a0@x], client: presencectl-demo}\n"
        "  - {users: [a1@x], client: someone-else}\n"
        "  - {users: [a2@x], missingPermissions: [directory:user:view]}\n"
    )
    with start_emulator(org=load_org(org_file)) as emu:
        api = Api(emu)
        a0, a1, a2 = (a.id for a in emu.org.agents)
        channel = api.post("/api/v2/notifications/channels").json()
        base = f"/api/v2/notifications/channels/{channel['id']}/subscriptions"
        body = [
            {"id": f"v2.users.{a0}.activity"},
            {"id": f"v2.users.{a0}.presence"},
            {"id": f"v2.users.{a1}.activity"},
            {"id": f"v2.users.{a2}?presence&routingStatus"},
            {"id": "v2.users.x.nonsense"},
        ]
        refused = api.put(base, json=body[:3])
        assert refused.status_code == 403 and refused.json()["code"] == "missing.permissions"
        assert api.get(base).json() == {"entities": []}  # the permitted topic was not subscribed either
        answer = api.put(base, params={"ignoreErrors": "true"}, json=body).json()["entities"]
        assert answer == [
            {"id": f"v2.users.{a1}.activity", "state": "Permitted"},
            {
                "id": f"v2.users.{a0}.activity",
                "state": "Rejected",
                "rejectionReason": "Missing permissions",
                "missingPermissions": ["presence:userPresence:view", "routing:agent:view"],
            },
            {
                "id": f"v2.users.{a0}.presence",
                "state": "Rejected",
                "rejectionReason": "Missing permissions",
                "missingPermissions": ["presence:userPresence:view"],
            },
            {
                "id": f"v2.users.{a2}?presence&routingStatus",
                "state": "Rejected",
                "rejectionReason": "Missing permissions",
                "missingPermissions": ["directory:user:view"],
            },
            {
                "id": "v2.users.x.nonsense",
                "state": "Rejected",
                "rejectionReason": "Invalid topic",
                "missingPermissions": [],
            },
        ]
        assert api.get(base).json() == {"entities": [answer[0]]}
        with connect(channel["connectUri"]) as ws:
            emu.control.set_presence(a0, "Break")  # refused: no event
            emu.control.set_presence(a1, "Break")
            assert receive(ws)["topicName"] == f"v2.users.{a1}.activity"


def test_patch_pushes_presence_routing_and_activity_events(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    channel = subscribed_channel(
        api, [f"v2.users.{user}.presence", f"v2.users.{user}.routingStatus", f"v2.users.{user}.activity"]
    )
    with connect(channel["connectUri"]) as ws:
        api.patch(f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}})
        presence = next_event(ws, f"v2.users.{user}.presence")
        assert presence["version"] == "2" and presence["metadata"]["CorrelationId"]
        assert presence["eventBody"]["presenceDefinition"] == {"id": ON_QUEUE, "systemPresence": "ON_QUEUE"}
        assert presence["eventBody"]["source"] == "PURECLOUD"
        routing = next_event(ws, f"v2.users.{user}.routingStatus")
        assert (
            routing["eventBody"]["id"] == user and routing["eventBody"]["routingStatus"]["status"] == "IDLE"
        )
        activity = next_event(ws, f"v2.users.{user}.activity")
        assert activity["eventBody"]["presence"]["presenceDefinition"]["systemPresence"] == "ON_QUEUE"
        assert activity["eventBody"]["routingStatus"]["status"] == "IDLE"


def test_combined_topic_delivers_each_part(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    channel = subscribed_channel(api, [f"v2.users.{user}?presence&routingStatus"])
    with connect(channel["connectUri"]) as ws:
        api.emulator.control.set_presence(user, "On Queue")
        assert receive(ws)["topicName"] == f"v2.users.{user}.presence"
        assert receive(ws)["topicName"] == f"v2.users.{user}.routingStatus"


def test_heartbeat_and_ping_pong(fast_emulator: RunningEmulator) -> None:
    api = Api(fast_emulator)
    channel = api.post("/api/v2/notifications/channels").json()
    with connect(channel["connectUri"]) as ws:
        assert receive(ws) == {
            "topicName": "channel.metadata",
            "eventBody": {"message": "WebSocket Heartbeat"},
        }
        ws.send(json.dumps({"message": "ping"}))
        assert next_event(ws, "channel.metadata")["eventBody"]["message"] in ("pong", "WebSocket Heartbeat")
        ws.send(json.dumps({"message": "ping"}))
        messages = [receive(ws)["eventBody"]["message"] for _ in range(2)]
        assert "pong" in messages


def test_drop_sends_socket_closing_then_closes(api: Api) -> None:
    channel = api.post("/api/v2/notifications/channels").json()
    with connect(channel["connectUri"]) as ws:
        assert api.emulator.control.drop_websockets() == 1
        closing = receive(ws)
        assert closing["topicName"] == "v2.system.socket_closing"
        with pytest.raises(ConnectionClosed):
            ws.recv()
    # the channel survives a drop: reconnecting works
    assert api.call("HEAD", f"/api/v2/notifications/channels/{channel['id']}").status_code == 200
    with connect(channel["connectUri"]) as ws:
        user = api.emulator.org.agents[0].id
        api.put(
            f"/api/v2/notifications/channels/{channel['id']}/subscriptions",
            json=[{"id": f"v2.users.{user}.presence"}],
        )
        api.emulator.control.set_presence(user, "Break")
        assert receive(ws)["topicName"] == f"v2.users.{user}.presence"


def test_second_connection_disconnects_the_first(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    channel = subscribed_channel(api, [f"v2.users.{user}.presence"])
    with connect(channel["connectUri"]) as first, connect(channel["connectUri"]) as second:
        with pytest.raises(ConnectionClosed):
            first.recv()
        api.emulator.control.set_presence(user, "Meal")
        assert receive(second)["topicName"] == f"v2.users.{user}.presence"


def test_channel_expires_after_24_hours_unless_resubscribed(api: Api) -> None:
    kept = subscribed_channel(api, ["v2.users.a.presence"])
    lapsed = api.post("/api/v2/notifications/channels").json()
    with connect(lapsed["connectUri"]) as ws:
        api.emulator.control.advance_clock(23 * 3600)
        api.put(
            f"/api/v2/notifications/channels/{kept['id']}/subscriptions", json=[{"id": "v2.users.a.presence"}]
        )
        api.emulator.control.advance_clock(2 * 3600)
        with pytest.raises(ConnectionClosed):
            ws.recv()
    api.authenticate()  # 25 hours also outlived the token
    assert api.call("HEAD", f"/api/v2/notifications/channels/{lapsed['id']}").status_code == 404
    assert api.call("HEAD", f"/api/v2/notifications/channels/{kept['id']}").status_code == 200


def test_expire_channels_and_restart(api: Api) -> None:
    channel = api.post("/api/v2/notifications/channels").json()
    api.emulator.control.expire_channels()
    assert api.call("HEAD", f"/api/v2/notifications/channels/{channel['id']}").status_code == 404
    channel = api.post("/api/v2/notifications/channels").json()
    with connect(channel["connectUri"]) as ws:
        api.emulator.control.restart()
        assert receive(ws)["topicName"] == "v2.system.socket_closing"
        with pytest.raises(ConnectionClosed):
            ws.recv()
    api.authenticate()
    assert api.call("HEAD", f"/api/v2/notifications/channels/{channel['id']}").status_code == 404


def test_connecting_to_unknown_channel_fails(api: Api) -> None:
    with pytest.raises(Exception, match="404"):
        connect(f"{api.emulator.streaming_base}/channels/streaming-0-nope")
