"""Users, groups and routing-status handlers."""

from __future__ import annotations

from aiohttp import web

from controller.core.presence import RoutingStatus
from controller.emulator.core.exceptions import BadRequest, InvalidValue
from controller.emulator.core.httpkit import (
    BACKEND,
    find_or_404,
    id_list,
    json_object,
    json_response,
    note_write,
    page_listing,
)
from controller.emulator.users import models
from controller.emulator.users.exceptions import UserNotFound
from controller.emulator.users.serialize import group_json, routing_status, user_json

MAX_SEARCH_PAGE_SIZE = 100


async def list_users(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    agents = backend.presence.agents
    ids = id_list(request, "id")
    expand = set(id_list(request, "expand"))
    chosen = [agents[i] for i in ids if i in agents] if ids else backend.org.agents
    listing = page_listing(chosen, request)
    listing["entities"] = [user_json(backend.presence, a, expand) for a in listing["entities"]]
    return json_response(listing)


async def get_user(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    agent = find_or_404(presence.agents, request.match_info["userId"], UserNotFound)
    return json_response(user_json(presence, agent, set(id_list(request, "expand"))))


async def search_users(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    body = await json_object(request)
    query = body.get("query")
    if not isinstance(query, list) or not query or not all(isinstance(q, dict) for q in query):
        raise BadRequest("query must be a non-empty list of search criteria.")
    for criterion in query:
        if str(criterion.get("type", "")).upper() not in models.SEARCH_TYPES:
            raise InvalidValue("Each criterion needs a type: EXACT, CONTAINS or STARTS_WITH.")
    page_size, page_number = body.get("pageSize", 25), body.get("pageNumber", 1)
    if not isinstance(page_size, int) or not isinstance(page_number, int):
        raise InvalidValue("pageSize and pageNumber must be integers.")
    if not 1 <= page_size <= MAX_SEARCH_PAGE_SIZE or page_number < 1:
        raise InvalidValue(f"pageSize must be 1..{MAX_SEARCH_PAGE_SIZE}, pageNumber >= 1.")
    expand = set(body.get("expand") or [])
    found = models.search(backend.org, [models.Criterion.from_request(c) for c in query])
    start = (page_number - 1) * page_size
    return json_response(
        {
            "total": len(found),
            "pageCount": -(-len(found) // page_size),
            "pageSize": page_size,
            "pageNumber": page_number,
            "results": [user_json(backend.presence, a, expand) for a in found[start : start + page_size]],
        }
    )


async def list_groups(request: web.Request) -> web.Response:
    org = request.app[BACKEND].org
    listing = page_listing(org.groups, request)
    listing["entities"] = [group_json(org, g.id, g.name) for g in listing["entities"]]
    return json_response(listing)


async def group_members(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    group = models.group(backend.org, request.match_info["groupId"])
    listing = page_listing(models.members(backend.org, group.id), request, max_page_size=100)
    expand = set(id_list(request, "expand"))
    listing["entities"] = [user_json(backend.presence, a, expand) for a in listing["entities"]]
    return json_response(listing)


async def get_routing_status(request: web.Request) -> web.Response:
    user_id = request.match_info["userId"]
    state = request.app[BACKEND].presence.users.get(user_id)
    if state is None:  # "A value of OFF_QUEUE will be returned if the specified user does not exist."
        return json_response({"userId": user_id, "status": "OFF_QUEUE"})
    return json_response(routing_status(user_id, state))


async def put_routing_status(request: web.Request) -> web.Response:
    presence = request.app[BACKEND].presence
    user_id = find_or_404(presence.agents, request.match_info["userId"], UserNotFound).id
    body = await json_object(request)
    try:
        status = RoutingStatus(str(body.get("status")))
    except ValueError:
        allowed = ", ".join(s.value for s in RoutingStatus)
        raise InvalidValue(f"status must be one of {allowed}.") from None
    note_write(request, user_id)  # a no-op change is still a write the caller made
    return json_response(routing_status(user_id, presence.set_routing_status(user_id, status)))
