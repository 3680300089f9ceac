"""Overlap of weekly windows on the week's wall-clock circle (pure).

A window starting on day d at `start` lasts until `end` on the same day, or on the next day when
`end <= start` (crossing midnight; Sunday night runs into Monday). `from == to` is 24 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from itertools import combinations

from controller.model.types import Weekday, WeeklyWindow

DAY = 24 * 60
WEEK = 7 * DAY


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def length_minutes(window: WeeklyWindow) -> int:
    return (_minutes(window.end) - _minutes(window.start)) % DAY or DAY


_DAY_INDEX = {day: i for i, day in enumerate(Weekday)}  # Monday = 0 (Weekday.iso is slow in loops)


def week_intervals(window: WeeklyWindow) -> list[tuple[int, int]]:
    """(start minute of the week, length) for each day the window starts on; Monday 00:00 = 0."""
    start, length = _minutes(window.start), length_minutes(window)
    return [(_DAY_INDEX[day] * DAY + start, length) for day in window.days]


def _circular_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return (b[0] - a[0]) % WEEK < a[1] or (a[0] - b[0]) % WEEK < b[1]


def weekly_overlap(a: WeeklyWindow, b: WeeklyWindow) -> bool:
    return any(_circular_overlap(x, y) for x in week_intervals(a) for y in week_intervals(b))


def day_overlap(a: WeeklyWindow, b: WeeklyWindow) -> bool:
    """Overlap of two windows of one date (their days ignored; crossing midnight runs on)."""
    a0, b0 = _minutes(a.start), _minutes(b.start)
    return a0 < b0 + length_minutes(b) and b0 < a0 + length_minutes(a)


def overlapping_weekly_windows(
    windows: tuple[WeeklyWindow, ...],
) -> Iterator[tuple[WeeklyWindow, WeeklyWindow]]:
    spans = [week_intervals(w) for w in windows]
    for (i, a), (j, b) in combinations(enumerate(windows), 2):
        if any(_circular_overlap(x, y) for x in spans[i] for y in spans[j]):
            yield a, b


def overlapping_day_windows(windows: tuple[WeeklyWindow, ...]) -> Iterator[tuple[WeeklyWindow, WeeklyWindow]]:
    return ((a, b) for a, b in combinations(windows, 2) if day_overlap(a, b))


def describe(window: WeeklyWindow) -> str:
    """'Mon,Fri 22:00-06:00' in week order."""
    days = ",".join(d.value for d in sorted(window.days, key=_DAY_INDEX.__getitem__))
    return f"{days} {window.start:%H:%M}-{window.end:%H:%M}"
