"""Presence JSON as each endpoint and event spells it (docs/genesys-api.md#system-presence-spellings):
/presence/definitions CamelCase ("OnQueue"); per-user, bulk and users?expand=presence the label
("On Queue"); UserActivity and notifications upper snake ("ON_QUEUE").

Shared by the services that show an agent's presence (users, presence, control) and by the
notifications wiring (`events`)."""

from __future__ import annotations

from typing import Any

from controller.emulator.core.clock import iso
from controller.emulator.org import OrgPresenceDefinition
from controller.emulator.presence.models import AgentPresence, UserChange, UserState


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


def user_presence(presence: AgentPresence, state: UserState) -> dict[str, Any]:
    """UserPresence as GET /users/{id}/presences/purecloud and users?expand=presence spell it."""
    return {
        "source": "PURECLOUD",
        "primary": True,
        "presenceDefinition": {
            "id": state.definition_id,
            "systemPresence": presence.system_presence_of(state).label,
            "selfUri": f"/api/v2/presencedefinitions/{state.definition_id}",
        },
        "message": state.message,
        "modifiedDate": iso(state.modified),
    }


def bulk_presence(presence: AgentPresence, user_id: str, state: UserState) -> dict[str, Any]:
    """One entry of GET /users/presences/purecloud/bulk."""
    return {
        "userId": user_id,
        "source": "PURECLOUD",
        "presenceDefinition": {
            "id": state.definition_id,
            "systemPresence": presence.system_presence_of(state).label,
        },
        "message": state.message,
        "modifiedDate": iso(state.modified),
    }


def _routing(state: UserState) -> dict[str, Any]:
    return {"status": state.routing_status.value, "startTime": iso(state.routing_start)}


def _out_of_office(state: UserState) -> dict[str, Any]:
    """UserActivityOutOfOffice / AgentActivityChangedTopicOutOfOffice: {active, modifiedDate}."""
    body: dict[str, Any] = {"active": state.out_of_office}
    if state.out_of_office_modified is not None:
        body["modifiedDate"] = iso(state.out_of_office_modified)
    return body


def activity(presence: AgentPresence, user_id: str, state: UserState) -> dict[str, Any]:
    """UserActivity / AgentActivityChangedTopicAgentActivity (same field names)."""
    return {
        "id": user_id,
        "routingStatus": _routing(state),
        "presence": {
            "presenceDefinition": {
                "id": state.definition_id,
                "systemPresence": presence.system_presence_of(state).upper_snake,
            },
            "presenceMessage": state.message,
            "modifiedDate": iso(state.modified),
        },
        "outOfOffice": _out_of_office(state),
        "activeQueueIds": [],
    }


def events(presence: AgentPresence, change: UserChange) -> list[tuple[str, dict[str, Any]]]:
    """The (topic, eventBody) pairs the platform announces for a change, in its order."""
    user_id, state = change.user_id, change.state
    found: list[tuple[str, dict[str, Any]]] = []
    if change.presence:  # PresenceEventUserPresence; systemPresence in upper snake like the official example
        body = {
            "source": "PURECLOUD",
            "presenceDefinition": {
                "id": state.definition_id,
                "systemPresence": presence.system_presence_of(state).upper_snake,
            },
            "primary": True,
            "message": state.message,
            "modifiedDate": iso(state.modified),
        }
        found.append((f"v2.users.{user_id}.presence", body))
    if change.routing:
        found.append((f"v2.users.{user_id}.routingStatus", {"id": user_id, "routingStatus": _routing(state)}))
    found.append((f"v2.users.{user_id}.activity", activity(presence, user_id, state)))
    return found
