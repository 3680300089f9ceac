"""Control-surface handlers."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from controller.emulator.control.exceptions import BadControlRequest
from controller.emulator.control.models import summary
from controller.emulator.control.serialize import record_json, summary_json
from controller.emulator.core.clock import iso, parse_iso
from controller.emulator.core.httpkit import BACKEND, HUB, find_or_404, json_object, json_response
from controller.emulator.presence.serialize import activity
from controller.emulator.users.exceptions import UserNotFound

_OK = {"ok": True}


async def post_faults(request: web.Request) -> web.Response:
    try:
        request.app[BACKEND].faults.configure(await json_object(request))
    except (ValueError, TypeError) as error:
        raise BadControlRequest(str(error)) from None
    return json_response(_OK)


async def delete_faults(request: web.Request) -> web.Response:
    request.app[BACKEND].faults.clear()
    return json_response(_OK)


async def revoke_tokens(request: web.Request) -> web.Response:
    request.app[BACKEND].tokens.revoke_all()
    return json_response(_OK)


async def token_ttl(request: web.Request) -> web.Response:
    seconds = (await json_object(request)).get("seconds")
    if not isinstance(seconds, int) or seconds < 1:
        raise BadControlRequest("seconds must be a positive integer")
    request.app[BACKEND].tokens.ttl = seconds
    return json_response(_OK)


async def restart(request: web.Request) -> web.Response:
    await request.app[HUB].close_all(reason="restart")
    request.app[BACKEND].tokens.revoke_all()
    return json_response(_OK)


async def get_clock(request: web.Request) -> web.Response:
    return json_response({"now": iso(request.app[BACKEND].clock.now())})


async def post_clock(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    body = await json_object(request)
    try:
        if "now" in body:
            backend.clock.set(parse_iso(str(body["now"])))
        elif "advanceSeconds" in body:
            backend.clock.advance(float(body["advanceSeconds"]))
        else:
            raise BadControlRequest('give "now" (ISO-8601) or "advanceSeconds"')
    except (ValueError, TypeError) as error:
        raise BadControlRequest(str(error)) from None
    backend.settle()  # logins and logouts the jump passed over happen now, in order
    request.app[HUB].expire_due()
    return json_response({"now": iso(backend.clock.now())})


def _known_user(request: web.Request) -> str:
    users = request.app[BACKEND].presence.users
    find_or_404(users, request.match_info["userId"], UserNotFound)
    return request.match_info["userId"]


async def agent_presence(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    user_id = _known_user(request)
    body = await json_object(request)
    definition = presence.definitions.resolve(str(body.get("presence", "")))
    presence.users[user_id].logged_in = True  # a change by hand is made in a client
    state = presence.set_presence(user_id, definition.id, body.get("message"))
    return json_response(activity(presence, user_id, state))


async def agent_interaction(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    user_id = _known_user(request)
    state = presence.interaction(user_id, str((await json_object(request)).get("action", "offer")))
    return json_response(activity(presence, user_id, state))


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise BadControlRequest(f'give {{"{name}": true|false}}')
    return value


async def agent_login(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    user_id = _known_user(request)
    state = presence.set_login(user_id, _flag(await json_object(request), "loggedIn"))
    return json_response({**activity(presence, user_id, state), "loggedIn": state.logged_in})


async def agent_out_of_office(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    user_id = _known_user(request)
    state = presence.set_out_of_office(user_id, _flag(await json_object(request), "active"))
    return json_response(activity(presence, user_id, state))


async def get_requests(request: web.Request) -> web.Response:
    log = request.app[BACKEND].requests.records
    start = int(request.query.get("from", "0"))  # skip the first `from` records (read incrementally)
    return json_response([record_json(r) for r in itertools.islice(log, start, None)])


async def delete_requests(request: web.Request) -> web.Response:
    request.app[BACKEND].requests.clear()
    return json_response(_OK)


async def drop_websockets(request: web.Request) -> web.Response:
    return json_response({"dropped": request.app[HUB].drop_sockets(reason="drop")})


async def expire_channels(request: web.Request) -> web.Response:
    request.app[HUB].expire_all()
    return json_response(_OK)


async def reset(request: web.Request) -> web.Response:
    request.app[BACKEND].reset()
    return json_response(_OK)


async def get_summary(request: web.Request) -> web.Response:
    return json_response(summary_json(summary(request.app[BACKEND], request.app[HUB])))
