"""Pure builders of the WFM JSON the real API returns, from the static Org
(docs/genesys-api.md#schedule-search, #adherence).

No clock reads and no I/O: the server passes `now`, presences and histories in. Field names are the
SDK models' (`attribute_map`); nothing outside them is emitted.

Adherence rule (docs/genesys-api.md#activity-codes, natural mapping; the MU adherence settings are
not emulated):
- a code pinned to secondary presences (`secondaryPresences`) is adhered to only in one of them;
- OnQueueWork: system presence On Queue (any routing status);
- Break / Meal / Meeting / Training: the system presence of the same name (any secondary of it);
- OffQueueWork: any presence other than On Queue and Offline;
- TimeOff / Unavailable: Offline;
- off shift and without time off: adherenceState Unscheduled.
Impact: Neutral in adherence; Positive when out of adherence but On Queue (the agent takes calls
they were not scheduled to); Negative when scheduled OnQueueWork and not On Queue; else Neutral.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from controller.core.presence import RoutingStatus, SystemPresence, normalize_system_presence
from controller.emulator.org import (
    Org,
    OrgActivity,
    OrgActivityCode,
    OrgBusinessUnit,
    OrgShift,
    OrgTimeOff,
)

API = "/api/v2/workforcemanagement"

# The activity category a presence shows as (actualActivityCategory). Offline shows as Unavailable.
_ACTUAL_CATEGORY: dict[SystemPresence, str] = {
    SystemPresence.ON_QUEUE: "OnQueueWork",
    SystemPresence.BREAK: "Break",
    SystemPresence.MEAL: "Meal",
    SystemPresence.MEETING: "Meeting",
    SystemPresence.TRAINING: "Training",
    SystemPresence.AVAILABLE: "OffQueueWork",
    SystemPresence.BUSY: "OffQueueWork",
    SystemPresence.AWAY: "OffQueueWork",
    SystemPresence.IDLE: "OffQueueWork",
    SystemPresence.OFFLINE: "Unavailable",
}
_SAME_NAME = {
    "Break": SystemPresence.BREAK,
    "Meal": SystemPresence.MEAL,
    "Meeting": SystemPresence.MEETING,
    "Training": SystemPresence.TRAINING,
}


def iso(t: datetime) -> str:
    """The API's date-time style: UTC, milliseconds, "Z" ("2026-11-24T13:00:00.000Z")."""
    return t.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"  # drop "+00:00"


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


# --- schedule lookups ---------------------------------------------------------------------------


def _code(org: Org, bu_id: str, code_id: str) -> OrgActivityCode:
    return org.index().activity_codes[(bu_id, code_id)]


def _shift_end(shift: OrgShift) -> datetime:
    return shift.start + timedelta(minutes=shift.length_minutes)


def _activity_end(activity: OrgActivity) -> datetime:
    return activity.start + timedelta(minutes=activity.length_minutes)


def shift_at(org: Org, agent_id: str, t: datetime) -> OrgShift | None:
    """The agent's shift covering instant t (shifts of one agent never overlap)."""
    shifts = org.shifts.get(agent_id, [])
    i = bisect_right(shifts, t, key=lambda s: s.start)
    if i and t < _shift_end(shifts[i - 1]):
        return shifts[i - 1]
    return None


def activity_at(org: Org, agent_id: str, t: datetime) -> tuple[OrgActivity, OrgActivityCode] | None:
    """The scheduled activity (and its code) at instant t; None off shift."""
    shift = shift_at(org, agent_id, t)
    units = org.business_unit_of(agent_id)
    if shift is None or units is None:
        return None
    for activity in shift.activities:
        if activity.start <= t < _activity_end(activity):
            return activity, _code(org, units[1].id, activity.activity_code_id)
    return None


def time_off_span(bu: OrgBusinessUnit, marker: OrgTimeOff) -> tuple[datetime, datetime]:
    """A full-day marker covers its business-unit date, local midnight to local midnight (DST-aware)."""
    zone = ZoneInfo(bu.time_zone)
    day = marker.business_unit_date
    nxt = day + timedelta(days=1)
    return (
        datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC),
        datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC),
    )


