"""Notification channels and their topic subscriptions (docs/genesys-api.md#notifications);
controller.genesys.streaming reads the channels' WebSockets."""

from __future__ import annotations

from collections.abc import Sequence

from controller.genesys.calls import ApiCalls
from controller.genesys.errors import NotFound
from controller.genesys.models import Channel, ChannelTopic, parse_channel, parse_channel_topics


class Notifications:
    def __init__(self, api: ApiCalls) -> None:
        self._api = api

    def create_channel(self) -> Channel:
        return parse_channel(self._api.body("POST", "/api/v2/notifications/channels"))

    def channel_exists(self, channel_id: str) -> bool:
        try:
            self._api.call(
                "HEAD", "/api/v2/notifications/channels/{channelId}", path_params={"channelId": channel_id}
            )
        except NotFound:
            return False
        return True

    def list_channels(self) -> list[Channel]:
        body = self._api.body("GET", "/api/v2/notifications/channels") or {}
        return [parse_channel(c) for c in body.get("entities") or []]

    def set_subscriptions(
        self, channel_id: str, topics: Sequence[str], *, ignore_errors: bool = True
    ) -> list[ChannelTopic]:
        """PUT: replace the channel's subscriptions with exactly `topics` (idempotent).

        With `ignore_errors` the platform subscribes what it permits and answers each topic's
        `state` (Permitted|Rejected, with `missingPermissions`); without it one refused topic
        fails the whole request (docs/genesys-api.md#topic-rejection)."""
        body = self._api.body(
            "PUT",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
            params={"ignoreErrors": ignore_errors},
            json=[{"id": t} for t in topics],
        )
        return parse_channel_topics(body)

    def add_subscriptions(self, channel_id: str, topics: Sequence[str]) -> list[ChannelTopic]:
        body = self._api.body(
            "POST",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
            json=[{"id": t} for t in topics],
        )
        return parse_channel_topics(body)

    def get_subscriptions(self, channel_id: str) -> list[ChannelTopic]:
        body = self._api.body(
            "GET",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
        )
        return parse_channel_topics(body)

    def delete_subscriptions(self, channel_id: str) -> None:
        self._api.call(
            "DELETE",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
        )
