"""Presence: definitions, system presences, one user's PURECLOUD presence, bulk read/write, and
the WFM users/activity bulk read (presence + routing status in one call).

Spellings of systemPresence per endpoint (docs/genesys-api.md#system-presence-spellings):
/presence/definitions CamelCase ("OnQueue"); per-user, bulk and users?expand=presence the label ("On Queue");
UserActivity and notifications upper snake ("ON_QUEUE").

Limits: bulk GET 50 ids (documented); bulk PUT 50 entries (the real limit is UNCONFIRMED, this
is our chosen cap); users/activity `platform.usersActivityMaxIds` (default 100; undocumented
upstream), and it leaves out users in no management unit (UNCONFIRMED upstream: the unpleasant
reading). The bulk PUT's answer has the shape `platform.bulkPresenceEcho` names.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.core.presence import SystemPresence
from controller.emulator.httpkit import (
    WORLD,
    ApiError,
    bad_request,
    id_list,
    json_body,
    json_object,
    json_response,
    note_write,
)
from controller.emulator.org import OrgPresenceDefinition, stable_id
from controller.emulator.routes_users import agent_or_404, user_presence
from controller.emulator.world import PresenceError, World, iso

BULK_GET_MAX = 50
BULK_PUT_MAX = 50


def definition_json(d: OrgPresenceDefinition) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.labels.get("en_US") or next(iter(d.labels.values()), d.system_presence.label),
        "type": d.type,
        "languageLabels": dict(d.labels),
        "systemPresence": d.system_presence.value,
        "divisionId": d.division_id,
        "deactivated": d.deactivated,
        "selfUri": f"/api/v2/presence/definitions/{d.id}",
    }


async def list_definitions(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    flag = request.query.get("deactivated", "FALSE")
    if flag not in ("TRUE", "FALSE"):  # the SDK's enum spelling (docs/genesys-api.md#presence-definitions)
        raise ApiError(400, "invalid.value", "deactivated must be TRUE or FALSE.")
    show_deactivated = flag == "TRUE"
    chosen = [d for d in world.org.presence_definitions if d.deactivated == show_deactivated]
    entities = [definition_json(d) for d in chosen]
    return json_response({"total": len(entities), "entities": entities, "selfUri": request.path_qs})


async def get_definition(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    found = world.definitions.get(request.match_info["definitionId"])
    if found is None:
        raise ApiError(404, "not.found", "Presence definition not found.")
    return json_response(definition_json(found))


async def system_presences(request: web.Request) -> web.Response:
    # SystemPresence{id,name,selfUri}; the real ids are UNCONFIRMED: we use the upper snake name.
    return json_response(
        [
            {"id": p.upper_snake, "name": p.label, "selfUri": f"/api/v2/systempresences/{p.upper_snake}"}
            for p in SystemPresence
        ]
    )


async def get_presence(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = request.match_info["userId"]
    agent_or_404(world, user_id)
    return json_response(user_presence(world, world.users[user_id]))


def _definition_id(body: dict[str, Any]) -> str | None:
    definition = body.get("presenceDefinition")
    if definition is None:
        return None
    if not isinstance(definition, dict) or not isinstance(definition.get("id"), str):
        raise bad_request("presenceDefinition must be an object with an id.")
    return str(definition["id"])


def _check(world: World, definition_id: str) -> None:
    try:
        world.definition(definition_id)
    except PresenceError as error:
        raise bad_request(str(error)) from None


async def patch_presence(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = request.match_info["userId"]
    agent_or_404(world, user_id)
    body = await json_object(request)
    definition_id = _definition_id(body)
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise bad_request("message must be a string.")
    if definition_id is None and message is None and "primary" not in body:
        raise bad_request("Provide presenceDefinition, message or primary.")
    state = world.users[user_id]
    if definition_id is not None:
        _check(world, definition_id)
        note_write(request, world, user_id)
        state = world.set_presence(user_id, definition_id, message)
    elif message is not None:
        note_write(request, world, user_id)
        state = world.set_presence(user_id, state.definition_id, message)
    return json_response(user_presence(world, state))


async def bulk_get(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    ids = id_list(request, "id")
    if not ids:
        raise bad_request("The id query parameter is required.")
    if len(ids) > BULK_GET_MAX:
        raise bad_request(f"Too many user ids: {len(ids)}. The limit is {BULK_GET_MAX}.")
    answer = []
    for user_id in ids:
        state = world.users.get(user_id)
        if state is None:
            continue
        answer.append(
            {
                "userId": user_id,
                "source": "PURECLOUD",
                "presenceDefinition": {
                    "id": state.definition_id,
                    "systemPresence": world.system_presence_of(state).label,
                },
                "message": state.message,
                "modifiedDate": iso(state.modified),
            }
        )
    return json_response(answer)


async def bulk_put(request: web.Request) -> web.Response:
    """All entries are validated first, then applied: one bad entry changes nobody."""
    world = request.app[WORLD]
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise bad_request("The body must be a non-empty list of user presences.")
    if len(body) > BULK_PUT_MAX:
        raise bad_request(f"Too many presences: {len(body)}. The limit is {BULK_PUT_MAX}.")
    changes: list[tuple[str, str, str | None]] = []
    for entry in body:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise bad_request("Each entry needs the user's id.")
        if str(entry.get("source", "PURECLOUD")).upper() != "PURECLOUD":
            raise ApiError(400, "invalid.value", "Only the PURECLOUD source can be set in bulk.")
        if entry["id"] not in world.users:
            raise bad_request(f"User {entry['id']} not found.")
        definition_id = _definition_id(entry)
        if definition_id is None:
            raise bad_request(f"Entry for user {entry['id']} needs a presenceDefinition.")
        _check(world, definition_id)
        message = entry.get("message")
        changes.append((entry["id"], definition_id, message if isinstance(message, str) else None))
    echo = world.org.platform.bulk_presence_echo
    answer = []
    for user_id, definition_id, message in changes:
        note_write(request, world, user_id)
        entry = user_presence(world, world.set_presence(user_id, definition_id, message))
        if echo == "presence-id":  # documented: "the globally unique identifier for the object"
            entry = {"id": stable_id(f"userpresence:{user_id}:PURECLOUD"), **entry}
        elif echo == "user-id":
            entry = {"id": user_id, "userId": user_id, **entry}
        answer.append(entry)
    return json_response(answer)


async def users_activity(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    body = await json_object(request)
    ids = body.get("userIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("userIds must be a non-empty list of user ids.")
    limit = world.org.platform.users_activity_max_ids
    if len(ids) > limit:
        raise bad_request(f"Too many user ids: {len(ids)}. The limit is {limit}.")
    in_wfm = [i for i in ids if i in world.users and world.agents[i].management_unit_id is not None]
    entities = [world.activity(i, world.users[i]) for i in in_wfm]
    return json_response({"entities": entities})


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v2/presence/definitions", list_definitions)
    r.add_get("/api/v2/presence/definitions/{definitionId}", get_definition)
    r.add_get("/api/v2/systempresences", system_presences)
    r.add_get("/api/v2/users/presences/purecloud/bulk", bulk_get)
    r.add_put("/api/v2/users/presences/bulk", bulk_put)
    r.add_get("/api/v2/users/{userId}/presences/purecloud", get_presence)
    r.add_patch("/api/v2/users/{userId}/presences/purecloud", patch_presence)
    r.add_post("/api/v2/workforcemanagement/users/activity", users_activity)
