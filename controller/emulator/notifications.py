"""Notifications API channels and the WebSocket hub (docs/genesys-api.md#channels-and-limits).

A channel belongs to the OAuth client (and token) that created it; a client holds at most 20
(a 21st removes the one least recently used, unconnected ones first). A channel lives 24 hours
of emulator time unless re-subscribed. One WebSocket per channel: a second connection closes
the first. Each connection has a queue drained by one writer task, so events, pongs,
heartbeats and the closing notice go out in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import WSMsgType, web

from controller.emulator.httpkit import dumps
from controller.emulator.topics import expand_topic
from controller.emulator.world import World

CHANNELS_PER_CLIENT = 20  # the documented limits; a test may lower them on its Hub
TOPICS_PER_CHANNEL = 1000
CHANNEL_LIFETIME = timedelta(hours=24)
_CLOSE = object()  # queue sentinel: close the socket after what is queued before it


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
    def __init__(self, world: World, heartbeat_seconds: float = 30.0) -> None:
        self.world = world
        self.heartbeat_seconds = heartbeat_seconds
        self.channels: dict[str, Channel] = {}
        self.by_topic: dict[str, set[Channel]] = {}
        self.connections = 0  # WebSockets ever accepted (a reconnect after a drop counts again)
        self.channels_per_client = CHANNELS_PER_CLIENT
        self.topics_per_channel = TOPICS_PER_CHANNEL
        world.publish = self.publish

    # -- channels ------------------------------------------------------------------------------
    def create(self, client_id: str, token: str) -> Channel:
        now = self.world.clock.now()
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
        if channel is not None and self.world.clock.now() >= channel.expires:
            self.remove(channel)
            return None
        return channel

    def remove(self, channel: Channel) -> None:
        self.channels.pop(channel.id, None)
        self._unindex(channel)
        channel.topics.clear()
        if channel.queue is not None:
            channel.queue.put_nowait(_CLOSE)

    def set_topics(self, channel: Channel, topics: list[str], *, replace: bool) -> None:
        """PUT replaces, POST adds; either counts as a re-subscription (24 h more)."""
        self._unindex(channel)
        if replace:
            channel.topics.clear()
        channel.topics.update(dict.fromkeys(topics))
        for topic in channel.topics:
            for part in expand_topic(topic):
                self.by_topic.setdefault(part, set()).add(channel)
        now = self.world.clock.now()
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
        now = self.world.clock.now()
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
                channel.queue.put_nowait(_CLOSE)
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

    # -- the WebSocket ---------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        channel = self.live(request.match_info["channelId"])
        if channel is None:
            raise web.HTTPNotFound(text='{"result":"404","message":"channel not found"}')
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        if channel.queue is not None:  # a second connection disconnects the first
            channel.queue.put_nowait(_CLOSE)
        queue: asyncio.Queue[object] = asyncio.Queue()
        channel.ws, channel.queue = ws, queue
        channel.last_used = self.world.clock.now()
        writer = channel.writer = asyncio.create_task(self._write(channel, ws, queue))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT and _is_ping(message.data):
                    queue.put_nowait(pong_message())
        finally:
            queue.put_nowait(_CLOSE)  # let the writer finish the closing handshake, if it began one
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, timeout=2)
            if channel.ws is ws:
                channel.ws, channel.queue, channel.writer = None, None, None
        return ws

    async def _write(self, channel: Channel, ws: web.WebSocketResponse, queue: asyncio.Queue[object]) -> None:
        while not ws.closed:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=self.heartbeat_seconds)
            except TimeoutError:
                item = _CLOSE if self.live(channel.id) is None else heartbeat_message()  # expired?
            if item is _CLOSE:
                await ws.close()
                return
            try:
                await ws.send_str(str(item))
            except (ConnectionError, RuntimeError):
                return


def _is_ping(data: str) -> bool:
    try:
        parsed = json.loads(data)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("message") == "ping"
