"""Desired presence of one agent at an instant, with the reason and how long it holds.

Precedence, highest first (each level either decides, possibly "leave alone", or passes):
  1. an active override for the agent (first declared wins when several are active);
  2. a dated exception with a `presence`, for the local date of t in the policy's zone;
  3. the scheduled WFM activity at t (schedule-following policies with a known schedule);
     an activity the policy cannot map to a presence (Unavailable, unknown code) leaves the
     agent alone rather than falling through to windows;
  4. full-day time off; `time_off: None` leaves the agent alone (never force someone on leave);
  5. windows: the weekly windows starting on that local date, or, when the date has a dated
     exception without a presence, the exception's windows instead; a window belongs to the
     day it starts, so a 22:00-06:00 window spills into the next morning;
  6. `off_shift`, when following a known schedule and t is outside every shift;
  7. no rule: no opinion.
A schedule of None means "not known" (not fetched): levels 3, 4 and 6 are skipped; an empty
AgentSchedule means "known to have nothing" and makes off_shift apply.

`Decision.valid_from/valid_until` bound an interval around t on which the decision is constant:
exact in common cases, sometimes split where an unrelated rule starts or ends (never too wide).
None means unbounded. Every instant is UTC-aware; local times follow controller.core.timeline.localtime.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from controller.core.domain import ActivityCode, Agent, AgentSchedule, PresenceCatalog
from controller.core.timeline.levels import (
    Decision,
    Level,
    Reason,
    ReasonKind,
    passes,
    scan,
    scan_activities,
    target_key,
)
from controller.core.timeline.localtime import day_start, hhmm, local_date, zone
from controller.core.timeline.windows import window_level
from controller.model.types import (
    DEFAULT_CATEGORY_PRESENCE,
    NOWHERE,
    PresencePolicy,
    PresenceTarget,
    ScheduleFollowing,
)

__all__ = ["Decision", "Reason", "ReasonKind", "desired_at", "target_key"]

_DAY = timedelta(days=1)


# --- level 1: overrides ----------------------------------------------------------------------


def _override_level(policy: PresencePolicy, agent: Agent, t: datetime) -> Level:
    mine = [o for o in policy.overrides if o.applies_to(agent)]
    found = scan(((o.start, o.until, o) for o in mine), t)
    if found.hit is None:
        return passes(found.lo, found.hi)
    o = found.hit
    until = f"{o.until.astimezone(zone(policy.timezone)):%Y-%m-%d %H:%M}"
    detail = f"override until {until}" + (f": {o.reason}" if o.reason else "")
    reason = Reason(ReasonKind.OVERRIDE, policy.name, detail, o.location)
    return Level(True, o.presence, reason, found.lo, found.hi)


# --- level 2: dated exceptions with a presence -----------------------------------------------


def _exception_level(policy: PresencePolicy, t: datetime) -> Level:
    tz = policy.timezone
    today = local_date(t, tz)
    days = [e for e in policy.exceptions if e.presence is not None]
    if not days:
        return passes(None, None)
    for e in days:
        if e.day == today:
            detail = f"exception {e.day.isoformat()}" + (f" '{e.description}'" if e.description else "")
            reason = Reason(ReasonKind.EXCEPTION, policy.name, detail, e.location)
            return Level(True, e.presence, reason, day_start(today, tz), day_start(today + _DAY, tz))
    before = [e.day for e in days if e.day < today]
    after = [e.day for e in days if e.day > today]
    lo = day_start(max(before) + _DAY, tz) if before else None
    hi = day_start(min(after), tz) if after else None
    return passes(lo, hi)


# --- levels 3, 4, 6: the WFM schedule --------------------------------------------------------


def _activity_target(
    follow: ScheduleFollowing, code_id: str, code: ActivityCode | None, catalog: PresenceCatalog
) -> tuple[PresenceTarget | None, str]:
    """The activity's presence by the ScheduleFollowing precedence, and how it was chosen."""
    if code_id in follow.activity_codes:
        return follow.activity_codes[code_id], "mapped by code id"
    if code is None:
        return None, "unknown activity code; leaving the agent alone"
    by_name = {k.casefold(): v for k, v in follow.activity_codes.items()}
    if code.name.casefold() in by_name:
        return by_name[code.name.casefold()], "mapped by code name"
    if follow.use_secondary_presence:
        for sid in code.secondary_presence_ids:
            d = catalog.by_id(sid)
            if d is not None and not d.deactivated:
                return PresenceTarget(d.label, NOWHERE, d.id), "code's secondary presence"
    if code.category in follow.categories:
        return follow.categories[code.category], f"mapped by category {code.category.value}"
    name = DEFAULT_CATEGORY_PRESENCE.get(code.category)
    if name is None:
        return None, f"category {code.category.value} has no presence; leaving the agent alone"
    d = catalog.resolve(name)
    if d is None:
        return None, f"no presence '{name}' in the org's catalog; leaving the agent alone"
    return PresenceTarget(name, NOWHERE, d.id), f"default for category {code.category.value}"


