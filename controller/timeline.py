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
None means unbounded. Every instant is UTC-aware; local times follow controller.localtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Generic, TypeVar

from controller.domain import ActivityCode, Agent, AgentSchedule, PresenceCatalog
from controller.localtime import day_start, hhmm, local_date, localize, zone
from controller.model.types import (
    DEFAULT_CATEGORY_PRESENCE,
    NOWHERE,
    DatedException,
    PresencePolicy,
    PresenceTarget,
    ScheduleFollowing,
    SourceLocation,
    Weekday,
    WeeklyWindow,
)

_P = TypeVar("_P")
_DAY = timedelta(days=1)


class ReasonKind(StrEnum):
    OVERRIDE = "override"
    EXCEPTION = "exception"
    SCHEDULE_ACTIVITY = "schedule-activity"
    TIME_OFF = "time-off"
    WINDOW = "window"
    OFF_SHIFT = "off-shift"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    policy: str
    detail: str  # e.g. "WFM activity 'Lunch' 12:00-12:30 (code 8f..)", "window Mon-Fri 09:00-17:00"
    location: SourceLocation = NOWHERE

    def __str__(self) -> str:
        where = "" if self.location == NOWHERE else f" ({self.location})"
        return f"{self.policy}: {self.detail}{where}"


@dataclass(frozen=True, slots=True)
class Decision:
    target: PresenceTarget | None  # None: no opinion, leave the agent alone
    reason: Reason
    valid_from: datetime | None
    valid_until: datetime | None

    def holds_at(self, t: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= t) and (
            self.valid_until is None or t < self.valid_until
        )


def target_key(target: PresenceTarget | None) -> str | None:
    """What "the same desired presence" means: the same definition id (the name if unresolved)."""
    if target is None:
        return None
    return target.definition_id if target.definition_id is not None else f"name:{target.name}"


# --- interval scanning -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scan(Generic[_P]):
    hit: _P | None  # first active payload in iteration order
    lo: datetime | None  # latest edge <= t (None: none known)
    hi: datetime | None  # earliest edge > t


def _scan(spans: Iterable[tuple[datetime | None, datetime, _P]], t: datetime) -> _Scan[_P]:
    """First span active at t, and the edges around t: between them no span starts or ends."""
    hit: _P | None = None
    lo: datetime | None = None
    hi: datetime | None = None
    for start, end, payload in spans:
        for edge in (start, end):
            if edge is None:
                continue
            if edge <= t:
                lo = edge if lo is None or edge > lo else lo
            else:
                hi = edge if hi is None or edge < hi else hi
        if hit is None and (start is None or start <= t) and t < end:
            hit = payload
    return _Scan(hit, lo, hi)


@dataclass(frozen=True, slots=True)
class _Level:
    decided: bool
    target: PresenceTarget | None
    reason: Reason | None
    lo: datetime | None
    hi: datetime | None


def _pass(lo: datetime | None, hi: datetime | None) -> _Level:
    return _Level(False, None, None, lo, hi)


# --- level 1: overrides ----------------------------------------------------------------------


def _override_level(policy: PresencePolicy, agent: Agent, t: datetime) -> _Level:
    mine = [o for o in policy.overrides if o.applies_to(agent)]
    scan = _scan(((o.start, o.until, o) for o in mine), t)
    if scan.hit is None:
        return _pass(scan.lo, scan.hi)
    o = scan.hit
    until = f"{o.until.astimezone(zone(policy.timezone)):%Y-%m-%d %H:%M}"
    detail = f"override until {until}" + (f": {o.reason}" if o.reason else "")
    reason = Reason(ReasonKind.OVERRIDE, policy.name, detail, o.location)
    return _Level(True, o.presence, reason, scan.lo, scan.hi)


# --- level 2: dated exceptions with a presence -----------------------------------------------


def _exception_level(policy: PresencePolicy, t: datetime) -> _Level:
    tz = policy.timezone
    today = local_date(t, tz)
    days = [e for e in policy.exceptions if e.presence is not None]
    if not days:
        return _pass(None, None)
    for e in days:
        if e.day == today:
            detail = f"exception {e.day.isoformat()}" + (f" '{e.description}'" if e.description else "")
            reason = Reason(ReasonKind.EXCEPTION, policy.name, detail, e.location)
            return _Level(True, e.presence, reason, day_start(today, tz), day_start(today + _DAY, tz))
    before = [e.day for e in days if e.day < today]
    after = [e.day for e in days if e.day > today]
    lo = day_start(max(before) + _DAY, tz) if before else None
    hi = day_start(min(after), tz) if after else None
    return _pass(lo, hi)


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
) -> _Level:
    scan = _scan(((a.start, a.end, a) for a in schedule.activities()), t)
    if scan.hit is None:
        return _pass(scan.lo, scan.hi)
    a = scan.hit
    code = codes.get(a.activity_code_id)
    target, how = _activity_target(follow, a.activity_code_id, code, catalog)
    tz = policy.timezone
    label = code.name if code is not None else a.activity_code_id
    detail = (
        f"WFM activity '{label}' {hhmm(a.start, tz)}-{hhmm(a.end, tz)} (code {a.activity_code_id}; {how})"
    )
    where = target.location if target is not None and target.location != NOWHERE else policy.location
    return _Level(
        True, target, Reason(ReasonKind.SCHEDULE_ACTIVITY, policy.name, detail, where), scan.lo, scan.hi
    )


