"""Adherence rules (docs/genesys-api.md#activity-codes, #adherence; natural mapping, the MU
adherence settings are not emulated). Pure: the caller passes `now`, presences and histories.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.core.presence import RoutingStatus, SystemPresence
from controller.emulator.org import Org, OrgActivityCode
from controller.emulator.wfm.schedules import activity_end, code_of, scheduled_at, shift_end, time_off_span

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


@dataclass(frozen=True, slots=True)
class RealtimeAdherence:
    """One user's adherence at `now`; `code` None when unscheduled."""

    code: OrgActivityCode | None
    state: str  # InAdherence | OutOfAdherence | Unscheduled
    impact: str  # Positive | Negative | Neutral
    changed: datetime  # timeOfAdherenceChange


def realtime(
    org: Org,
    user_id: str,
    now: datetime,
    presence_definition_id: str,
    presence: SystemPresence,
    presence_modified: datetime,
) -> RealtimeAdherence:
    """timeOfAdherenceChange = the later of the presence change and the start of the contiguous
    scheduled time with the same verdict (an activity boundary can flip adherence by itself)."""
    current = scheduled_at(org, user_id, now)
    if current is None:
        verdict = "Positive" if presence is SystemPresence.ON_QUEUE else "Neutral"
        return RealtimeAdherence(None, "Unscheduled", verdict, presence_modified)
    code = current[2]
    ok = adheres(code, presence_definition_id, presence)
    since = _verdict_since(org, user_id, now, presence_definition_id, presence)
    changed = max(presence_modified, since) if since is not None else presence_modified
    return RealtimeAdherence(
        code, "InAdherence" if ok else "OutOfAdherence", impact(code, ok, presence), changed
    )


# --- historical adherence -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdherenceException:
    """A piece of scheduled time out of adherence."""

    start: datetime
    end: datetime
    code: OrgActivityCode
    presence_id: str
    system: SystemPresence
    routing: str
    impact: str


@dataclass(frozen=True, slots=True)
class UserAdherence:
    user_id: str
    adherence_percentage: float
    conformance_percentage: float
    impact: str
    exceptions: list[AdherenceException]


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
        if shift.start >= end or shift_end(shift) <= start:
            continue
        for activity in shift.activities:
            a, b = max(activity.start, start), min(activity_end(activity), end)
            if a < b:
                pieces.append((a, b, code_of(org, bu.id, activity.activity_code_id)))
    shift_spans = [(p[0], p[1]) for p in pieces]
    for marker in org.index().time_off.get(user_id, []):
        begin, until = time_off_span(bu, marker)
        code = code_of(org, bu.id, marker.activity_code_id)
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


def historical(
    org: Org,
    mu_id: str,
    user_ids: Sequence[str] | None,
    start: datetime,
    end: datetime,
    presence_history: Mapping[str, Sequence[tuple[datetime, str, str]]],
) -> list[UserAdherence]:
    """Per member of the MU (or the requested ones in it): adherence percentage = in-adherence
    scheduled time / scheduled time x 100 (100 with nothing scheduled); conformance percentage =
    On Queue time / scheduled OnQueueWork time x 100 (0 with no OnQueueWork scheduled); the
    out-of-adherence pieces. Computed exactly by interval intersection."""
    members = [a.id for a in org.agents if a.management_unit_id == mu_id]
    member_set = set(members)
    wanted = members if user_ids is None else [u for u in dict.fromkeys(user_ids) if u in member_set]
    results = []
    for user_id in wanted:
        scheduled = _scheduled_intervals(org, user_id, start, end)
        presence = _presence_segments(org, presence_history.get(user_id, ()), start, end)
        total = adhered = on_queue_scheduled = on_queue_actual = 0.0
        net_impact = 0.0
        exceptions: list[AdherenceException] = []
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
                exceptions.append(AdherenceException(a, b, code, pid, system, routing, effect))
        results.append(
            UserAdherence(
                user_id,
                round(100.0 * adhered / total, 2) if total else 100.0,
                round(100.0 * on_queue_actual / on_queue_scheduled, 2) if on_queue_scheduled else 0.0,
                "Positive" if net_impact > 0 else "Negative" if net_impact < 0 else "Neutral",
                exceptions,
            )
        )
    return results
