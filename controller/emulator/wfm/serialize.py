"""The WFM JSON the real API returns, from the static Org and the adherence and schedule models
(docs/genesys-api.md#schedule-search, #adherence). Field names are the SDK models'
(`attribute_map`); nothing outside them is emitted. Pure: no clock reads and no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from controller.core.presence import RoutingStatus, SystemPresence, normalize_system_presence
from controller.emulator.core.clock import iso
from controller.emulator.org import Org, OrgActivity, OrgActivityCode, OrgShift, OrgTimeOff
from controller.emulator.wfm import adherence, schedules

API = "/api/v2/workforcemanagement"


def _ref(kind: str, entity_id: str) -> dict[str, str]:
    return {"id": entity_id, "selfUri": f"{API}/{kind}/{entity_id}"}


def _user_ref(user_id: str) -> dict[str, str]:
    return {"id": user_id, "selfUri": f"/api/v2/users/{user_id}"}


# --- listings -----------------------------------------------------------------------------------


def business_units_listing(org: Org) -> dict[str, object]:
    """GET /api/v2/workforcemanagement/businessunits."""
    return {
        "entities": [
            {"id": bu.id, "name": bu.name, "selfUri": f"{API}/businessunits/{bu.id}"}
            for bu in org.business_units
        ]
    }


def management_units_listing(org: Org, bu_id: str) -> dict[str, object]:
    """GET /api/v2/workforcemanagement/businessunits/{buId}/managementunits."""
    return {
        "entities": [
            {"id": mu.id, "name": mu.name, "selfUri": f"{API}/managementunits/{mu.id}"}
            for mu in org.management_units
            if mu.business_unit_id == bu_id
        ]
    }


def _members(org: Org, mu_id: str) -> list[dict[str, str]]:
    return [_user_ref(a.id) for a in org.agents if a.management_unit_id == mu_id]


def business_unit_users(org: Org, bu_id: str, mu_ids: set[str] | None) -> dict[str, object]:
    """GET …/businessunits/{buId}/users: BuUserListing{managementUnits: [ManagementUnitUserListing
    {managementUnit: ManagementUnitReference, users: [UserReference]}]}, optionally narrowed."""
    return {
        "managementUnits": [
            {"managementUnit": _ref("managementunits", mu.id), "users": _members(org, mu.id)}
            for mu in org.management_units
            if mu.business_unit_id == bu_id and (mu_ids is None or mu.id in mu_ids)
        ]
    }


def management_unit_users(org: Org, mu_id: str) -> dict[str, object]:
    """GET …/managementunits/{muId}/users: WfmUserEntityListing{entities: [UserReference]}."""
    return {"entities": _members(org, mu_id)}


def agent_management_unit(org: Org, agent_id: str) -> dict[str, object] | None:
    """GET /api/v2/workforcemanagement/agents/{agentId}/managementunit; None -> 404."""
    units = org.business_unit_of(agent_id)
    if units is None:
        return None
    mu, bu = units
    return {
        "user": _user_ref(agent_id),
        "managementUnit": _ref("managementunits", mu.id),
        "businessUnit": _ref("businessunits", bu.id),
    }


def activity_code_json(code: OrgActivityCode) -> dict[str, object]:
    return {
        "id": code.id,
        "name": code.name,
        "active": code.active,
        "defaultCode": code.default_code,
        "category": code.category,
        "lengthInMinutes": code.length_minutes,
        "countsAsPaidTime": code.counts_as_paid_time,
        "countsAsWorkTime": code.counts_as_work_time,
        "secondaryPresences": [{"id": p} for p in code.secondary_presence_ids],
        "metadata": {"version": 1},
        "selfUri": f"{API}/businessunits/{code.business_unit_id}/activitycodes/{code.id}",
    }


def activity_codes_listing(org: Org, bu_id: str) -> dict[str, object]:
    """GET /api/v2/workforcemanagement/businessunits/{buId}/activitycodes."""
    return {"entities": [activity_code_json(c) for c in org.activity_codes if c.business_unit_id == bu_id]}


# --- schedule search ----------------------------------------------------------------------------


def _activity_json(activity: OrgActivity) -> dict[str, object]:
    return {
        "startDate": iso(activity.start),
        "lengthMinutes": activity.length_minutes,
        "description": activity.description,
        "activityCodeId": activity.activity_code_id,
        "paid": activity.paid,
        "payableMinutes": activity.length_minutes if activity.paid else 0,
    }


def _shift_json(shift: OrgShift, bu_id: str) -> dict[str, object]:
    return {
        "id": shift.id,
        "startDate": iso(shift.start),
        "lengthMinutes": shift.length_minutes,
        "activities": [_activity_json(a) for a in shift.activities],
        "manuallyEdited": False,
        "schedule": {
            "id": shift.schedule_id,
            "weekDate": shift.week_date.isoformat(),
            "selfUri": _schedule_uri(bu_id, shift.week_date, shift.schedule_id),
        },
    }


def _schedule_uri(bu_id: str, week: date, schedule_id: str) -> str:
    return f"{API}/businessunits/{bu_id}/weeks/{week.isoformat()}/schedules/{schedule_id}"


def _time_off_json(marker: OrgTimeOff, code: OrgActivityCode) -> dict[str, object]:
    return {
        "businessUnitDate": marker.business_unit_date.isoformat(),
        "lengthMinutes": marker.length_minutes,
        "description": marker.description,
        "activityCodeId": marker.activity_code_id,
        "paid": code.counts_as_paid_time,
        "payableMinutes": marker.length_minutes if code.counts_as_paid_time else 0,
    }


def schedule_search_result(
    org: Org, bu_id: str, user_ids: list[str] | None, start: datetime, end: datetime
) -> dict[str, object]:
    """BuAgentSchedulesSearchResponse of POST …/businessunits/{buId}/agentschedules/search."""
    found = schedules.search(org, bu_id, user_ids, start, end)
    weeks: dict[date, str] = {}
    for agent in found:
        for shift in agent.shifts:
            weeks[shift.week_date] = shift.schedule_id
    return {
        "agentSchedules": [
            {
                "user": _user_ref(agent.user_id),
                "shifts": [_shift_json(s, bu_id) for s in agent.shifts],
                "fullDayTimeOffMarkers": [_time_off_json(m, code) for m, code in agent.time_off],
            }
            for agent in found
        ],
        "businessUnitTimeZone": org.index().business_units[bu_id].time_zone,
        "publishedSchedules": [
            {
                "id": sid,
                "weekDate": week.isoformat(),
                "weekCount": 1,
                "selfUri": _schedule_uri(bu_id, week, sid),
            }
            for week, sid in sorted(weeks.items())
        ],
    }


# --- adherence ----------------------------------------------------------------------------------


def realtime_adherence(
    org: Org,
    user_id: str,
    now: datetime,
    presence_definition_id: str,
    system_presence: SystemPresence | str,
    routing_status: RoutingStatus | str,
    presence_modified: datetime,
    out_of_office: bool = False,
) -> dict[str, object]:
    """UserScheduleAdherence of GET /api/v2/workforcemanagement/adherence for one user at `now`."""
    presence = normalize_system_presence(str(system_presence))
    agent = org.index().agents.get(user_id)
    units = org.business_unit_of(user_id)
    verdict = adherence.realtime(org, user_id, now, presence_definition_id, presence, presence_modified)
    body: dict[str, object] = {
        "id": user_id,
        "name": agent.name if agent else "",
        "user": _user_ref(user_id),
    }
    if units is not None:
        body["businessUnit"] = _ref("businessunits", units[1].id)
        body["managementUnit"] = _ref("managementunits", units[0].id)
    code = verdict.code
    if code is None:
        body["scheduledActivityCategory"] = "Unscheduled"
    else:
        body["scheduledActivityCategory"] = code.category
        body["scheduledActivityCode"] = {
            "id": code.id,
            "name": code.name,
            "secondaryPresences": [{"id": p} for p in code.secondary_presence_ids],
        }
    body.update(
        {
            "systemPresence": presence.value,
            "organizationSecondaryPresenceId": presence_definition_id,
            "routingStatus": str(routing_status),
            "actualActivityCategory": adherence.actual_category(presence),
            "isOutOfOffice": out_of_office,
            "adherenceState": verdict.state,
            "impact": verdict.impact,
            "timeOfAdherenceChange": iso(verdict.changed),
            "presenceUpdateTime": iso(presence_modified),
            "removedFromManagementUnit": False,
            "selfUri": f"{API}/adherence?userId={user_id}",
        }
    )
    return body


def historical_adherence_result(
    org: Org,
    mu_id: str,
    user_ids: Sequence[str] | None,
    start: datetime,
    end: datetime,
    presence_history: Mapping[str, Sequence[tuple[datetime, str, str]]],
) -> dict[str, object]:
    """WfmHistoricalAdherenceResultWrapper (the downloaded result of a historical adherence query).
    Exceptions are in seconds from `start`; secondary presences appear by lookup id."""
    lookup: dict[str, str] = {}  # secondary presence id -> lookup id

    def lookup_id(presence_id: str) -> str:
        return lookup.setdefault(presence_id, str(len(lookup)))

    def exception_json(item: adherence.AdherenceException) -> dict[str, object]:
        return {
            "startOffsetSeconds": int((item.start - start).total_seconds()),
            "endOffsetSeconds": int((item.end - start).total_seconds()),
            "scheduledActivityCodeId": item.code.id,
            "scheduledActivityCategory": item.code.category,
            "actualActivityCategory": adherence.actual_category(item.system),
            "systemPresence": item.system.value,
            "routingStatus": item.routing,
            "impact": item.impact,
            "secondaryPresenceLookupId": lookup_id(item.presence_id),
            "scheduledSecondaryPresenceLookupIds": [lookup_id(s) for s in item.code.secondary_presence_ids],
        }

    data = [
        {
            "userId": user.user_id,
            "managementUnitId": mu_id,
            "startDate": iso(start),
            "endDate": iso(end),
            "adherencePercentage": user.adherence_percentage,
            "conformancePercentage": user.conformance_percentage,
            "impact": user.impact,
            "exceptionInfo": _merge_exceptions([exception_json(e) for e in user.exceptions]),
        }
        for user in adherence.historical(org, mu_id, user_ids, start, end, presence_history)
    ]
    return {
        "entityId": mu_id,
        "data": data,
        "lookupIdToSecondaryPresenceId": {v: k for k, v in lookup.items()},
    }


def _merge_exceptions(exceptions: list[dict[str, object]]) -> list[dict[str, object]]:
    """Join back-to-back exceptions that differ only by their time range."""
    merged: list[dict[str, object]] = []
    for item in exceptions:
        prev = merged[-1] if merged else None
        same = prev is not None and all(
            prev[k] == item[k] for k in item if k not in ("startOffsetSeconds", "endOffsetSeconds")
        )
        if prev is not None and same and prev["endOffsetSeconds"] == item["startOffsetSeconds"]:
            prev["endOffsetSeconds"] = item["endOffsetSeconds"]
        else:
            merged.append(item)
    return merged