def time_off_at(org: Org, agent_id: str, t: datetime) -> tuple[OrgTimeOff, OrgActivityCode] | None:
    """The full-day time off covering instant t (BU time zone), with its code."""
    units = org.business_unit_of(agent_id)
    if units is None:
        return None
    bu = units[1]
    for marker in org.index().time_off.get(agent_id, []):
        begin, end = time_off_span(bu, marker)
        if begin <= t < end:
            return marker, _code(org, bu.id, marker.activity_code_id)
    return None


def scheduled_at(org: Org, agent_id: str, t: datetime) -> tuple[datetime, datetime, OrgActivityCode] | None:
    """What the agent is scheduled for at t: (from, until, code) of the activity or time off; None
    when unscheduled. A shift wins over a time-off marker of the same day."""
    found = activity_at(org, agent_id, t)
    if found is not None:
        activity, code = found
        return activity.start, _activity_end(activity), code
    off = time_off_at(org, agent_id, t)
    if off is not None:
        units = org.business_unit_of(agent_id)
        assert units is not None  # time_off_at found one
        begin, end = time_off_span(units[1], off[0])
        return begin, end, off[1]
    return None


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
    """BuAgentSchedulesSearchResponse of POST …/businessunits/{buId}/agentschedules/search: the BU's
    agents (or the requested ones that belong to it) with shifts overlapping [start, end) and
    full-day time off whose local day overlaps it."""
    idx = org.index()
    bu = idx.business_units[bu_id]
    if user_ids is None:
        mu_ids = {mu.id for mu in org.management_units if mu.business_unit_id == bu_id}
        candidates = [a.id for a in org.agents if a.management_unit_id in mu_ids]
    else:
        candidates = list(dict.fromkeys(user_ids))
    schedules: list[dict[str, object]] = []
    weeks: dict[date, str] = {}
    for user_id in candidates:
        units = org.business_unit_of(user_id)
        if units is None or units[1].id != bu_id:
            continue
        shifts = org.shifts.get(user_id, [])
        # Shifts are sorted and at most a day long: begin at the first that may still overlap.
        first = bisect_right(shifts, start - timedelta(days=2), key=lambda s: s.start)
        shift_json = []
        for shift in shifts[first:]:
            if shift.start >= end:
                break
            if _shift_end(shift) > start:
                shift_json.append(_shift_json(shift, bu_id))
                weeks[shift.week_date] = shift.schedule_id
        markers = []
        for marker in idx.time_off.get(user_id, []):
            begin, until = time_off_span(bu, marker)
            if begin < end and until > start:
                markers.append(_time_off_json(marker, _code(org, bu_id, marker.activity_code_id)))
        schedules.append({"user": _user_ref(user_id), "shifts": shift_json, "fullDayTimeOffMarkers": markers})
    return {
        "agentSchedules": schedules,
        "businessUnitTimeZone": bu.time_zone,
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


def actual_category(system_presence: SystemPresence) -> str:
    return _ACTUAL_CATEGORY[system_presence]


def adheres(code: OrgActivityCode, presence_definition_id: str, system_presence: SystemPresence) -> bool:
    """Whether being in this presence follows the scheduled code (module docstring)."""
    if code.secondary_presence_ids:
        return presence_definition_id in code.secondary_presence_ids
    if code.category == "OnQueueWork":
        return system_presence is SystemPresence.ON_QUEUE
    if code.category in _SAME_NAME:
        return system_presence is _SAME_NAME[code.category]
    if code.category == "OffQueueWork":
        return system_presence not in (SystemPresence.ON_QUEUE, SystemPresence.OFFLINE)
    return system_presence is SystemPresence.OFFLINE  # TimeOff, Unavailable


def impact(code: OrgActivityCode | None, in_adherence: bool, system_presence: SystemPresence) -> str:
    if in_adherence:
        return "Neutral"
    if system_presence is SystemPresence.ON_QUEUE:
        return "Positive"
    if code is not None and code.category == "OnQueueWork":
        return "Negative"
    return "Neutral"


def _verdict_since(
    org: Org, user_id: str, now: datetime, presence_definition_id: str, presence: SystemPresence
) -> datetime | None:
    """Start of the run of contiguous scheduled time (up to `now`) whose verdict for this presence
    equals the verdict at `now`; None if unscheduled at `now`."""
    current = scheduled_at(org, user_id, now)
    if current is None:
        return None
    verdict = adheres(current[2], presence_definition_id, presence)
    since = current[0]
    for _ in range(64):  # a shift has a handful of activities; bound the walk anyway
        before = scheduled_at(org, user_id, since - timedelta(microseconds=1))
        if before is None or adheres(before[2], presence_definition_id, presence) != verdict:
            break
        since = before[0]
    return since


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
    """UserScheduleAdherence of GET /api/v2/workforcemanagement/adherence for one user at `now`.

    timeOfAdherenceChange = the later of the presence change and the start of the contiguous
    scheduled time with the same verdict (an activity boundary can flip adherence by itself)."""
    presence = normalize_system_presence(str(system_presence))
    agent = org.index().agents.get(user_id)
    units = org.business_unit_of(user_id)
    current = scheduled_at(org, user_id, now)
    body: dict[str, object] = {
        "id": user_id,
        "name": agent.name if agent else "",
        "user": _user_ref(user_id),
    }
    if units is not None:
        body["businessUnit"] = _ref("businessunits", units[1].id)
        body["managementUnit"] = _ref("managementunits", units[0].id)
    if current is None:
        body["scheduledActivityCategory"] = "Unscheduled"
        state = "Unscheduled"
        body_impact = "Positive" if presence is SystemPresence.ON_QUEUE else "Neutral"
        changed = presence_modified
    else:
        code = current[2]
        body["scheduledActivityCategory"] = code.category
        body["scheduledActivityCode"] = {
            "id": code.id,
            "name": code.name,
            "secondaryPresences": [{"id": p} for p in code.secondary_presence_ids],
        }
        ok = adheres(code, presence_definition_id, presence)
        state = "InAdherence" if ok else "OutOfAdherence"
        body_impact = impact(code, ok, presence)
        since = _verdict_since(org, user_id, now, presence_definition_id, presence)
        changed = max(presence_modified, since) if since is not None else presence_modified
    body.update(
        {
            "systemPresence": presence.value,
            "organizationSecondaryPresenceId": presence_definition_id,
            "routingStatus": str(routing_status),
            "actualActivityCategory": actual_category(presence),
            "isOutOfOffice": out_of_office,
            "adherenceState": state,
            "impact": body_impact,
            "timeOfAdherenceChange": iso(changed),
            "presenceUpdateTime": iso(presence_modified),
            "removedFromManagementUnit": False,
            "selfUri": f"{API}/adherence?userId={user_id}",
        }
    )
    return body


# --- historical adherence -----------------------------------------------------------------------


def _scheduled_intervals(
    org: Org, user_id: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, OrgActivityCode]]:
    """Scheduled (from, until, code) pieces clipped to [start, end), time ordered; shifts take
    precedence over a time-off day they overlap."""
    units = org.business_unit_of(user_id)
    if units is None:
        return []
    bu = units[1]
    pieces: list[tuple[datetime, datetime, OrgActivityCode]] = []
    for shift in org.shifts.get(user_id, []):
        if shift.start >= end or _shift_end(shift) <= start:
            continue
        for activity in shift.activities:
            a, b = max(activity.start, start), min(_activity_end(activity), end)
            if a < b:
                pieces.append((a, b, _code(org, bu.id, activity.activity_code_id)))
    shift_spans = [(p[0], p[1]) for p in pieces]
    for marker in org.index().time_off.get(user_id, []):
        begin, until = time_off_span(bu, marker)
        code = _code(org, bu.id, marker.activity_code_id)
        for a, b in _subtract((max(begin, start), min(until, end)), shift_spans):
            pieces.append((a, b, code))
    pieces.sort(key=lambda p: p[0])
    return pieces