def _time_off_level(
    policy: PresencePolicy, follow: ScheduleFollowing, schedule: AgentSchedule, t: datetime
) -> _Level:
    scan = _scan(((d.start, d.end, d) for d in schedule.time_off), t)
    if scan.hit is None:
        return _pass(scan.lo, scan.hi)
    day = scan.hit
    detail = f"time off {day.business_unit_date.isoformat()}" + (
        f" '{day.description}'" if day.description else ""
    )
    if follow.time_off is None:
        detail += "; policy sets no time-off presence, leaving the agent alone"
    where = follow.time_off.location if follow.time_off is not None else policy.location
    reason = Reason(ReasonKind.TIME_OFF, policy.name, detail, where)
    return _Level(True, follow.time_off, reason, scan.lo, scan.hi)


def _off_shift_level(
    policy: PresencePolicy, follow: ScheduleFollowing, schedule: AgentSchedule, t: datetime
) -> _Level:
    scan = _scan(((s.start, s.end, s) for s in schedule.shifts), t)
    if scan.hit is not None or follow.off_shift is None:
        return _pass(scan.lo, scan.hi)
    reason = Reason(ReasonKind.OFF_SHIFT, policy.name, "outside scheduled shifts", follow.off_shift.location)
    return _Level(True, follow.off_shift, reason, scan.lo, scan.hi)


# --- level 5: windows ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _WindowInstance:
    order: int  # declaration order inside its source, for deterministic overlap resolution
    window: WeeklyWindow
    exception: DatedException | None


def _days_text(days: frozenset[Weekday]) -> str:
    """Mon-Fri, Sat-Sun, Mon,Wed,Fri: consecutive ISO days collapsed into ranges."""
    nums = sorted(d.iso for d in days)
    names = list(Weekday)
    runs: list[list[int]] = []
    for n in nums:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ",".join(
        names[r[0] - 1].value if len(r) == 1 else f"{names[r[0] - 1].value}-{names[r[-1] - 1].value}"
        for r in runs
    )


@lru_cache(maxsize=16384)
def _window_spans(
    windows: tuple[WeeklyWindow, ...], exceptions: tuple[DatedException, ...], tz: str, day: date
) -> tuple[tuple[datetime, datetime, _WindowInstance], ...]:
    """The windows starting on local `day`, placed on the UTC axis (empty spans dropped)."""
    exception = next((e for e in exceptions if e.day == day), None)
    if exception is not None:
        chosen = exception.windows if exception.presence is None else ()
    else:
        weekday = list(Weekday)[day.isoweekday() - 1]
        chosen = tuple(w for w in windows if weekday in w.days)
    spans = []
    for order, w in enumerate(chosen):
        start = localize(day, w.start, tz)
        end = localize(day + _DAY if w.crosses_midnight else day, w.end, tz)
        if start < end:
            spans.append((start, end, _WindowInstance(order, w, exception)))
    return tuple(spans)


def _window_level(policy: PresencePolicy, t: datetime) -> _Level:
    if not policy.windows and not any(e.windows for e in policy.exceptions):
        return _pass(None, None)
    tz = policy.timezone
    today = local_date(t, tz)
    # Windows starting two days before to one day after cover every span that can contain t
    # or have an edge in [start of yesterday, start of the day after tomorrow).
    spans = [
        s
        for k in (-2, -1, 0, 1)
        for s in _window_spans(policy.windows, policy.exceptions, tz, today + k * _DAY)
    ]
    active = [s for s in spans if s[0] <= t < s[1]]
    scan = _scan(spans, t)
    lo_floor, hi_cap = day_start(today - _DAY, tz), day_start(today + 2 * _DAY, tz)
    lo = lo_floor if scan.lo is None or scan.lo < lo_floor else scan.lo
    hi = hi_cap if scan.hi is None or scan.hi > hi_cap else scan.hi
    if not active:
        return _pass(lo, hi)
    inst = min(active, key=lambda s: (s[2].order, s[0]))[2]
    w = inst.window
    times = f"{w.start:%H:%M}-{w.end:%H:%M}"
    if inst.exception is not None:
        e = inst.exception
        label = f" '{e.description}'" if e.description else ""
        detail = f"exception {e.day.isoformat()}{label} window {times}"
        where = w.location if w.location != NOWHERE else e.location
        reason = Reason(ReasonKind.EXCEPTION, policy.name, detail, where)
    else:
        detail = f"window {_days_text(w.days)} {times}"
        reason = Reason(ReasonKind.WINDOW, policy.name, detail, w.location)
    return _Level(True, w.presence, reason, lo, hi)


# --- composition ------------------------------------------------------------------------------


def _levels(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    t: datetime,
) -> Iterator[_Level]:
    """Levels in precedence order, lazily: evaluation stops at the first that decides."""
    follow = policy.schedule if schedule is not None else None
    yield _override_level(policy, agent, t)
    yield _exception_level(policy, t)
    if follow is not None and schedule is not None:
        yield _activity_level(policy, follow, schedule, codes, catalog, t)
        yield _time_off_level(policy, follow, schedule, t)
    yield _window_level(policy, t)
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
