"""Notifications API: channels, subscriptions, and the WebSocket at each channel's connectUri."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.emulator.httpkit import (
    CLIENT_ID,
    HUB,
    TOKEN,
    ApiError,
    bad_request,
    json_body,
    json_response,
    not_found,
)
from controller.emulator.notifications import Channel
from controller.emulator.topics import is_subscribable, missing_permissions
from controller.emulator.world import iso


def channel_json(request: web.Request, channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "connectUri": f"ws://{request.host}/channels/{channel.id}",
        "expires": iso(channel.expires),
    }


def _topics_listing(channel: Channel, refused: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """ChannelTopicEntityListing: the channel's topics, then those this request had refused."""
    return {"entities": [{"id": t, "state": "Permitted"} for t in channel.topics] + (refused or [])}


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


def _rejected(topic: str, reason: str, missing: list[str]) -> dict[str, Any]:
    return {"id": topic, "state": "Rejected", "rejectionReason": reason, "missingPermissions": missing}


async def _topics_from_body(request: web.Request) -> tuple[list[str], list[dict[str, Any]]]:
    """The topics to subscribe and, with ignoreErrors=true, the refused ones (ChannelTopic
    entries). Without it one refused topic fails the whole request (docs/genesys-api.md#topic-rejection)."""
    body = await json_body(request)
    if not isinstance(body, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) for t in body
    ):
        raise bad_request('The body must be a list of topics: [{"id": "v2.users.{id}.presence"}].')
    ignore_errors = request.query.get("ignoreErrors", "false").lower() == "true"
    rules = request.app[HUB].world.org.topic_rejections
    permitted: list[str] = []
    refused: list[dict[str, Any]] = []
    for topic in dict.fromkeys(str(t["id"]) for t in body):
        if not is_subscribable(topic):
            if not ignore_errors:
                raise bad_request(f"Invalid topic: {topic}")
            refused.append(_rejected(topic, "Invalid topic", []))
        elif missing := missing_permissions(topic, CLIENT_ID.get(), rules):
            refused.append(_rejected(topic, "Missing permissions", missing))
        else:
            permitted.append(topic)
    if refused and not ignore_errors:
        missing = sorted({p for t in refused for p in t["missingPermissions"]})
        raise ApiError(
            403,
            "missing.permissions",
            f"Unable to subscribe to {len(refused)} topic(s), e.g. {refused[0]['id']}: "
            f"missing permissions {', '.join(missing)}.",
        )
    return permitted, refused


async def _subscribe(request: web.Request, *, replace: bool) -> web.Response:
    channel = _channel_or_404(request)
    topics, refused = await _topics_from_body(request)
    total = len(dict.fromkeys(topics if replace else [*channel.topics, *topics]))
    limit = request.app[HUB].topics_per_channel
    if total > limit:
        raise bad_request(f"A channel allows at most {limit} topics; this request makes {total}.")
    request.app[HUB].set_topics(channel, topics, replace=replace)
    return json_response(_topics_listing(channel, refused))


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
