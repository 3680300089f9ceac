"""Every JSON object the emulator returns uses only field names of its model in SDK 269
(`models/*.py` `attribute_map`; docs/genesys-api.md#sources).

SHAPES maps a model to its allowed fields; a field naming another model is checked recursively
(for lists, each element). `None` marks a scalar or an opaque map (e.g. languageLabels)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import requests
from websockets.sync.client import connect

from controller.emulator.core.clock import iso
from tests.conftest import Api
from tests.support.waiting import wait_for

Shape = dict[str, str | None]

LISTING: Shape = {
    "pageSize": None,
    "pageNumber": None,
    "total": None,
    "pageCount": None,
    "firstUri": None,
    "selfUri": None,
    "previousUri": None,
    "nextUri": None,
    "lastUri": None,
}
REF: Shape = {"id": None, "name": None, "selfUri": None}
SHAPES: dict[str, Shape] = {
    "ErrorBody": dict.fromkeys(
        [
            "message",
            "code",
            "status",
            "entityId",
            "entityName",
            "messageWithParams",
            "messageParams",
            "contextId",
            "details",
            "limit",
        ]
    )
    | {"errors": "ErrorBody"},
    "OAuthToken": dict.fromkeys(["access_token", "token_type", "expires_in", "refresh_token", "error"]),
    "UserEntityListing": {**LISTING, "entities": "User"},
    # The doc does not enumerate User: these are the fields the emulator emits (see users/serialize.py).
    "User": dict.fromkeys(
        ["id", "name", "email", "state", "title", "department", "username", "version", "selfUri"]
    )
    | {"division": "Ref", "presence": "UserPresence", "routingStatus": "RoutingStatus", "groups": "Ref"},
    "Ref": REF,
    "UsersSearchResponse": {
        "total": None,
        "pageCount": None,
        "pageSize": None,
        "pageNumber": None,
        "results": "User",
    },
    # The doc does not enumerate Group either: the emulator's fields.
    "GroupEntityListing": {**LISTING, "entities": "Group"},
    "Group": dict.fromkeys(["id", "name", "type", "state", "memberCount", "selfUri"]),
    "UserPresence": dict.fromkeys(
        ["id", "name", "source", "sourceId", "primary", "message", "modifiedDate", "selfUri"]
    )
    | {"presenceDefinition": "PresenceDefinition", "futurePresenceDefinition": "PresenceDefinition"},
    "PresenceDefinition": {"id": None, "systemPresence": None, "selfUri": None},
    "UcUserPresence": dict.fromkeys(
        ["id", "name", "userId", "source", "sourceId", "message", "modifiedDate", "selfUri"]
    )
    | {"presenceDefinition": "PresenceDefinition"},
    "MutableUserPresence": dict.fromkeys(
        ["id", "name", "source", "sourceId", "primary", "message", "modifiedDate", "selfUri"]
    )
    | {"presenceDefinition": "PresenceDefinition", "futurePresenceDefinition": "PresenceDefinition"},
    "RoutingStatus": {"userId": None, "status": None, "startTime": None},
    "OrganizationPresenceDefinitionEntityListing": {
        "total": None,
        "entities": "OrganizationPresenceDefinition",
        "selfUri": None,
    },
    "OrganizationPresenceDefinition": dict.fromkeys(
        ["id", "name", "type", "languageLabels", "systemPresence", "divisionId", "deactivated", "selfUri"]
    ),
    "SystemPresence": {"id": None, "name": None, "selfUri": None},
    "UserActivityListing": {"entities": "UserActivity"},
    "UserActivity": {
        "id": None,
        "routingStatus": "ActivityRoutingStatus",
        "presence": "ActivityPresence",
        "outOfOffice": "OutOfOffice",
        "activeQueueIds": None,
        "dateActiveQueuesChanged": None,
    },
    "ActivityRoutingStatus": {"status": None, "startTime": None},
    "ActivityPresence": {
        "presenceDefinition": "PresenceDefinition",
        "presenceMessage": None,
        "modifiedDate": None,
    },
    "OutOfOffice": {"active": None, "modifiedDate": None},
    "Channel": {"id": None, "connectUri": None, "expires": None},
    "ChannelEntityListing": {"entities": "Channel"},
    "ChannelTopicEntityListing": {"entities": "ChannelTopic"},
    "ChannelTopic": dict.fromkeys(["id", "state", "rejectionReason", "missingPermissions"]),
    "Trigger": dict.fromkeys(
        [
            "id",
            "name",
            "topicName",
            "enabled",
            "eventTTLSeconds",
            "delayBySeconds",
            "description",
            "version",
            "selfUri",
        ]
    )
    | {"target": "TriggerTarget", "matchCriteria": "MatchCriteria"},
    "TriggerTarget": {"type": None, "id": None, "workflowTargetSettings": "WorkflowTargetSettings"},
    "WorkflowTargetSettings": {"dataFormat": None},
    "MatchCriteria": dict.fromkeys(["jsonPath", "operator", "value", "values"]),
    "TriggerEntityListing": {"entities": "Trigger", "nextUri": None, "selfUri": None, "previousUri": None},
    # WFM (docs/genesys-api.md#wfm-units-and-membership). BU/MU listings: no fields are known
    # beyond references.
    "UnitListing": {"entities": "Ref"},
    "AgentManagementUnitReference": {"user": "Ref", "managementUnit": "Ref", "businessUnit": "Ref"},
    "BusinessUnitActivityCodeListing": {"entities": "BusinessUnitActivityCode", "downloadUrl": None},
    "BusinessUnitActivityCode": dict.fromkeys(
        [
            "id",
            "name",
            "active",
            "defaultCode",
            "category",
            "lengthInMinutes",
            "countsAsPaidTime",
            "countsAsWorkTime",
            "agentTimeOffSelectable",
            "countsTowardShrinkage",
            "plannedShrinkage",
            "interruptible",
            "planningGroups",
            "style",
            "selfUri",
        ]
    )
    | {"secondaryPresences": "Ref", "metadata": "Metadata"},
    "Metadata": {"version": None},
    "BuAsyncAgentSchedulesSearchResponse": {
        "status": None,
        "operationId": None,
        "result": "BuAgentSchedulesSearchResponse",
        "progress": None,
        "downloadUrl": None,
    },
    "BuAgentSchedulesSearchResponse": {
        "agentSchedules": "BuAgentScheduleSearchResponse",
        "businessUnitTimeZone": None,
        "publishedSchedules": "PublishedSchedule",
    },
    "PublishedSchedule": dict.fromkeys(["id", "weekDate", "weekCount", "selfUri"]),
    "BuAgentScheduleSearchResponse": {
        "user": "Ref",
        "shifts": "BuAgentScheduleShift",
        "fullDayTimeOffMarkers": "BuFullDayTimeOffMarker",
    },
    "BuAgentScheduleShift": dict.fromkeys(
        ["id", "startDate", "lengthMinutes", "manuallyEdited", "workPlanId", "workPlanShiftId"]
    )
    | {"activities": "BuAgentScheduleActivity", "schedule": "ScheduleRef"},
    "ScheduleRef": {"id": None, "weekDate": None, "selfUri": None},
    "BuAgentScheduleActivity": dict.fromkeys(
        [
            "startDate",
            "lengthMinutes",
            "description",
            "activityCodeId",
            "paid",
            "payableMinutes",
            "timeOffRequestId",
            "timeOffRequestSyncVersion",
            "externalActivityId",
            "externalActivityType",
        ]
    ),
    "BuFullDayTimeOffMarker": dict.fromkeys(
        [
            "businessUnitDate",
            "startOffsetMinutes",
            "endOffsetMinutes",
            "lengthMinutes",
            "description",
            "activityCodeId",
            "paid",
            "payableMinutes",
            "timeOffRequestId",
            "timeOffRequestSyncVersion",
            "delete",
        ]
    ),
    "UserScheduleAdherence": dict.fromkeys(
        [
            "id",
            "name",
            "scheduledActivityCategory",
            "systemPresence",
            "organizationSecondaryPresenceId",
            "routingStatus",
            "actualActivityCategory",
            "isOutOfOffice",
            "adherenceState",
            "impact",
            "timeOfAdherenceChange",
            "presenceUpdateTime",
            "activeQueues",
            "activeQueuesModifiedTime",
            "removedFromManagementUnit",
            "suppressOnTimeReminder",
            "selfUri",
        ]
    )
    | {
        "user": "Ref",
        "businessUnit": "Ref",
        "managementUnit": "Ref",
        "team": "Ref",
        "scheduledActivityCode": "ScheduledActivityCode",
        "adherenceExplanation": "AdherenceExplanation",
        "nextActivityReminders": "ActivityReminder",
    },
    "ScheduledActivityCode": {"id": None, "name": None, "secondaryPresences": "Ref"},
    "AdherenceExplanation": dict.fromkeys(["id", "startDate", "lengthMinutes", "status"]),
    "ActivityReminder": {"activityCategory": None, "startDate": None},
    "WfmHistoricalAdherenceResponse": dict.fromkeys(
        ["id", "downloadUrl", "downloadResult", "downloadUrls", "queryState"]
    ),
    "WfmHistoricalAdherenceResultWrapper": {
        "entityId": None,
        "data": "HistoricalAdherenceQueryResult",
        "lookupIdToSecondaryPresenceId": None,
    },
    "HistoricalAdherenceQueryResult": dict.fromkeys(
        [
            "userId",
            "managementUnitId",
            "startDate",
            "endDate",
            "adherencePercentage",
            "conformancePercentage",
            "impact",
            "dayMetrics",
            "actualsEndDate",
            "actuals",
        ]
    )
    | {"exceptionInfo": "ExceptionInfo"},
    "ExceptionInfo": dict.fromkeys(
        [
            "startOffsetSeconds",
            "endOffsetSeconds",
            "scheduledActivityCodeId",
            "scheduledActivityCategory",
            "actualActivityCodeId",
            "actualActivityCategory",
            "systemPresence",
            "routingStatus",
            "impact",
            "secondaryPresenceLookupId",
            "scheduledSecondaryPresenceLookupIds",
        ]
    ),
    # Notifications (docs/genesys-api.md#notifications)
    "Envelope": {"topicName": None, "version": None, "eventBody": None, "metadata": "EnvelopeMetadata"},
    "EnvelopeMetadata": {"CorrelationId": None},
    "PresenceEventUserPresence": dict.fromkeys(["source", "primary", "message", "modifiedDate"])
    | {"presenceDefinition": "PresenceDefinition", "futurePresenceDefinition": "PresenceDefinition"},
    "UserRoutingStatusUserRoutingStatus": {
        "id": None,
        "routingStatus": "ActivityRoutingStatus",
        "errorInfo": None,
    },
    "ChannelMetadata": {"message": None},
    "SystemMessage": dict.fromkeys(["systemTopicType", "reason", "message", "correlationId"]),
    "ScheduleSearchNotification": dict.fromkeys(["operationId", "businessUnitId", "downloadUrl"]),
    "HistoricalAdherenceNotification": dict.fromkeys(["id", "downloadUrl", "downloadUrls", "queryState"]),
}
EVENT_MODEL = {
    ".presence": "PresenceEventUserPresence",
    ".routingStatus": "UserRoutingStatusUserRoutingStatus",
    ".activity": "UserActivity",
    "channel.metadata": "ChannelMetadata",
    "v2.system.socket_closing": "SystemMessage",
    ".schedules.search": "ScheduleSearchNotification",
    ".historicaladherencequery": "HistoricalAdherenceNotification",
}


def check(value: Any, model: str, where: str = "$") -> None:
    """Assert every object in `value` (or each element of a list) uses only its model's fields."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            check(item, model, f"{where}[{i}]")
        return
    assert isinstance(value, dict), f"{where}: expected an object of {model}"
    allowed = SHAPES[model]
    unknown = set(value) - set(allowed)
    assert not unknown, f"{where} ({model}) has fields the doc does not list: {sorted(unknown)}"
    for name, child in allowed.items():
        if child is not None and value.get(name) is not None:
            check(value[name], child, f"{where}.{name}")


