"""Published schedules as the platform looks them up: the shift, activity or full-day time off
covering an instant, and the schedules a search returns. Pure: the caller passes the time."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from controller.emulator.org import (
    Org,
    OrgActivity,
    OrgActivityCode,
    OrgBusinessUnit,
    OrgShift,
    OrgTimeOff,
)


def code_of(org: Org, bu_id: str, code_id: str) -> OrgActivityCode:
    return org.index().activity_codes[(bu_id, code_id)]


def shift_end(shift: OrgShift) -> datetime:
    return shift.start + timedelta(minutes=shift.length_minutes)


def activity_end(activity: OrgActivity) -> datetime:
    return activity.start + timedelta(minutes=activity.length_minutes)


def on_shift(org: Org, agent_id: str, now: datetime) -> bool:
    return any(shift.start <= now < shift_end(shift) for shift in org.shifts.get(agent_id, ()))


def shift_at(org: Org, agent_id: str, t: datetime) -> OrgShift | None:
    """The agent's shift covering instant t (shifts of one agent never overlap)."""
    shifts = org.shifts.get(agent_id, [])
    i = bisect_right(shifts, t, key=lambda s: s.start)
    if i and t < shift_end(shifts[i - 1]):
        return shifts[i - 1]
    return None


def activity_at(org: Org, agent_id: str, t: datetime) -> tuple[OrgActivity, OrgActivityCode] | None:
    """The scheduled activity (and its code) at instant t; None off shift."""
    shift = shift_at(org, agent_id, t)
    units = org.business_unit_of(agent_id)
    if shift is None or units is None:
        return None
    for activity in shift.activities:
        if activity.start <= t < activity_end(activity):
            return activity, code_of(org, units[1].id, activity.activity_code_id)
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
            return marker, code_of(org, bu.id, marker.activity_code_id)
    return None


def scheduled_at(org: Org, agent_id: str, t: datetime) -> tuple[datetime, datetime, OrgActivityCode] | None:
    """What the agent is scheduled for at t: (from, until, code) of the activity or time off; None
    when unscheduled. A shift wins over a time-off marker of the same day."""
    found = activity_at(org, agent_id, t)
    if found is not None:
        activity, code = found
        return activity.start, activity_end(activity), code
    off = time_off_at(org, agent_id, t)
    if off is not None:
        units = org.business_unit_of(agent_id)
        assert units is not None  # time_off_at found one
        begin, end = time_off_span(units[1], off[0])
        return begin, end, off[1]
    return None


@dataclass(frozen=True, slots=True)
class AgentSchedule:
    """One agent's answer to a schedule search: shifts overlapping the range and full-day time
    off (with its code) whose local day overlaps it."""

    user_id: str
    shifts: list[OrgShift]
    time_off: list[tuple[OrgTimeOff, OrgActivityCode]]


def search(
    org: Org, bu_id: str, user_ids: list[str] | None, start: datetime, end: datetime
) -> list[AgentSchedule]:
    """The BU's agents (or the requested ones that belong to it), in order, with what of their
    schedules overlaps [start, end)."""
    idx = org.index()
    bu = idx.business_units[bu_id]
    if user_ids is None:
        mu_ids = {mu.id for mu in org.management_units if mu.business_unit_id == bu_id}
        candidates = [a.id for a in org.agents if a.management_unit_id in mu_ids]
    else:
        candidates = list(dict.fromkeys(user_ids))
    found: list[AgentSchedule] = []
    for user_id in candidates:
        units = org.business_unit_of(user_id)
        if units is None or units[1].id != bu_id:
            continue
        shifts = org.shifts.get(user_id, [])
        # Shifts are sorted and at most a day long: begin at the first that may still overlap.
        first = bisect_right(shifts, start - timedelta(days=2), key=lambda s: s.start)
        overlapping = []
        for shift in shifts[first:]:
            if shift.start >= end:
                break
            if shift_end(shift) > start:
                overlapping.append(shift)
        time_off = []
        for marker in idx.time_off.get(user_id, []):
            begin, until = time_off_span(bu, marker)
            if begin < end and until > start:
                time_off.append((marker, code_of(org, bu_id, marker.activity_code_id)))
        found.append(AgentSchedule(user_id, overlapping, time_off))
    return found
