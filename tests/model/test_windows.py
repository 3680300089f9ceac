"""Window overlap agrees with a minute-by-minute reference on the week circle (property tests)."""

from __future__ import annotations

from datetime import time

from hypothesis import given
from hypothesis import strategies as st

from controller.model.types import PresenceTarget, Weekday, WeeklyWindow
from controller.model.window_overlap import DAY, WEEK, day_overlap, describe, length_minutes, weekly_overlap

times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 1, 15, 30, 59]))
windows = st.builds(
    WeeklyWindow,
    days=st.frozensets(st.sampled_from(list(Weekday)), min_size=1),
    start=times,
    end=times,
    presence=st.just(PresenceTarget("Available")),
)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _covered(window: WeeklyWindow) -> set[int]:
    start = _minutes(window.start)
    end = _minutes(window.end)
    length = (end - start) % DAY or DAY
    return {((d.iso - 1) * DAY + start + m) % WEEK for d in window.days for m in range(length)}


@given(windows, windows)
def test_weekly_overlap_matches_minute_sets(a: WeeklyWindow, b: WeeklyWindow) -> None:
    assert weekly_overlap(a, b) == bool(_covered(a) & _covered(b))
    assert weekly_overlap(a, b) == weekly_overlap(b, a)


@given(windows, windows)
def test_day_overlap_matches_minute_ranges(a: WeeklyWindow, b: WeeklyWindow) -> None:
    def span(w: WeeklyWindow) -> set[int]:
        return set(range(_minutes(w.start), _minutes(w.start) + length_minutes(w)))

    assert day_overlap(a, b) == bool(span(a) & span(b))


def test_crossing_midnight_and_touching_windows() -> None:
    def w(day: Weekday, start: str, end: str) -> WeeklyWindow:
        return WeeklyWindow(
            frozenset({day}), time.fromisoformat(start), time.fromisoformat(end), PresenceTarget("Busy")
        )

    night = w(Weekday.SAT, "22:00", "06:00")
    assert night.crosses_midnight and length_minutes(night) == 480
    assert weekly_overlap(night, w(Weekday.SUN, "05:59", "07:00"))
    assert not weekly_overlap(night, w(Weekday.SUN, "06:00", "07:00"))  # touching is not overlapping
    assert not weekly_overlap(w(Weekday.MON, "08:00", "12:00"), w(Weekday.MON, "12:00", "13:00"))
    assert weekly_overlap(w(Weekday.SUN, "23:00", "01:00"), w(Weekday.MON, "00:30", "02:00"))  # week wraps
    assert length_minutes(w(Weekday.MON, "09:00", "09:00")) == DAY
    assert describe(
        WeeklyWindow(frozenset({Weekday.FRI, Weekday.MON}), time(22), time(6), night.presence)
    ) == ("Mon,Fri 22:00-06:00")
