"""API JSON -> typed values. Pure functions: no I/O, tested on literal payloads.

Domain values (controller.core.domain) for what the core consumes; small dataclasses here for
what only the shell needs (channels, triggers, adherence rows, WFM references).
Every `systemPresence` passes through controller.core.presence.normalize_system_presence.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from controller.core.domain import (
    ActivityCategory,
    ActivityCode,
    Agent,
    AgentSchedule,
    ObservedAgent,
    PresenceDefinition,
    ScheduledActivity,
    Shift,
    TimeOffDay,
)
from controller.core.presence import RoutingStatus, SystemPresence, normalize_system_presence
from controller.core.timestamps import parse_iso

log = logging.getLogger(__name__)

Json = Mapping[str, Any]


def parse_time(text: str | None) -> datetime | None:
    """ISO-8601 with Z or an offset -> aware UTC datetime; None for a missing value."""
    if not text:
        return None
    return _parse_time(text)


@lru_cache(maxsize=8192)
def _parse_time(text: str) -> datetime:
    """Cached: schedules repeat the same instants thousands of times (one shared object each)."""
    return parse_iso(text)


@lru_cache(maxsize=8192)
def _instant(value: datetime) -> datetime:
    """One shared object per computed instant (an activity's end), as `_parse_time` does."""
    return value


def _id(value: object) -> str:
    """An id as one shared string: the same user, definition and code ids recur in the directory,
    every read, every schedule and the caches (interned, 50,000 agents keep one copy each)."""
    return sys.intern(str(value))


def parse_routing_status(text: str | None) -> RoutingStatus:
    """Unknown or missing values (adherence also sends OFFLINE and __EMPTY__) read as OFF_QUEUE."""
    try:
        return RoutingStatus(str(text).upper())
    except ValueError:
        return RoutingStatus.OFF_QUEUE


# ---- presence ---------------------------------------------------------------------------------


def parse_presence_definition(d: Json) -> PresenceDefinition:
    system = normalize_system_presence(str(d["systemPresence"]))
    is_system = str(d.get("type", "")).lower() == "system"
    labels = d.get("languageLabels") or {}
    label = system.label if is_system else str(labels.get("en_US") or d.get("name") or system.label)
    return PresenceDefinition(
        id=str(d["id"]),
        system_presence=system,
        label=label,
        is_system=is_system,
        deactivated=bool(d.get("deactivated", False)),
    )


@dataclass(frozen=True, slots=True)
class UserPresence:
    """One user's Genesys Cloud (PURECLOUD source) presence."""

    user_id: str
    presence_id: str
    system_presence: SystemPresence
    message: str = ""
    modified: datetime | None = None
    correlation_id: str = ""  # inin-correlation-id of the write that returned it (audit); "" on reads


def parse_user_presence(d: Json, user_id: str | None = None) -> UserPresence:
    definition = d.get("presenceDefinition") or {}
    return UserPresence(
        user_id=_id(user_id or d.get("userId") or d.get("id") or ""),
        presence_id=_id(definition.get("id") or ""),
        system_presence=normalize_system_presence(str(definition.get("systemPresence") or "Offline")),
        message=str(d.get("message") or d.get("presenceMessage") or ""),
        modified=parse_time(d.get("modifiedDate")),
    )


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """One entry of a bulk presence write."""

    user_id: str
    definition_id: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class BulkWrite:
    """What bulk presence writes answered. `echoes`: the answer entry matched to each user (by
    `userId`, else by position; docs/genesys-api.md#bulk-presence), users whose entry could not be
    matched are absent and must be confirmed by reading back. `correlation_ids`: every user sent ->
    its request's id."""

    echoes: dict[str, UserPresence]
    correlation_ids: dict[str, str]


def match_bulk_answer(user_ids: Sequence[str], answer: Sequence[Any]) -> dict[str, Json]:
    """The answer entry of each user of a bulk presence write (list[UserPresence],
    docs/genesys-api.md#bulk-presence).

    `UserPresence.id` is "the globally unique identifier for the object", not documented as the
    user id, so it is never used. Entries are matched by `userId` when every entry has one, else
    by position when the answer has one entry per request entry (it keeps the request's order);
    otherwise only entries naming their `userId` are matched, and the rest must be confirmed by
    reading back. Unrequested user ids are ignored."""
    entries = [e for e in answer if isinstance(e, Mapping)]
    wanted = set(user_ids)
    named = {str(e["userId"]): e for e in entries if e.get("userId") and str(e["userId"]) in wanted}
    if entries and all(e.get("userId") for e in entries):
        return named
    if len(entries) == len(answer) == len(user_ids):
        return dict(zip(user_ids, entries, strict=True))
    return named


@dataclass(frozen=True, slots=True)
class RoutingState:
    user_id: str
    status: RoutingStatus
    start_time: datetime | None = None


def parse_routing_state(d: Json, user_id: str | None = None) -> RoutingState:
    return RoutingState(
        user_id=str(user_id or d.get("userId") or ""),
        status=parse_routing_status(d.get("status")),
        start_time=parse_time(d.get("startTime")),
    )


def observed_from(d: Json) -> ObservedAgent:
    """An agent's presence, routing status and Out of Office from any object carrying them under
    `presence`, `routingStatus` and `outOfOffice`: a `UserActivity` (POST
    /workforcemanagement/users/activity, the v2.users.{id}.activity event; `{active,
    modifiedDate}`) or a user of GET /api/v2/users?expand=presence,routingStatus,outOfOffice (an
    `OutOfOffice{active, indefinite, startDate, endDate, ...}`). Only `active` decides."""
    presence = parse_user_presence(d.get("presence") or {}, str(d["id"]))
    routing = parse_routing_state(d.get("routingStatus") or {}, str(d["id"]))
    out_of_office = d.get("outOfOffice") or {}
    return ObservedAgent(
        user_id=presence.user_id,
        presence_id=presence.presence_id,
        system_presence=presence.system_presence,
        routing_status=routing.status,
        presence_modified=presence.modified,
        message=presence.message,
        out_of_office=out_of_office.get("active") is True,
    )


# ---- users ------------------------------------------------------------------------------------


def parse_agent(d: Json, management_unit_id: str | None = None) -> Agent:
    groups = frozenset(_id(g["id"]) for g in d.get("groups") or [] if isinstance(g, Mapping) and g.get("id"))
    return Agent(
        id=_id(d["id"]),
        name=str(d.get("name") or ""),
        email=str(d.get("email") or ""),
        groups=groups,
        management_unit_id=management_unit_id,
    )


# ---- WFM --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    member_count: int = 0


@dataclass(frozen=True, slots=True)
class AgentUnits:
    """GET /workforcemanagement/agents/{agentId}/managementunit."""

    user_id: str
    management_unit_id: str
    business_unit_id: str


@dataclass(frozen=True, slots=True)
class BusinessUnit:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ManagementUnit:
    id: str
    name: str
    business_unit_id: str


def parse_activity_code(d: Json) -> ActivityCode:
    return ActivityCode(
        id=str(d["id"]),
        name=str(d.get("name") or ""),
        category=ActivityCategory(str(d["category"])),
        secondary_presence_ids=tuple(str(p["id"]) for p in d.get("secondaryPresences") or []),
    )


def _activity(d: Json) -> ScheduledActivity:
    start = parse_time(d["startDate"])
    assert start is not None
    return ScheduledActivity(
        start=start,
        end=_instant(start + timedelta(minutes=int(d.get("lengthMinutes") or 0))),
        activity_code_id=_id(d.get("activityCodeId") or ""),
        description=str(d.get("description") or ""),
    )


def _shift(d: Json) -> Shift:
    start = parse_time(d["startDate"])
    assert start is not None
    activities = tuple(sorted((_activity(a) for a in d.get("activities") or []), key=lambda a: a.start))
    return Shift(
        start=start,
        end=_instant(start + timedelta(minutes=int(d.get("lengthMinutes") or 0))),
        activities=activities,
    )


def _time_off(d: Json, zone: ZoneInfo) -> TimeOffDay:
    """A full-day marker covers its businessUnitDate from local midnight to the next local midnight
    in the BU zone (DST days are 23 or 25 h long). `lengthMinutes` is the paid length, not the span;
    `startOffsetMinutes`/`endOffsetMinutes`, when sent, narrow the span (wall-clock minutes)."""
    day = date.fromisoformat(str(d["businessUnitDate"]))
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    start = midnight
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    if d.get("startOffsetMinutes") is not None:
        start = midnight + timedelta(minutes=int(d["startOffsetMinutes"]))
    if d.get("endOffsetMinutes") is not None:
        end = midnight + timedelta(minutes=int(d["endOffsetMinutes"]))
    return TimeOffDay(
        business_unit_date=day,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        activity_code_id=str(d.get("activityCodeId") or ""),
        description=str(d.get("description") or ""),
    )


def parse_schedule_result(result: Json) -> dict[str, AgentSchedule]:
    """BuAgentSchedulesSearchResponse -> schedule per user id."""
    zone = ZoneInfo(str(result.get("businessUnitTimeZone") or "UTC"))
    out: dict[str, AgentSchedule] = {}
    for entry in result.get("agentSchedules") or []:
        user_id = _id(entry["user"]["id"])
        shifts = tuple(sorted((_shift(s) for s in entry.get("shifts") or []), key=lambda s: s.start))
        time_off = tuple(
            sorted(
                (_time_off(m, zone) for m in entry.get("fullDayTimeOffMarkers") or [] if not m.get("delete")),
                key=lambda t: t.start,
            )
        )
        out[user_id] = AgentSchedule(user_id=user_id, shifts=shifts, time_off=time_off)
    return out


@dataclass(frozen=True, slots=True)
class AdherenceRecord:
    """One UserScheduleAdherence (real-time adherence)."""

    user_id: str
    adherence_state: str  # InAdherence|OutOfAdherence|Unscheduled|Unknown|Ignored|Explained
    impact: str
    scheduled_activity_category: str
    scheduled_activity_code_id: str
    actual_activity_category: str
    system_presence: SystemPresence | None
    routing_status: RoutingStatus
    secondary_presence_id: str
    time_of_adherence_change: datetime | None
    management_unit_id: str = ""


def parse_adherence(d: Json) -> AdherenceRecord:
    sp = d.get("systemPresence")
    return AdherenceRecord(
        user_id=str((d.get("user") or {}).get("id") or d.get("id") or ""),
        adherence_state=str(d.get("adherenceState") or "Unknown"),
        impact=str(d.get("impact") or "Unknown"),
        scheduled_activity_category=str(d.get("scheduledActivityCategory") or ""),
        scheduled_activity_code_id=str((d.get("scheduledActivityCode") or {}).get("id") or ""),
        actual_activity_category=str(d.get("actualActivityCategory") or ""),
        system_presence=normalize_system_presence(str(sp)) if sp else None,
        routing_status=parse_routing_status(d.get("routingStatus")),
        secondary_presence_id=str(d.get("organizationSecondaryPresenceId") or ""),
        time_of_adherence_change=parse_time(d.get("timeOfAdherenceChange")),
        management_unit_id=str((d.get("managementUnit") or {}).get("id") or ""),
    )


@dataclass(frozen=True, slots=True)
class HistoricalAdherence:
    """One HistoricalAdherenceQueryResult row (raw `exceptions` kept for the reporting layer)."""

    user_id: str
    management_unit_id: str
    start: datetime | None
    end: datetime | None
    adherence_percentage: float | None
    conformance_percentage: float | None
    impact: str
    exceptions: tuple[Mapping[str, Any], ...] = ()


def parse_historical_adherence(wrapper: Json) -> list[HistoricalAdherence]:
    rows = []
    for d in wrapper.get("data") or []:
        rows.append(
            HistoricalAdherence(
                user_id=str(d.get("userId") or ""),
                management_unit_id=str(d.get("managementUnitId") or ""),
                start=parse_time(d.get("startDate")),
                end=parse_time(d.get("endDate")),
                adherence_percentage=_float_or_none(d.get("adherencePercentage")),
                conformance_percentage=_float_or_none(d.get("conformancePercentage")),
                impact=str(d.get("impact") or "Unknown"),
                exceptions=tuple(d.get("exceptionInfo") or ()),
            )
        )
    return rows


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


# ---- notifications ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    connect_uri: str
    expires: datetime | None


def parse_channel(d: Json) -> Channel:
    return Channel(id=str(d["id"]), connect_uri=str(d["connectUri"]), expires=parse_time(d.get("expires")))


@dataclass(frozen=True, slots=True)
class ChannelTopic:
    id: str
    state: str = "Permitted"  # Permitted|Rejected
    rejection_reason: str = ""
    missing_permissions: tuple[str, ...] = ()


def parse_channel_topics(listing: Json | Sequence[Json] | None) -> list[ChannelTopic]:
    entities = listing.get("entities") if isinstance(listing, Mapping) else listing
    return [
        ChannelTopic(
            id=str(t["id"]),
            state=str(t.get("state") or "Permitted"),
            rejection_reason=str(t.get("rejectionReason") or ""),
            missing_permissions=tuple(str(p) for p in t.get("missingPermissions") or ()),
        )
        for t in entities or []
    ]


# ---- process automation -----------------------------------------------------------------------


@dataclass(frozen=True)
class TriggerSpec:
    """The body of CreateTriggerRequest; `version` is added on update
    (docs/genesys-api.md#process-automation-triggers)."""

    name: str
    topic_name: str
    workflow_id: str
    enabled: bool = True
    match_criteria: tuple[Mapping[str, Any], ...] = ()
    event_ttl_seconds: int | None = None
    delay_by_seconds: int | None = None
    description: str = ""
    data_format: str = "Json"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "topicName": self.topic_name,
            "enabled": self.enabled,
            "target": {
                "type": "Workflow",
                "id": self.workflow_id,
                "workflowTargetSettings": {"dataFormat": self.data_format},
            },
        }
        if self.match_criteria:
            body["matchCriteria"] = [dict(c) for c in self.match_criteria]
        if self.event_ttl_seconds is not None:
            body["eventTTLSeconds"] = self.event_ttl_seconds
        if self.delay_by_seconds is not None:
            body["delayBySeconds"] = self.delay_by_seconds
        if self.description:
            body["description"] = self.description
        return body


@dataclass(frozen=True)
class Trigger:
    id: str
    version: int
    spec: TriggerSpec
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)


def parse_trigger(d: Json) -> Trigger:
    target = d.get("target") or {}
    spec = TriggerSpec(
        name=str(d.get("name") or ""),
        topic_name=str(d.get("topicName") or ""),
        workflow_id=str(target.get("id") or ""),
        enabled=bool(d.get("enabled", False)),
        match_criteria=tuple(d.get("matchCriteria") or ()),
        event_ttl_seconds=d.get("eventTTLSeconds"),
        delay_by_seconds=d.get("delayBySeconds"),
        description=str(d.get("description") or ""),
        data_format=str((target.get("workflowTargetSettings") or {}).get("dataFormat") or "Json"),
    )
    return Trigger(id=str(d["id"]), version=int(d.get("version") or 1), spec=spec, raw=dict(d))
