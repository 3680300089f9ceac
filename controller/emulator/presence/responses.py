"""Presence handlers: definitions, system presences, one user's PURECLOUD presence, bulk read and
write, and the WFM users/activity bulk read (presence + routing status in one call).

Limits: bulk GET 50 ids (documented); bulk PUT 50 entries (the real limit is UNCONFIRMED, this
is our chosen cap); users/activity `platform.usersActivityMaxIds` (default 100; undocumented
upstream), and it leaves out users in no management unit (UNCONFIRMED upstream: the unpleasant
reading). The bulk PUT's answer has the shape `platform.bulkPresenceEcho` names.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.core.presence import SystemPresence
from controller.emulator.core.exceptions import BadRequest, InvalidValue
from controller.emulator.core.httpkit import (
    BACKEND,
    bounded_ids,
    find_or_404,
    ids_from_query,
    json_body,
    json_object,
    json_response,
    note_write,
)
from controller.emulator.org import stable_id
from controller.emulator.presence.exceptions import DefinitionNotFound
from controller.emulator.presence.serialize import activity, bulk_presence, definition_json, user_presence
from controller.emulator.users.exceptions import UserNotFound

BULK_GET_MAX = 50
BULK_PUT_MAX = 50


async def list_definitions(request: web.Request) -> web.Response:
    org = request.app[BACKEND].org
    flag = request.query.get("deactivated", "FALSE")
    if flag not in ("TRUE", "FALSE"):  # the SDK's enum spelling (docs/genesys-api.md#presence-definitions)
        raise InvalidValue("deactivated must be TRUE or FALSE.")
    show_deactivated = flag == "TRUE"
    entities = [definition_json(d) for d in org.presence_definitions if d.deactivated == show_deactivated]
    return json_response({"total": len(entities), "entities": entities, "selfUri": request.path_qs})


async def get_definition(request: web.Request) -> web.Response:
    definitions = request.app[BACKEND].presence.definitions.by_id
    return json_response(
        definition_json(find_or_404(definitions, request.match_info["definitionId"], DefinitionNotFound))
    )


async def system_presences(request: web.Request) -> web.Response:
    # SystemPresence{id,name,selfUri}; the real ids are UNCONFIRMED: we use the upper snake name.
    return json_response(
        [
            {"id": p.upper_snake, "name": p.label, "selfUri": f"/api/v2/systempresences/{p.upper_snake}"}
            for p in SystemPresence
        ]
    )


def _user_id(request: web.Request) -> str:
    """The path's user, 404 when the org has no such user."""
    presence = request.app[BACKEND].presence
    return find_or_404(presence.agents, request.match_info["userId"], UserNotFound).id


async def get_presence(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    return json_response(user_presence(presence, presence.users[_user_id(request)]))


def _definition_id(body: dict[str, Any]) -> str | None:
    definition = body.get("presenceDefinition")
    if definition is None:
        return None
    if not isinstance(definition, dict) or not isinstance(definition.get("id"), str):
        raise BadRequest("presenceDefinition must be an object with an id.")
    return str(definition["id"])


async def patch_presence(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    user_id = _user_id(request)
    body = await json_object(request)
    definition_id = _definition_id(body)
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise BadRequest("message must be a string.")
    if definition_id is None and message is None and "primary" not in body:
        raise BadRequest("Provide presenceDefinition, message or primary.")
    state = presence.users[user_id]
    if definition_id is not None:
        presence.definitions.settable(definition_id)
        note_write(request, user_id)
        state = presence.set_presence(user_id, definition_id, message)
    elif message is not None:
        note_write(request, user_id)
        state = presence.set_presence(user_id, state.definition_id, message)
    return json_response(user_presence(presence, state))


async def bulk_get(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    ids = ids_from_query(
        request,
        "id",
        BULK_GET_MAX,
        missing="The id query parameter is required.",
        too_many="Too many user ids: {count}. The limit is {limit}.",
    )
    found = [(user_id, presence.users.get(user_id)) for user_id in ids]
    return json_response(
        [bulk_presence(presence, user_id, state) for user_id, state in found if state is not None]
    )


async def bulk_put(request: web.Request) -> web.Response:
    """All entries are validated first, then applied: one bad entry changes nobody."""
    backend = request.app[BACKEND]
    presence = backend.presence
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise BadRequest("The body must be a non-empty list of user presences.")
    if len(body) > BULK_PUT_MAX:
        raise BadRequest(f"Too many presences: {len(body)}. The limit is {BULK_PUT_MAX}.")
    changes: list[tuple[str, str, str | None]] = []
    for entry in body:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise BadRequest("Each entry needs the user's id.")
        if str(entry.get("source", "PURECLOUD")).upper() != "PURECLOUD":
            raise InvalidValue("Only the PURECLOUD source can be set in bulk.")
        if entry["id"] not in presence.users:
            raise BadRequest(f"User {entry['id']} not found.")
        definition_id = _definition_id(entry)
        if definition_id is None:
            raise BadRequest(f"Entry for user {entry['id']} needs a presenceDefinition.")
        presence.definitions.settable(definition_id)
        message = entry.get("message")
        changes.append((entry["id"], definition_id, message if isinstance(message, str) else None))
    echo = backend.org.platform.bulk_presence_echo
    answer = []
    for user_id, definition_id, message in changes:
        note_write(request, user_id)
        entry = user_presence(presence, presence.set_presence(user_id, definition_id, message))
        if echo == "presence-id":  # documented: "the globally unique identifier for the object"
            entry = {"id": stable_id(f"userpresence:{user_id}:PURECLOUD"), **entry}
        elif echo == "user-id":
            entry = {"id": user_id, "userId": user_id, **entry}
        answer.append(entry)
    return json_response(answer)


async def users_activity(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    presence = backend.presence
    ids = (await json_object(request)).get("userIds")
    not_ids = "userIds must be a non-empty list of user ids."
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest(not_ids)
    limit = backend.org.platform.users_activity_max_ids
    bounded_ids(ids, limit, missing=not_ids, too_many="Too many user ids: {count}. The limit is {limit}.")
    in_wfm = [i for i in ids if i in presence.users and presence.agents[i].management_unit_id is not None]
    return json_response({"entities": [activity(presence, i, presence.users[i]) for i in in_wfm]})
