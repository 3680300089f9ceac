"""Wall-clock time in a policy's zone → instants on the UTC axis, with one DST rule everywhere.

Rule (pure, zoneinfo-based):
- a nonexistent local time (spring forward gap) maps to the end of the gap: a window written
  to start at 02:30 on America/New_York 2026-03-08 starts at 03:00 EDT (07:00 UTC);
- an ambiguous local time (fall back) maps to its first occurrence (fold=0): 01:30 on
  America/New_York 2026-11-01 is 01:30 EDT (05:30 UTC).
This keeps the mapping monotonic in wall time, so windows never run backwards.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_SECOND = timedelta(seconds=1)


@lru_cache(maxsize=256)
def zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


@lru_cache(maxsize=65536)
def localize(day: date, wall: time, tz_key: str) -> datetime:
    """The UTC instant of `wall` on `day` in zone `tz_key` (DST rule in the module docstring)."""
    tz = zone(tz_key)
    local = datetime.combine(day, wall, tzinfo=tz)  # fold=0: first occurrence when ambiguous
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return utc
    # In a gap: the two offsets give two instants around the transition; find the transition,
    # whose wall-clock reading is the end of the gap.
    other = local.replace(fold=1).astimezone(UTC)
    before, after = min(utc, other), max(utc, other)
    after_offset = after.astimezone(tz).utcoffset()
    while after - before > _SECOND:
        mid = before + timedelta(seconds=(after - before) // _SECOND // 2)
        if mid.astimezone(tz).utcoffset() == after_offset:
            after = mid
        else:
            before = mid
    return after


def day_start(day: date, tz_key: str) -> datetime:
    """The UTC instant the local `day` begins."""
    return localize(day, time(0), tz_key)


def local_date(t: datetime, tz_key: str) -> date:
    return t.astimezone(zone(tz_key)).date()


def hhmm(t: datetime, tz_key: str) -> str:
    """Local wall-clock reading of an instant, for reasons people read."""
    return t.astimezone(zone(tz_key)).strftime("%H:%M")
