"""The windows level of the timeline: weekly windows, or a dated exception's windows that day.

A window belongs to the local day it starts (a 22:00-06:00 window spills into the next morning);
a date with a dated exception (without a presence) uses the exception's windows instead of the
weekly ones, and an exception with no windows means no window starts that day. Overlaps: the
first declared window wins. Wall times map to UTC by controller.core.timeline.localtime's DST rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from controller.core.timeline.levels import Level, Reason, ReasonKind, passes, scan
from controller.core.timeline.localtime import day_start, local_date, localize
from controller.model.types import NOWHERE, DatedException, PresencePolicy, Weekday, WeeklyWindow

_DAY = timedelta(days=1)


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


@lru_cache(maxsize=4096)
def _spans_around(
    windows: tuple[WeeklyWindow, ...], exceptions: tuple[DatedException, ...], tz: str, today: date
) -> tuple[tuple[datetime, datetime, _WindowInstance], ...]:
    """Windows starting two days before to one day after `today` cover every span that can
    contain t or have an edge in [start of yesterday, start of the day after tomorrow). One cache
    lookup per call (hashing the policy's windows is most of the cost of a hit)."""
    return tuple(s for k in (-2, -1, 0, 1) for s in _window_spans(windows, exceptions, tz, today + k * _DAY))


def window_level(policy: PresencePolicy, t: datetime) -> Level:
    if not policy.windows and not any(e.windows for e in policy.exceptions):
        return passes(None, None)
    tz = policy.timezone
    today = local_date(t, tz)
    spans = _spans_around(policy.windows, policy.exceptions, tz, today)
    active = [s for s in spans if s[0] <= t < s[1]]
    found = scan(spans, t)
    lo_floor, hi_cap = day_start(today - _DAY, tz), day_start(today + 2 * _DAY, tz)
    lo = lo_floor if found.lo is None or found.lo < lo_floor else found.lo
    hi = hi_cap if found.hi is None or found.hi > hi_cap else found.hi
    if not active:
        return passes(lo, hi)
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
    return Level(True, w.presence, reason, lo, hi)