def _activity_level(
    policy: PresencePolicy,
    follow: ScheduleFollowing,
    schedule: AgentSchedule,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    t: datetime,
) -> Level:
    found = scan_activities(schedule, t)
    if found.hit is None:
        return passes(found.lo, found.hi)
    a = found.hit
    code = codes.get(a.activity_code_id)
    target, how = _activity_target(follow, a.activity_code_id, code, catalog)
    tz = policy.timezone
    label = code.name if code is not None else a.activity_code_id
    detail = (
        f"WFM activity '{label}' {hhmm(a.start, tz)}-{hhmm(a.end, tz)} (code {a.activity_code_id}; {how})"
    )
    where = target.location if target is not None and target.location != NOWHERE else policy.location
    return Level(
        True, target, Reason(ReasonKind.SCHEDULE_ACTIVITY, policy.name, detail, where), found.lo, found.hi
    )


def _time_off_level(
    policy: PresencePolicy, follow: ScheduleFollowing, schedule: AgentSchedule, t: datetime
) -> Level:
    found = scan(((d.start, d.end, d) for d in schedule.time_off), t)
    if found.hit is None:
        return passes(found.lo, found.hi)
    day = found.hit
    detail = f"time off {day.business_unit_date.isoformat()}" + (
        f" '{day.description}'" if day.description else ""
    )
    if follow.time_off is None:
        detail += "; policy sets no time-off presence, leaving the agent alone"
    where = follow.time_off.location if follow.time_off is not None else policy.location
    reason = Reason(ReasonKind.TIME_OFF, policy.name, detail, where)
    return Level(True, follow.time_off, reason, found.lo, found.hi)


def _off_shift_level(
    policy: PresencePolicy, follow: ScheduleFollowing, schedule: AgentSchedule, t: datetime
) -> Level:
    found = scan(((s.start, s.end, s) for s in schedule.shifts), t)
    if found.hit is not None or follow.off_shift is None:
        return passes(found.lo, found.hi)
    reason = Reason(ReasonKind.OFF_SHIFT, policy.name, "outside scheduled shifts", follow.off_shift.location)
    return Level(True, follow.off_shift, reason, found.lo, found.hi)


# --- composition ------------------------------------------------------------------------------


def _levels(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    t: datetime,
) -> Iterator[Level]:
    """Levels in precedence order, lazily: evaluation stops at the first that decides."""
    follow = policy.schedule if schedule is not None else None
    yield _override_level(policy, agent, t)
    yield _exception_level(policy, t)
    if follow is not None and schedule is not None:
        yield _activity_level(policy, follow, schedule, codes, catalog, t)
        yield _time_off_level(policy, follow, schedule, t)
    yield window_level(policy, t)
    if follow is not None and schedule is not None:
        yield _off_shift_level(policy, follow, schedule, t)


def desired_at(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    t: datetime,
) -> Decision:
    """The presence `policy` wants for `agent` at instant `t` (aware), why, and for how long."""
    if t.tzinfo is None:
        raise ValueError(f"desired_at needs a timezone-aware instant, got naive {t.isoformat()}")
    lo: datetime | None = None
    hi: datetime | None = None
    for level in _levels(policy, agent, schedule, codes, catalog, t):
        if level.lo is not None and (lo is None or level.lo > lo):
            lo = level.lo
        if level.hi is not None and (hi is None or level.hi < hi):
            hi = level.hi
        if level.decided:
            assert level.reason is not None
            return Decision(level.target, level.reason, lo, hi)
    return Decision(None, Reason(ReasonKind.NONE, policy.name, "no rule applies", policy.location), lo, hi)
