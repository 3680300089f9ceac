"""Notifications API channels and event delivery (docs/genesys-api.md#channels-and-limits).

A channel belongs to the OAuth client (and token) that created it; a client holds at most 20
(a 21st removes the one least recently used, unconnected ones first). A channel lives 24 hours
of emulator time unless re-subscribed. One WebSocket per channel: a second connection closes
the first. Each connection has a queue drained by one writer task (`streaming`), so events,
pongs, heartbeats and the closing notice go out in order.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from controller.emulator.core.clock import Clock
from controller.emulator.notifications.serialize import envelope
from controller.emulator.topics import expand_topic

CHANNELS_PER_CLIENT = 20  # the documented limits; a test may lower them on its Hub
TOPICS_PER_CHANNEL = 1000
CHANNEL_LIFETIME = timedelta(hours=24)
CLOSE = object()  # queue sentinel: close the socket after what is queued before it


@dataclass(eq=False)
class Channel:
    id: str
    client_id: str
    token: str
    expires: datetime
    last_used: datetime
    topics: dict[str, None] = field(default_factory=dict)  # ordered set, as subscribed
    ws: web.WebSocketResponse | None = None
    queue: asyncio.Queue[object] | None = None
    writer: asyncio.Task[None] | None = None


class Hub:
    def __init__(self, clock: Clock, heartbeat_seconds: float = 30.0) -> None:
        self.clock = clock
        self.heartbeat_seconds = heartbeat_seconds
        self.channels: dict[str, Channel] = {}
        self.by_topic: dict[str, set[Channel]] = {}
        self.connections = 0  # WebSockets ever accepted (a reconnect after a drop counts again)
        self.channels_per_client = CHANNELS_PER_CLIENT
        self.topics_per_channel = TOPICS_PER_CHANNEL

    # -- channels ------------------------------------------------------------------------------
    def create(self, client_id: str, token: str) -> Channel:
        now = self.clock.now()
        mine = [c for c in self.channels.values() if c.client_id == client_id]
        if len(mine) >= self.channels_per_client:
            oldest = min(mine, key=lambda c: (c.ws is not None, c.last_used))
            self.remove(oldest)
        channel = Channel(
            f"streaming-0-{secrets.token_hex(16)}", client_id, token, now + CHANNEL_LIFETIME, now
        )
        self.channels[channel.id] = channel
        return channel

    def live(self, channel_id: str) -> Channel | None:
        channel = self.channels.get(channel_id)
        if channel is not None and self.clock.now() >= channel.expires:
            self.remove(channel)
            return None
        return channel

    def remove(self, channel: Channel) -> None:
        self.channels.pop(channel.id, None)
        self._unindex(channel)
        channel.topics.clear()
        if channel.queue is not None:
            channel.queue.put_nowait(CLOSE)

    def set_topics(self, channel: Channel, topics: list[str], *, replace: bool) -> None:
        """PUT replaces, POST adds; either counts as a re-subscription (24 h more)."""
        self._unindex(channel)
        if replace:
            channel.topics.clear()
        channel.topics.update(dict.fromkeys(topics))
        for topic in channel.topics:
            for part in expand_topic(topic):
                self.by_topic.setdefault(part, set()).add(channel)
        now = self.clock.now()
        channel.expires, channel.last_used = now + CHANNEL_LIFETIME, now

    def clear_topics(self, channel: Channel) -> None:
        self._unindex(channel)
        channel.topics.clear()

    def _unindex(self, channel: Channel) -> None:
        for topic in channel.topics:
            for part in expand_topic(topic):
                subscribers = self.by_topic.get(part)
                if subscribers is not None:
                    subscribers.discard(channel)
                    if not subscribers:
                        del self.by_topic[part]

    # -- events ----------------------------------------------------------------------------------
    def publish(self, topic: str, body: dict[str, Any]) -> None:
        subscribers = self.by_topic.get(topic)
        if not subscribers:
            return
        text = envelope(topic, body)
        for channel in subscribers:
            if channel.queue is not None:
                channel.queue.put_nowait(text)

    def expire_due(self) -> None:
        now = self.clock.now()
        for channel in [c for c in self.channels.values() if now >= c.expires]:
            self.remove(channel)

    def expire_all(self) -> None:
        for channel in list(self.channels.values()):
            self.remove(channel)

    def drop_sockets(self, reason: str) -> int:
        """Send v2.system.socket_closing, then close every connected socket (channels stay)."""
        dropped = 0
        for channel in self.channels.values():
            if channel.queue is not None:
                channel.queue.put_nowait(envelope("v2.system.socket_closing", {}))
                channel.queue.put_nowait(CLOSE)
                dropped += 1
        return dropped

    async def close_all(self, reason: str) -> None:
        """Drop every socket and channel (restart, shutdown)."""
        self.drop_sockets(reason)
        writers = [c.writer for c in self.channels.values() if c.writer is not None]
        for channel in list(self.channels.values()):
            self.remove(channel)
        if writers:  # the writers send the notice and close; wait so the caller sees it done
            await asyncio.wait(writers, timeout=2)
