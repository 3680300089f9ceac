"""The emulator's control surface (/_emulator/..., no auth, never rate limited) and
`EmulatorControl`, a small requests-based client for it (tests, benchmarks, users' own tests)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime
from typing import Any

import requests
from aiohttp import web

from controller.emulator.httpkit import HUB, WORLD, bad_request, json_object, json_response, not_found
from controller.emulator.world import PresenceError, iso, parse_iso

_OK = {"ok": True}


async def post_faults(request: web.Request) -> web.Response:
    try:
        request.app[WORLD].faults.configure(await json_object(request))
    except (ValueError, TypeError) as error:
        raise bad_request(str(error)) from None
    return json_response(_OK)


async def delete_faults(request: web.Request) -> web.Response:
    request.app[WORLD].faults.clear()
    return json_response(_OK)


async def revoke_tokens(request: web.Request) -> web.Response:
    request.app[WORLD].revoke_tokens()
    return json_response(_OK)


async def token_ttl(request: web.Request) -> web.Response:
    seconds = (await json_object(request)).get("seconds")
    if not isinstance(seconds, int) or seconds < 1:
        raise bad_request("seconds must be a positive integer")
    request.app[WORLD].token_ttl = seconds
    return json_response(_OK)


async def restart(request: web.Request) -> web.Response:
    await request.app[HUB].close_all(reason="restart")
    request.app[WORLD].revoke_tokens()
    return json_response(_OK)


async def get_clock(request: web.Request) -> web.Response:
    return json_response({"now": iso(request.app[WORLD].clock.now())})


async def post_clock(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    body = await json_object(request)
    try:
        if "now" in body:
            world.clock.set(parse_iso(str(body["now"])))
        elif "advanceSeconds" in body:
            world.clock.advance(float(body["advanceSeconds"]))
        else:
            raise bad_request('give "now" (ISO-8601) or "advanceSeconds"')
    except (ValueError, TypeError) as error:
        raise bad_request(str(error)) from None
    world.settle()  # logins and logouts the jump passed over happen now, in order
    request.app[HUB].expire_due()
    return json_response({"now": iso(world.clock.now())})


def _known_user(request: web.Request) -> str:
    user_id = request.match_info["userId"]
    if user_id not in request.app[WORLD].users:
        raise not_found(f"User {user_id} not found.")
    return user_id


async def agent_presence(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = _known_user(request)
    body = await json_object(request)
    try:
        definition = world.resolve_presence(str(body.get("presence", "")))
        world.users[user_id].logged_in = True  # a change by hand is made in a client
        state = world.set_presence(user_id, definition.id, body.get("message"))
    except PresenceError as error:
        raise bad_request(str(error)) from None
    return json_response(world.activity(user_id, state))


async def agent_interaction(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = _known_user(request)
    try:
        state = world.interaction(user_id, str((await json_object(request)).get("action", "offer")))
    except PresenceError as error:
        raise bad_request(str(error)) from None
    return json_response(world.activity(user_id, state))


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise bad_request(f'give {{"{name}": true|false}}')
    return value


async def agent_login(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = _known_user(request)
    state = world.set_login(user_id, _flag(await json_object(request), "loggedIn"))
    return json_response({**world.activity(user_id, state), "loggedIn": state.logged_in})


async def agent_out_of_office(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = _known_user(request)
    state = world.set_out_of_office(user_id, _flag(await json_object(request), "active"))
    return json_response(world.activity(user_id, state))


async def get_requests(request: web.Request) -> web.Response:
    log = request.app[WORLD].requests
    start = int(request.query.get("from", "0"))  # skip the first `from` records (read incrementally)
    return json_response([r.to_json() for r in itertools.islice(log, start, None)])


async def delete_requests(request: web.Request) -> web.Response:
    request.app[WORLD].requests.clear()
    return json_response(_OK)


async def drop_websockets(request: web.Request) -> web.Response:
    return json_response({"dropped": request.app[HUB].drop_sockets(reason="drop")})


async def expire_channels(request: web.Request) -> web.Response:
    request.app[HUB].expire_all()
    return json_response(_OK)


async def reset(request: web.Request) -> web.Response:
    request.app[WORLD].reset()
    return json_response(_OK)


async def summary(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    labels = (world.definitions[s.definition_id].labels.get("en_US", "?") for s in world.users.values())
    counts = Counter(labels)
    return json_response(
        {
            "agents": len(world.org.agents),
            "presenceCounts": dict(counts),
            "managementUnits": len(world.org.management_units),
            "presenceDefinitions": len(world.org.presence_definitions),
            "scheduledNow": world.scheduled_now(),
            "loggedIn": sum(1 for s in world.users.values() if s.logged_in),
            "outOfOffice": sum(1 for s in world.users.values() if s.out_of_office),
            "channels": len(request.app[HUB].channels),
            "socketConnections": request.app[HUB].connections,
            "writesOnInteraction": world.writes_on_interaction,
            "now": iso(world.clock.now()),
        }
    )


def register(app: web.Application) -> None:
    r = app.router
    r.add_post("/_emulator/faults", post_faults)
    r.add_delete("/_emulator/faults", delete_faults)
    r.add_post("/_emulator/tokens/revoke", revoke_tokens)
    r.add_post("/_emulator/tokens/ttl", token_ttl)
    r.add_post("/_emulator/restart", restart)
    r.add_get("/_emulator/clock", get_clock)
    r.add_post("/_emulator/clock", post_clock)
    r.add_post("/_emulator/agents/{userId}/presence", agent_presence)
    r.add_post("/_emulator/agents/{userId}/interaction", agent_interaction)
    r.add_post("/_emulator/agents/{userId}/login", agent_login)
    r.add_post("/_emulator/agents/{userId}/outofoffice", agent_out_of_office)
    r.add_get("/_emulator/requests", get_requests)
    r.add_delete("/_emulator/requests", delete_requests)
    r.add_post("/_emulator/websockets/drop", drop_websockets)
    r.add_post("/_emulator/channels/expire", expire_channels)
    r.add_post("/_emulator/reset", reset)
    r.add_get("/_emulator/summary", summary)


class EmulatorControlError(RuntimeError):
    pass


class EmulatorControl:
    """Client of the /_emulator control surface; method names mirror the routes."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session.request(
            method, f"{self.base_url}/_emulator{path}", json=body, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise EmulatorControlError(
                f"{method} /_emulator{path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    def faults(
        self,
        *,
        errorRate: float | None = None,
        errorStatus: int | None = None,
        latencyMs: int | None = None,
        latencyRate: float | None = None,
        pathPattern: str | None = None,
        burst429: dict[str, Any] | None = None,
    ) -> None:
        spec = {
            "errorRate": errorRate,
            "errorStatus": errorStatus,
            "latencyMs": latencyMs,
            "latencyRate": latencyRate,
            "pathPattern": pathPattern,
            "burst429": burst429,
        }
        self._call("POST", "/faults", {k: v for k, v in spec.items() if v is not None})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def revoke_tokens(self) -> None:
        self._call("POST", "/tokens/revoke")

    def token_ttl(self, seconds: int) -> None:
        self._call("POST", "/tokens/ttl", {"seconds": seconds})

    def restart(self) -> None:
        self._call("POST", "/restart")

    def now(self) -> datetime:
        return parse_iso(self._call("GET", "/clock")["now"])

    def set_clock(self, now: datetime) -> datetime:
        return parse_iso(self._call("POST", "/clock", {"now": now.isoformat()})["now"])

    def advance_clock(self, seconds: float) -> datetime:
        return parse_iso(self._call("POST", "/clock", {"advanceSeconds": seconds})["now"])

    def set_presence(self, user_id: str, presence: str, message: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"presence": presence}
        if message is not None:
            body["message"] = message
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/presence", body)
        return result

    def set_logged_in(self, user_id: str, logged_in: bool) -> dict[str, Any]:
        """The agent logs in (presence Available) or out (Offline, OFF_QUEUE) of its client."""
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/login", {"loggedIn": logged_in})
        return result

    def set_out_of_office(self, user_id: str, active: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/outofoffice", {"active": active})
        return result

    def offer_interaction(self, user_id: str) -> dict[str, Any]:
        """Routing offers the agent an interaction: answered when logged in, else NOT_RESPONDING."""
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "offer"})
        return result

    def start_interaction(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "start"})
        return result

    def end_interaction(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "end"})
        return result

    def miss_interaction(self, user_id: str) -> dict[str, Any]:
        """The agent lets an alert go unanswered: NOT_RESPONDING (On Queue only)."""
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "miss"})
        return result

    def requests_log(self, start: int = 0) -> list[dict[str, Any]]:
        """The request log (oldest first) from record `start` on; see `RequestRecord.to_json`."""
        result: list[dict[str, Any]] = self._call("GET", f"/requests?from={start}")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def request_counts(self) -> dict[str, int]:
        """{"GET /api/v2/users/presences/purecloud/bulk": n, ...} keyed by route template."""
        return dict(Counter(f"{r['method']} {r['route']}" for r in self.requests_log()))

    def drop_websockets(self) -> int:
        return int(self._call("POST", "/websockets/drop")["dropped"])

    def expire_channels(self) -> None:
        self._call("POST", "/channels/expire")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/summary")
        return result

    def close(self) -> None:
        self._session.close()