def check_event(message: dict[str, Any]) -> None:
    check(message, "Envelope")
    model = next(m for suffix, m in EVENT_MODEL.items() if message["topicName"].endswith(suffix))
    check(message["eventBody"], model, f"event {message['topicName']}")


def test_every_response_uses_only_documented_fields(api: Api) -> None:
    org = api.emulator.org
    user, other = org.agents[0].id, org.agents[1].id
    on_queue = "e08eaf1b-ee47-4fa9-a231-1200e284798f"
    token = requests.post(
        f"{api.emulator.login_base}/oauth/token",
        auth=(api.emulator.client_id, api.emulator.client_secret),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    check(token.json(), "OAuthToken")
    check(requests.get(f"{api.emulator.api_base}/api/v2/users", timeout=10).json(), "ErrorBody")
    check(api.get("/api/v2/nope").json(), "ErrorBody")

    channel = api.post("/api/v2/notifications/channels").json()
    check(channel, "Channel")
    check(api.get("/api/v2/notifications/channels").json(), "ChannelEntityListing")
    mu_id = api.get(f"/api/v2/workforcemanagement/agents/{user}/managementunit").json()["managementUnit"][
        "id"
    ]
    topics = [
        f"v2.users.{user}.presence",
        f"v2.users.{user}.routingStatus",
        f"v2.users.{user}.activity",
        f"v2.workforcemanagement.users.{api.emulator.client_id}.schedules.search",
        f"v2.users.{api.emulator.client_id}.workforcemanagement.historicaladherencequery",
    ]
    subs = api.put(
        f"/api/v2/notifications/channels/{channel['id']}/subscriptions", json=[{"id": t} for t in topics]
    )
    check(subs.json(), "ChannelTopicEntityListing")
    with connect(channel["connectUri"]) as ws:
        ws.send(json.dumps({"message": "ping"}))
        check(
            api.get("/api/v2/users", params={"expand": "presence,routingStatus,groups"}).json(),
            "UserEntityListing",
        )
        check(api.get(f"/api/v2/users/{user}").json(), "User")
        search = {"query": [{"type": "EXACT", "fields": ["email"], "value": org.agents[0].email}]}
        check(api.post("/api/v2/users/search", json=search).json(), "UsersSearchResponse")
        groups = api.get("/api/v2/groups").json()
        check(groups, "GroupEntityListing")
        check(api.get(f"/api/v2/groups/{groups['entities'][0]['id']}/members").json(), "UserEntityListing")
        check(api.get("/api/v2/presence/definitions").json(), "OrganizationPresenceDefinitionEntityListing")
        check(api.get(f"/api/v2/presence/definitions/{on_queue}").json(), "OrganizationPresenceDefinition")
        check(api.get("/api/v2/systempresences").json(), "SystemPresence")
        check(
            api.patch(
                f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": on_queue}}
            ).json(),
            "UserPresence",
        )
        check(api.get(f"/api/v2/users/{user}/presences/purecloud").json(), "UserPresence")
        check(
            api.get("/api/v2/users/presences/purecloud/bulk", params={"id": f"{user},{other}"}).json(),
            "UcUserPresence",
        )
        bulk = [{"id": other, "presenceDefinition": {"id": on_queue}}]
        check(api.put("/api/v2/users/presences/bulk", json=bulk).json(), "MutableUserPresence")
        check(
            api.post("/api/v2/workforcemanagement/users/activity", json={"userIds": [user]}).json(),
            "UserActivityListing",
        )
        check(api.get(f"/api/v2/users/{user}/routingstatus").json(), "RoutingStatus")
        check(
            api.put(f"/api/v2/users/{user}/routingstatus", json={"status": "OFF_QUEUE"}).json(),
            "RoutingStatus",
        )
        check(
            api.put(f"/api/v2/users/{user}/routingstatus", json={"status": "INTERACTING"}).json(), "ErrorBody"
        )

        trigger_body = {
            "name": "t",
            "topicName": "v2.users.{id}.activity",
            "enabled": True,
            "target": {"type": "Workflow", "id": "wf", "workflowTargetSettings": {"dataFormat": "Json"}},
            "matchCriteria": [{"jsonPath": "routingStatus.status", "operator": "Equal", "value": "IDLE"}],
            "eventTTLSeconds": 30,
            "description": "d",
        }
        trigger = api.post("/api/v2/processautomation/triggers", json=trigger_body).json()
        check(trigger, "Trigger")
        check(api.get("/api/v2/processautomation/triggers").json(), "TriggerEntityListing")
        check(api.post("/api/v2/processautomation/triggers", json={}).json(), "ErrorBody")

        wfm = "/api/v2/workforcemanagement"
        bus = api.get(f"{wfm}/businessunits").json()
        check(bus, "UnitListing")
        bu = api.get(f"{wfm}/agents/{user}/managementunit").json()
        check(bu, "AgentManagementUnitReference")
        bu_id = bu["businessUnit"]["id"]
        check(api.get(f"{wfm}/businessunits/{bu_id}/managementunits").json(), "UnitListing")
        check(api.get(f"{wfm}/businessunits/{bu_id}/activitycodes").json(), "BusinessUnitActivityCodeListing")
        now = api.emulator.control.now()
        window = {"startDate": iso(now - timedelta(days=1)), "endDate": iso(now + timedelta(days=2))}
        search_path = f"{wfm}/businessunits/{bu_id}/agentschedules/search"
        inline = api.post(search_path, json={**window, "userIds": [user, other]}).json()
        check(inline, "BuAsyncAgentSchedulesSearchResponse")
        downloaded = api.post(search_path, params={"forceDownloadService": "true"}, json=window).json()
        check(downloaded, "BuAsyncAgentSchedulesSearchResponse")
        check(requests.get(downloaded["downloadUrl"], timeout=10).json(), "BuAgentSchedulesSearchResponse")
        check(
            api.post(search_path, params={"forceAsync": "true"}, json=window).json(),
            "BuAsyncAgentSchedulesSearchResponse",
        )
        adherence = api.get(f"{wfm}/adherence", params={"userId": ",".join(a.id for a in org.agents)}).json()
        check(adherence, "UserScheduleAdherence")
        query = {**window, "endDate": iso(now), "includeExceptions": True}
        job = api.post(f"{wfm}/managementunits/{mu_id}/historicaladherencequery", json=query).json()
        check(job, "WfmHistoricalAdherenceResponse")
        wait_for(
            lambda: (
                api.get(f"{wfm}/adherence/historical/jobs/{job['id']}").json()["queryState"] == "Complete"
            ),
            "the historical adherence job",
        )
        polled = api.get(f"{wfm}/adherence/historical/jobs/{job['id']}").json()
        check(polled, "WfmHistoricalAdherenceResponse")
        check(
            requests.get(polled["downloadUrls"][0], timeout=10).json(), "WfmHistoricalAdherenceResultWrapper"
        )

        api.emulator.control.drop_websockets()
        seen = set()
        while True:
            message = json.loads(ws.recv())
            check_event(message)
            seen.add(message["topicName"])
            if message["topicName"] == "v2.system.socket_closing":
                break
    assert {"channel.metadata", *topics, "v2.system.socket_closing"} <= seen


def test_the_checker_catches_unlisted_fields_at_any_depth() -> None:
    check({"id": "c", "connectUri": "ws://x", "expires": "t"}, "Channel")
    for bad, model in (
        ({"id": "c", "connectURI": "ws://x"}, "Channel"),
        (
            {"entities": [{"id": "u", "presence": {"presenceDefinition": {"id": "p", "label": "x"}}}]},
            "UserEntityListing",
        ),
    ):
        try:
            check(bad, model)
        except AssertionError:
            continue
        raise AssertionError(f"{bad} passed as {model}")