def _subtract(
    span: tuple[datetime, datetime], holes: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out = [span] if span[0] < span[1] else []
    for h0, h1 in holes:
        nxt = []
        for a, b in out:
            if h1 <= a or h0 >= b:
                nxt.append((a, b))
                continue
            if a < h0:
                nxt.append((a, h0))
            if h1 < b:
                nxt.append((h1, b))
        out = nxt
    return out


def _presence_segments(
    org: Org, changes: Sequence[tuple[datetime, str, str]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str, SystemPresence, str]]:
    """(from, until, definition id, system presence, routing status) covering [start, end). Before the
    first known change the agent counts as Offline, OFF_QUEUE."""
    defs = org.index().presence_definitions
    offline = next(
        (
            p.id
            for p in org.presence_definitions
            if p.type == "System" and p.system_presence is SystemPresence.OFFLINE
        ),
        "",
    )
    segments: list[tuple[datetime, datetime, str, SystemPresence, str]] = []
    current: tuple[datetime, str, str] = (start, offline, RoutingStatus.OFF_QUEUE.value)
    for change in sorted(changes, key=lambda c: c[0]):
        if change[0] <= start:
            current = (start, change[1], change[2])
            continue
        if change[0] >= end:
            break
        segments.append((current[0], change[0], current[1], _system_of(defs, current[1]), current[2]))
        current = change
    segments.append((current[0], end, current[1], _system_of(defs, current[1]), current[2]))
    return [s for s in segments if s[0] < s[1]]


def _system_of(defs: Mapping[str, object], definition_id: str) -> SystemPresence:
    definition = defs.get(definition_id)
    presence = getattr(definition, "system_presence", None)
    return presence if isinstance(presence, SystemPresence) else SystemPresence.OFFLINE


def historical_adherence_result(
    org: Org,
    mu_id: str,
    user_ids: Sequence[str] | None,
    start: datetime,
    end: datetime,
    presence_history: Mapping[str, Sequence[tuple[datetime, str, str]]],
) -> dict[str, object]:
    """WfmHistoricalAdherenceResultWrapper (the downloaded result of a historical adherence query).

    adherencePercentage = in-adherence scheduled time / scheduled time x 100 (100 with nothing
    scheduled); conformancePercentage = On Queue time / scheduled OnQueueWork time x 100 (0 with no
    OnQueueWork scheduled). Exceptions are the out-of-adherence pieces of scheduled time, offsets
    in seconds from `start`. Computed exactly by interval intersection."""
    members = [a.id for a in org.agents if a.management_unit_id == mu_id]
    member_set = set(members)
    wanted = members if user_ids is None else [u for u in dict.fromkeys(user_ids) if u in member_set]
    lookup: dict[str, str] = {}  # secondary presence id -> lookup id

    def lookup_id(presence_id: str) -> str:
        return lookup.setdefault(presence_id, str(len(lookup)))

    data = []
    for user_id in wanted:
        scheduled = _scheduled_intervals(org, user_id, start, end)
        presence = _presence_segments(org, presence_history.get(user_id, ()), start, end)
        total = adhered = on_queue_scheduled = on_queue_actual = 0.0
        net_impact = 0.0
        exceptions: list[dict[str, object]] = []
        for p0, p1, _pid, system, _rs in presence:
            if system is SystemPresence.ON_QUEUE:
                on_queue_actual += (p1 - p0).total_seconds()
        for s0, s1, code in scheduled:
            seconds = (s1 - s0).total_seconds()
            total += seconds
            if code.category == "OnQueueWork":
                on_queue_scheduled += seconds
            for p0, p1, pid, system, routing in presence:
                a, b = max(s0, p0), min(s1, p1)
                if a >= b:
                    continue
                if adheres(code, pid, system):
                    adhered += (b - a).total_seconds()
                    continue
                effect = impact(code, False, system)
                net_impact += {"Positive": 1, "Negative": -1}.get(effect, 0) * (b - a).total_seconds()
                exceptions.append(
                    {
                        "startOffsetSeconds": int((a - start).total_seconds()),
                        "endOffsetSeconds": int((b - start).total_seconds()),
                        "scheduledActivityCodeId": code.id,
                        "scheduledActivityCategory": code.category,
                        "actualActivityCategory": actual_category(system),
                        "systemPresence": system.value,
                        "routingStatus": routing,
                        "impact": effect,
                        "secondaryPresenceLookupId": lookup_id(pid),
                        "scheduledSecondaryPresenceLookupIds": [
                            lookup_id(s) for s in code.secondary_presence_ids
                        ],
                    }
                )
        data.append(
            {
                "userId": user_id,
                "managementUnitId": mu_id,
                "startDate": iso(start),
                "endDate": iso(end),
                "adherencePercentage": round(100.0 * adhered / total, 2) if total else 100.0,
                "conformancePercentage": (
                    round(100.0 * on_queue_actual / on_queue_scheduled, 2) if on_queue_scheduled else 0.0
                ),
                "impact": "Positive" if net_impact > 0 else "Negative" if net_impact < 0 else "Neutral",
                "exceptionInfo": _merge_exceptions(exceptions),
            }
        )
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
