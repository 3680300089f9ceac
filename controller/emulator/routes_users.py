"""Users, groups and routing status: /api/v2/users..., /api/v2/groups...

docs/genesys-api.md does not enumerate `User`; we emit id, name, division{id,selfUri}, email,
state, title, department, username, version, selfUri, plus presence / routingStatus / groups
and outOfOffice when expanded (best effort, as the real expand is documented to be).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from controller.core.presence import RoutingStatus
from controller.emulator.httpkit import (
    WORLD,
    ApiError,
    bad_request,
    id_list,
    json_object,
    json_response,
    not_found,
    note_write,
    page_listing,
)
from controller.emulator.org import OrgAgent
from controller.emulator.world import PresenceError, UserState, World, iso

MAX_SEARCH_PAGE_SIZE = 100


def user_presence(world: World, state: UserState) -> dict[str, Any]:
    """UserPresence as GET /users/{id}/presences/purecloud and users?expand=presence spell it."""
    system = world.system_presence_of(state)
    return {
        "source": "PURECLOUD",
        "primary": True,
        "presenceDefinition": {
            "id": state.definition_id,
            "systemPresence": system.label,
            "selfUri": f"/api/v2/presencedefinitions/{state.definition_id}",
        },
        "message": state.message,
        "modifiedDate": iso(state.modified),
    }


def routing_status(user_id: str, state: UserState) -> dict[str, Any]:
    return {"userId": user_id, "status": state.routing_status.value, "startTime": iso(state.routing_start)}


def out_of_office(user_id: str, state: UserState) -> dict[str, Any]:
    """OutOfOffice as users?expand=outOfOffice spells it (not UserActivity's {active, modifiedDate})."""
    body: dict[str, Any] = {
        "user": {"id": user_id, "selfUri": f"/api/v2/users/{user_id}"},
        "active": state.out_of_office,
        "indefinite": state.out_of_office,
        "selfUri": f"/api/v2/users/{user_id}/outofoffice",
    }
    if state.out_of_office and state.out_of_office_modified is not None:
        body["startDate"] = iso(state.out_of_office_modified)
    return body


def user_json(world: World, agent: OrgAgent, expand: set[str]) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": agent.id,
        "name": agent.name,
        "division": {
            "id": agent.division_id,
            "selfUri": f"/api/v2/authorization/divisions/{agent.division_id}",
        },
        "email": agent.email,
        "state": "active",
        "title": agent.title,
        "department": agent.department,
        "username": agent.email,
        "version": 1,
        "selfUri": f"/api/v2/users/{agent.id}",
    }
    state = world.users[agent.id]
    if "presence" in expand:
        user["presence"] = user_presence(world, state)
    if "routingStatus" in expand:
        user["routingStatus"] = routing_status(agent.id, state)
    if "outOfOffice" in expand:
        user["outOfOffice"] = out_of_office(agent.id, state)
    if "groups" in expand:
        user["groups"] = [{"id": g, "selfUri": f"/api/v2/groups/{g}"} for g in agent.group_ids]
    return user


def agent_or_404(world: World, user_id: str) -> OrgAgent:
    agent = world.agents.get(user_id)
    if agent is None:
        raise not_found(f"User {user_id} not found.")
    return agent


