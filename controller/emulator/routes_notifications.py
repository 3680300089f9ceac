"""Notifications API: channels, subscriptions, and the WebSocket at each channel's connectUri."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.emulator.httpkit import (
    CLIENT_ID,
    HUB,
    TOKEN,
    bad_request,
    json_body,
    json_response,
    not_found,
)
from controller.emulator.notifications import TOPICS_PER_CHANNEL, Channel
from controller.emulator.topics import is_subscribable
from controller.emulator.world import iso


def channel_json(request: web.Request, channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "connectUri": f"ws://{request.host}/channels/{channel.id}",
        "expires": iso(channel.expires),
    }


def _topics_listing(channel: Channel) -> dict[str, Any]:
    return {"entities": [{"id": t} for t in channel.topics]}


def _channel_or_404(request: web.Request) -> Channel:
    channel = request.app[HUB].live(request.match_info["channelId"])
    if channel is None or channel.client_id != CLIENT_ID.get():
        raise not_found(f"Channel {request.match_info['channelId']} not found.")
    return channel


async def create_channel(request: web.Request) -> web.Response:
    channel = request.app[HUB].create(CLIENT_ID.get(), TOKEN.get())
    return json_response(channel_json(request, channel))


async def list_channels(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    hub.expire_due()
    scope = request.query.get("includechannels", "token")
    if scope not in ("token", "oauthclient"):
        raise bad_request("includechannels must be token or oauthclient.")
    mine = [c for c in hub.channels.values() if c.client_id == CLIENT_ID.get()]
    if scope == "token":
        mine = [c for c in mine if c.token == TOKEN.get()]
    return json_response({"entities": [channel_json(request, c) for c in mine]})


async def head_channel(request: web.Request) -> web.Response:
    channel = request.app[HUB].live(request.match_info["channelId"])
    return web.Response(status=200 if channel is not None else 404)


async def _topics_from_body(request: web.Request) -> list[str]:
    body = await json_body(request)
    if not isinstance(body, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) for t in body
    ):
        raise bad_request('The body must be a list of topics: [{"id": "v2.users.{id}.presence"}].')
    topics = [str(t["id"]) for t in body]
    if request.query.get("ignoreErrors", "false").lower() == "true":
        return [t for t in topics if is_subscribable(t)]
    for topic in topics:
        if not is_subscribable(topic):
            raise bad_request(f"Invalid topic: {topic}")
    return topics


async def _subscribe(request: web.Request, *, replace: bool) -> web.Response:
    channel = _channel_or_404(request)
    topics = await _topics_from_body(request)
    total = len(dict.fromkeys(topics if replace else [*channel.topics, *topics]))
    if total > TOPICS_PER_CHANNEL:
        raise bad_request(
            f"A channel allows at most {TOPICS_PER_CHANNEL} topics; this request makes {total}."
        )
    request.app[HUB].set_topics(channel, topics, replace=replace)
    return json_response(_topics_listing(channel))


async def put_subscriptions(request: web.Request) -> web.Response:
    return await _subscribe(request, replace=True)


async def post_subscriptions(request: web.Request) -> web.Response:
    return await _subscribe(request, replace=False)


async def get_subscriptions(request: web.Request) -> web.Response:
    return json_response(_topics_listing(_channel_or_404(request)))


async def delete_subscriptions(request: web.Request) -> web.Response:
    request.app[HUB].clear_topics(_channel_or_404(request))
    return web.Response(status=204)


async def websocket(request: web.Request) -> web.StreamResponse:
    return await request.app[HUB].websocket(request)


def register(app: web.Application) -> None:
    r = app.router
    base = "/api/v2/notifications/channels"
    r.add_post(base, create_channel)
    r.add_get(base, list_channels)
    r.add_route("HEAD", base + "/{channelId}", head_channel)
    r.add_get(base + "/{channelId}/subscriptions", get_subscriptions)
    r.add_put(base + "/{channelId}/subscriptions", put_subscriptions)
    r.add_post(base + "/{channelId}/subscriptions", post_subscriptions)
    r.add_delete(base + "/{channelId}/subscriptions", delete_subscriptions)
    r.add_get("/channels/{channelId}", websocket)
