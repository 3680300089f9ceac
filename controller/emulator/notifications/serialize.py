"""The Notifications API's JSON: channels, topic listings, and what a WebSocket carries."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from controller.emulator.core.clock import iso
from controller.emulator.core.httpkit import dumps

if TYPE_CHECKING:
    from controller.emulator.notifications.models import Channel


def heartbeat_message() -> str:
    return dumps({"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}})


def pong_message() -> str:
    return dumps({"topicName": "channel.metadata", "eventBody": {"message": "pong"}})


def envelope(topic: str, body: dict[str, Any]) -> str:
    return dumps(
        {
            "topicName": topic,
            "version": "2",
            "eventBody": body,
            "metadata": {"CorrelationId": str(uuid.uuid4())},
        }
    )


def channel_json(host: str, channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "connectUri": f"ws://{host}/channels/{channel.id}",
        "expires": iso(channel.expires),
    }


def topics_listing(channel: Channel, refused: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """ChannelTopicEntityListing: the channel's topics, then those this request had refused."""
    return {"entities": [{"id": t, "state": "Permitted"} for t in channel.topics] + (refused or [])}


def rejected(topic: str, reason: str, missing: list[str]) -> dict[str, Any]:
    return {"id": topic, "state": "Rejected", "rejectionReason": reason, "missingPermissions": missing}
