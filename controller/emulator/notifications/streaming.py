"""The WebSocket at a channel's connectUri: one writer task per connection drains the channel's
queue (events, pongs, heartbeats, the closing notice) in order."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import WSMsgType, web

from controller.emulator.core.httpkit import HUB
from controller.emulator.notifications.models import CLOSE, Channel, Hub
from controller.emulator.notifications.serialize import heartbeat_message, pong_message


async def websocket(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    channel = hub.live(request.match_info["channelId"])
    if channel is None:
        raise web.HTTPNotFound(text='{"result":"404","message":"channel not found"}')
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    hub.connections += 1
    if channel.queue is not None:  # a second connection disconnects the first
        channel.queue.put_nowait(CLOSE)
    queue: asyncio.Queue[object] = asyncio.Queue()
    channel.ws, channel.queue = ws, queue
    channel.last_used = hub.clock.now()
    writer = channel.writer = asyncio.create_task(_write(hub, channel, ws, queue))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT and _is_ping(message.data):
                queue.put_nowait(pong_message())
    finally:
        queue.put_nowait(CLOSE)  # let the writer finish the closing handshake, if it began one
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, timeout=2)
        if channel.ws is ws:
            channel.ws, channel.queue, channel.writer = None, None, None
    return ws


async def _write(hub: Hub, channel: Channel, ws: web.WebSocketResponse, queue: asyncio.Queue[object]) -> None:
    while not ws.closed:
        try:
            item = await asyncio.wait_for(queue.get(), timeout=hub.heartbeat_seconds)
        except TimeoutError:
            item = CLOSE if hub.live(channel.id) is None else heartbeat_message()  # expired?
        if item is CLOSE:
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
