"""User, routing-status, Out of Office and group JSON.

docs/genesys-api.md does not enumerate `User`; we emit id, name, division{id,selfUri}, email,
state, title, department, username, version, selfUri, plus presence / routingStatus / groups
and outOfOffice when expanded (best effort, as the real expand is documented to be).
"""

from __future__ import annotations

from typing import Any

from controller.emulator.core.clock import iso
from controller.emulator.org import Org, OrgAgent
from controller.emulator.presence.models import AgentPresence, UserState
from controller.emulator.presence.serialize import user_presence
from controller.emulator.users.models import members


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


def user_json(presence: AgentPresence, agent: OrgAgent, expand: set[str]) -> dict[str, Any]:
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
    state = presence.users[agent.id]
    if "presence" in expand:
        user["presence"] = user_presence(presence, state)
    if "routingStatus" in expand:
        user["routingStatus"] = routing_status(agent.id, state)
    if "outOfOffice" in expand:
        user["outOfOffice"] = out_of_office(agent.id, state)
    if "groups" in expand:
        user["groups"] = [{"id": g, "selfUri": f"/api/v2/groups/{g}"} for g in agent.group_ids]
    return user


def group_json(org: Org, group_id: str, name: str) -> dict[str, Any]:
    return {
        "id": group_id,
        "name": name,
        "type": "official",
        "state": "active",
        "memberCount": len(members(org, group_id)),
        "selfUri": f"/api/v2/groups/{group_id}",
    }
