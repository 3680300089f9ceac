"""Reading the emulator's Notifications stream: a channel with topics, its next messages."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection

from tests.conftest import Api


def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next message. No deadline: one that never comes is a hang, which pytest-timeout fails."""
    message: dict[str, Any] = json.loads(ws.recv())
    return message


def next_event(ws: ClientConnection, topic: str) -> dict[str, Any]:
    """The next message on `topic`, skipping heartbeats and other topics."""
    for _ in range(20):
        message = receive(ws)
        if message["topicName"] == topic:
            return message
    raise AssertionError(f"no {topic} event")


def subscribed_channel(api: Api, topics: list[str]) -> dict[str, Any]:
    channel: dict[str, Any] = api.post("/api/v2/notifications/channels").json()
    response = api.put(
        f"/api/v2/notifications/channels/{channel['id']}/subscriptions", json=[{"id": t} for t in topics]
    )
    assert response.status_code == 200, response.text
    return channel