async def list_users(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    ids = id_list(request, "id")
    expand = set(id_list(request, "expand"))
    agents = [world.agents[i] for i in ids if i in world.agents] if ids else world.org.agents
    listing = page_listing(agents, request)
    listing["entities"] = [user_json(world, a, expand) for a in listing["entities"]]
    return json_response(listing)


async def get_user(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    agent = agent_or_404(world, request.match_info["userId"])
    return json_response(user_json(world, agent, set(id_list(request, "expand"))))


def _matches(agent: OrgAgent, criterion: dict[str, Any]) -> bool:
    kind = str(criterion.get("type", "EXACT")).upper()
    fields = criterion.get("fields") or ([criterion["field"]] if "field" in criterion else [])
    value = str(criterion.get("value", "")).casefold()
    attributes = {"email": agent.email, "name": agent.name, "id": agent.id, "username": agent.email}
    for name in fields:
        text = attributes.get(name, "").casefold()
        if (kind == "EXACT" and text == value) or (kind in ("CONTAINS", "STARTS_WITH") and value in text):
            return True
    return False


async def search_users(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    body = await json_object(request)
    query = body.get("query")
    if not isinstance(query, list) or not query or not all(isinstance(q, dict) for q in query):
        raise bad_request("query must be a non-empty list of search criteria.")
    for criterion in query:
        if str(criterion.get("type", "")).upper() not in ("EXACT", "CONTAINS", "STARTS_WITH"):
            raise ApiError(
                400, "invalid.value", "Each criterion needs a type: EXACT, CONTAINS or STARTS_WITH."
            )
    page_size, page_number = body.get("pageSize", 25), body.get("pageNumber", 1)
    if not isinstance(page_size, int) or not isinstance(page_number, int):
        raise ApiError(400, "invalid.value", "pageSize and pageNumber must be integers.")
    if not 1 <= page_size <= MAX_SEARCH_PAGE_SIZE or page_number < 1:
        raise ApiError(400, "invalid.value", f"pageSize must be 1..{MAX_SEARCH_PAGE_SIZE}, pageNumber >= 1.")
    expand = set(body.get("expand") or [])
    found = [a for a in world.org.agents if all(_matches(a, c) for c in query)]
    start = (page_number - 1) * page_size
    return json_response(
        {
            "total": len(found),
            "pageCount": -(-len(found) // page_size),
            "pageSize": page_size,
            "pageNumber": page_number,
            "results": [user_json(world, a, expand) for a in found[start : start + page_size]],
        }
    )


def _group_json(world: World, group_id: str, name: str) -> dict[str, Any]:
    members = sum(1 for a in world.org.agents if group_id in a.group_ids)
    return {
        "id": group_id,
        "name": name,
        "type": "official",
        "state": "active",
        "memberCount": members,
        "selfUri": f"/api/v2/groups/{group_id}",
    }


async def list_groups(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    listing = page_listing(world.org.groups, request)
    listing["entities"] = [_group_json(world, g.id, g.name) for g in listing["entities"]]
    return json_response(listing)


async def group_members(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    group_id = request.match_info["groupId"]
    if not any(g.id == group_id for g in world.org.groups):
        raise not_found(f"Group {group_id} not found.")
    members = [a for a in world.org.agents if group_id in a.group_ids]
    listing = page_listing(members, request, max_page_size=100)
    expand = set(id_list(request, "expand"))
    listing["entities"] = [user_json(world, a, expand) for a in listing["entities"]]
    return json_response(listing)


async def get_routing_status(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = request.match_info["userId"]
    state = world.users.get(user_id)
    if state is None:  # "A value of OFF_QUEUE will be returned if the specified user does not exist."
        return json_response({"userId": user_id, "status": "OFF_QUEUE"})
    return json_response(routing_status(user_id, state))


async def put_routing_status(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    user_id = request.match_info["userId"]
    agent_or_404(world, user_id)
    body = await json_object(request)
    try:
        status = RoutingStatus(str(body.get("status")))
    except ValueError:
        allowed = ", ".join(s.value for s in RoutingStatus)
        raise ApiError(400, "invalid.value", f"status must be one of {allowed}.") from None
    note_write(request, world, user_id)  # a no-op change is still a write the caller made
    try:
        state = world.set_routing_status(user_id, status)
    except PresenceError as error:
        raise bad_request(str(error)) from None
    return json_response(routing_status(user_id, state))


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v2/users", list_users)
    r.add_post("/api/v2/users/search", search_users)
    r.add_get("/api/v2/users/{userId}", get_user)
    r.add_get("/api/v2/users/{userId}/routingstatus", get_routing_status)
    r.add_put("/api/v2/users/{userId}/routingstatus", put_routing_status)
    r.add_get("/api/v2/groups", list_groups)
    r.add_get("/api/v2/groups/{groupId}/members", group_members)
