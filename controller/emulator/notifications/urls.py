"""Routes of the notifications service: the REST channels API and the WebSocket."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.notifications import responses as r
from controller.emulator.notifications.streaming import websocket

BASE = "/api/v2/notifications/channels"


def register(app: web.Application) -> None:
    add = app.router
    add.add_post(BASE, r.create_channel)
    add.add_get(BASE, r.list_channels)
    add.add_route("HEAD", BASE + "/{channelId}", r.head_channel)
    add.add_get(BASE + "/{channelId}/subscriptions", r.get_subscriptions)
    add.add_put(BASE + "/{channelId}/subscriptions", r.put_subscriptions)
    add.add_post(BASE + "/{channelId}/subscriptions", r.post_subscriptions)
    add.add_delete(BASE + "/{channelId}/subscriptions", r.delete_subscriptions)
    add.add_get("/channels/{channelId}", websocket)
