"""Notifications handlers: channels and their subscriptions (the WebSocket is `streaming`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.emulator.core.exceptions import BadRequest
from controller.emulator.core.httpkit import BACKEND, CLIENT_ID, HUB, TOKEN, json_body, json_response
from controller.emulator.notifications.exceptions import (
    ChannelNotFound,
    InvalidTopic,
    MissingPermissions,
    TooManyTopics,
)
from controller.emulator.notifications.models import Channel
from controller.emulator.notifications.serialize import channel_json, rejected, topics_listing
from controller.emulator.topics import is_subscribable, missing_permissions


def _channel_or_404(request: web.Request) -> Channel:
    channel_id = request.match_info["channelId"]
    channel = request.app[HUB].live(channel_id)
    if channel is None or channel.client_id != CLIENT_ID.get():
        raise ChannelNotFound(channel_id)
    return channel


async def create_channel(request: web.Request) -> web.Response:
    channel = request.app[HUB].create(CLIENT_ID.get(), TOKEN.get())
    return json_response(channel_json(request.host, channel))


async def list_channels(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    hub.expire_due()
    scope = request.query.get("includechannels", "token")
    if scope not in ("token", "oauthclient"):
        raise BadRequest("includechannels must be token or oauthclient.")
    mine = [c for c in hub.channels.values() if c.client_id == CLIENT_ID.get()]
    if scope == "token":
        mine = [c for c in mine if c.token == TOKEN.get()]
    return json_response({"entities": [channel_json(request.host, c) for c in mine]})


async def head_channel(request: web.Request) -> web.Response:
    channel = request.app[HUB].live(request.match_info["channelId"])
    return web.Response(status=200 if channel is not None else 404)


async def _topics_from_body(request: web.Request) -> tuple[list[str], list[dict[str, Any]]]:
    """The topics to subscribe and, with ignoreErrors=true, the refused ones (ChannelTopic
    entries). Without it one refused topic fails the whole request (docs/genesys-api.md#topic-rejection)."""
    body = await json_body(request)
    if not isinstance(body, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) for t in body
    ):
        raise BadRequest('The body must be a list of topics: [{"id": "v2.users.{id}.presence"}].')
    ignore_errors = request.query.get("ignoreErrors", "false").lower() == "true"
    rules = request.app[BACKEND].org.topic_rejections
    permitted: list[str] = []
    refused: list[dict[str, Any]] = []
    for topic in dict.fromkeys(str(t["id"]) for t in body):
        if not is_subscribable(topic):
            if not ignore_errors:
                raise InvalidTopic(topic)
            refused.append(rejected(topic, "Invalid topic", []))
        elif missing := missing_permissions(topic, CLIENT_ID.get(), rules):
            refused.append(rejected(topic, "Missing permissions", missing))
        else:
            permitted.append(topic)
    if refused and not ignore_errors:
        missing = sorted({p for t in refused for p in t["missingPermissions"]})
        raise MissingPermissions(len(refused), refused[0]["id"], missing)
    return permitted, refused


async def _subscribe(request: web.Request, *, replace: bool) -> web.Response:
    channel = _channel_or_404(request)
    topics, refused = await _topics_from_body(request)
    total = len(dict.fromkeys(topics if replace else [*channel.topics, *topics]))
    limit = request.app[HUB].topics_per_channel
    if total > limit:
        raise TooManyTopics(limit, total)
    request.app[HUB].set_topics(channel, topics, replace=replace)
    return json_response(topics_listing(channel, refused))


async def put_subscriptions(request: web.Request) -> web.Response:
    return await _subscribe(request, replace=True)


async def post_subscriptions(request: web.Request) -> web.Response:
    return await _subscribe(request, replace=False)


async def get_subscriptions(request: web.Request) -> web.Response:
    return json_response(topics_listing(_channel_or_404(request)))


async def delete_subscriptions(request: web.Request) -> web.Response:
    request.app[HUB].clear_topics(_channel_or_404(request))
    return web.Response(status=204)
