"""desired_at: every precedence level, windows across midnight, DST in two zones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from controller.core.domain import ActivityCategory, AgentSchedule
from controller.core.presence import SystemPresence
from controller.core.timeline import Decision, ReasonKind, desired_at, localize
from controller.model.types import (
    DatedException,
    Override,
    PresencePolicy,
    ScheduleFollowing,
    Weekday,
)
from tests.core.builders import (
    ALL_DAYS,
    CATALOG,
    COACHING_ID,
    CODES,
    LUNCH_ID,
    SYS,
    act,
    agent,
    here,
    policy,
    schedule,
    shift_of,
    tgt,
    time_off_day,
    utc,
    window,
)

A = agent(1)
MON = date(2026, 11, 23)


def at(p: PresencePolicy, t: datetime, sched: AgentSchedule | None = None) -> Decision:
    return desired_at(p, A, sched, CODES, CATALOG, t)


def target_id(d: Decision) -> str | None:
    return None if d.target is None else d.target.definition_id


# --- windows --------------------------------------------------------------------------------


def test_weekday_window_decides_inside_and_leaves_alone_outside() -> None:
    p = policy(windows=(window("09:00", "17:00", "On Queue"),))
    inside = at(p, utc(2026, 11, 23, 10))
    assert target_id(inside) == SYS[SystemPresence.ON_QUEUE]
    assert inside.reason.kind is ReasonKind.WINDOW
    assert inside.reason.detail == "window Mon-Fri 09:00-17:00"
    assert inside.reason.location == here(10)
    assert (inside.valid_from, inside.valid_until) == (utc(2026, 11, 23, 9), utc(2026, 11, 23, 17))
    after = at(p, utc(2026, 11, 23, 18))
    assert after.target is None and after.reason.kind is ReasonKind.NONE
    assert (after.valid_from, after.valid_until) == (utc(2026, 11, 23, 17), utc(2026, 11, 24, 9))
    saturday = at(p, utc(2026, 11, 28, 10))
    assert saturday.target is None
    assert saturday.valid_until is not None and saturday.valid_until <= utc(2026, 11, 30, 9)


def test_window_crossing_midnight_belongs_to_its_start_day() -> None:
    p = policy(windows=(window("22:00", "06:00", "Available", frozenset({Weekday.FRI})),))
    d = at(p, utc(2026, 11, 28, 3))  # Saturday 03:00: Friday's night window
    assert target_id(d) == SYS[SystemPresence.AVAILABLE]
    assert (d.valid_from, d.valid_until) == (utc(2026, 11, 27, 22), utc(2026, 11, 28, 6))
    assert at(p, utc(2026, 11, 28, 6)).target is None
    assert at(p, utc(2026, 11, 27, 21, 59)).target is None
    assert at(p, utc(2026, 11, 28, 23)).target is None  # Saturday night: no window starts Saturday


def test_first_declared_window_wins_an_overlap() -> None:
    p = policy(windows=(window("12:00", "13:00", "Meal"), window("09:00", "17:00", "On Queue")))
    assert target_id(at(p, utc(2026, 11, 23, 12, 30))) == SYS[SystemPresence.MEAL]
    d = at(p, utc(2026, 11, 23, 13, 30))
    assert target_id(d) == SYS[SystemPresence.ON_QUEUE]
    assert d.valid_from == utc(2026, 11, 23, 13)


# --- DST ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "wall", "expected_utc"),
    [
        # spring forward: nonexistent local times start at the end of the gap
        ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), time(3, 0), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), time(1, 59), datetime(2026, 3, 8, 6, 59, tzinfo=UTC)),
        ("Europe/London", date(2026, 3, 29), time(1, 30), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        # fall back: ambiguous local times are their first occurrence (fold=0)
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), time(2, 0), datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 25), time(1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("Europe/London", date(2026, 10, 25), time(2, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
    ],
)
def test_localize_dst_rule(tz: str, day: date, wall: time, expected_utc: datetime) -> None:
    assert localize(day, wall, tz) == expected_utc


def test_window_starting_in_the_spring_gap_starts_at_its_end() -> None:
    sunday = frozenset({Weekday.SUN})
    p = policy(tz="America/New_York", windows=(window("02:30", "04:00", "Busy", sunday),))
    assert at(p, utc(2026, 3, 8, 6, 59)).target is None
    d = at(p, utc(2026, 3, 8, 7, 0))  # 03:00 EDT
    assert target_id(d) == SYS[SystemPresence.BUSY]
    assert (d.valid_from, d.valid_until) == (utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))  # 03:00-04:00 EDT


def test_night_window_over_spring_forward_is_an_hour_shorter() -> None:
    saturday = frozenset({Weekday.SAT})
    p = policy(tz="America/New_York", windows=(window("22:00", "06:00", "Away", saturday),))
    d = at(p, utc(2026, 3, 8, 8))
    assert (d.valid_from, d.valid_until) == (utc(2026, 3, 8, 3), utc(2026, 3, 8, 10))  # 7 hours


def test_night_window_over_fall_back_is_an_hour_longer() -> None:
    saturday = frozenset({Weekday.SAT})
    p = policy(tz="America/New_York", windows=(window("22:00", "06:00", "Away", saturday),))
    d = at(p, utc(2026, 11, 1, 6))  # 01:00 EDT
    assert (d.valid_from, d.valid_until) == (utc(2026, 11, 1, 2), utc(2026, 11, 1, 11))  # 9 hours
    assert target_id(at(p, utc(2026, 11, 1, 6, 30))) == SYS[SystemPresence.AWAY]  # 01:30 EST (second)


def test_window_starting_in_the_repeated_hour_starts_at_its_first_occurrence() -> None:
    sunday = frozenset({Weekday.SUN})
    p = policy(tz="Europe/London", windows=(window("01:30", "03:00", "Training", sunday),))
    assert at(p, utc(2026, 10, 25, 0, 29)).target is None
    d = at(p, utc(2026, 10, 25, 0, 30))  # 01:30 BST
    assert (d.valid_from, d.valid_until) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3))
    spring = at(p, utc(2026, 3, 29, 1, 0))  # 01:30 GMT does not exist: starts at 02:00 BST
    assert target_id(spring) == SYS[SystemPresence.TRAINING]
    assert spring.valid_from == utc(2026, 3, 29, 1)
    assert at(p, utc(2026, 3, 29, 0, 59)).target is None


def test_local_day_follows_the_policy_zone() -> None:
    p = policy(tz="America/New_York", windows=(window("09:00", "17:00", "On Queue"),))
    # Saturday 2026-11-28 02:00 UTC is still Friday 21:00 in New York: outside the window
    assert at(p, utc(2026, 11, 27, 21)).target is not None  # Fri 16:00 EST
    assert at(p, utc(2026, 11, 27, 22)).target is None  # Fri 17:00 EST


# --- overrides and exceptions --------------------------------------------------------------


def test_override_wins_until_it_expires() -> None:
    o = Override(A.email.upper(), tgt("Meeting"), until=utc(2026, 11, 23, 11), start=utc(2026, 11, 23, 10))
    p = policy(windows=(window("09:00", "17:00", "On Queue"),), overrides=(o,))
    before = at(p, utc(2026, 11, 23, 9, 30))
    assert before.reason.kind is ReasonKind.WINDOW and before.valid_until == utc(2026, 11, 23, 10)
    d = at(p, utc(2026, 11, 23, 10, 30))
    assert d.reason.kind is ReasonKind.OVERRIDE and target_id(d) == SYS[SystemPresence.MEETING]
    assert (d.valid_from, d.valid_until) == (utc(2026, 11, 23, 10), utc(2026, 11, 23, 11))
    expired = at(p, utc(2026, 11, 23, 11))
    assert expired.reason.kind is ReasonKind.WINDOW and expired.valid_from == utc(2026, 11, 23, 11)
    assert at(p, utc(2026, 11, 23, 10, 30)).reason.detail == "override until 2026-11-23 11:00"


def test_override_for_another_agent_is_ignored() -> None:
    o = Override("someone-else", tgt("Meeting"), until=utc(2026, 11, 23, 11))
    p = policy(windows=(window("09:00", "17:00", "On Queue"),), overrides=(o,))
    assert at(p, utc(2026, 11, 23, 10)).reason.kind is ReasonKind.WINDOW


def test_exception_presence_replaces_the_whole_local_day() -> None:
    holiday = DatedException(date(2026, 12, 25), "Christmas", tgt("Offline"), location=here(40))
    follow = ScheduleFollowing()
    p = policy(
        tz="Europe/London",
        schedule=follow,
        windows=(window("09:00", "17:00", "On Queue"),),
        exceptions=(holiday,),
    )
    s = schedule(A.id, shift_of(act(utc(2026, 12, 25, 9), 480, "c-work")))
    d = at(p, utc(2026, 12, 25, 10), s)
    assert d.reason.kind is ReasonKind.EXCEPTION and target_id(d) == SYS[SystemPresence.OFFLINE]
    assert d.reason.detail == "exception 2026-12-25 'Christmas'" and d.reason.location == here(40)
    assert (d.valid_from, d.valid_until) == (utc(2026, 12, 25), utc(2026, 12, 26))
    assert at(p, utc(2026, 12, 24, 10)).reason.kind is ReasonKind.WINDOW


def test_exception_windows_replace_weekly_windows_that_day() -> None:
    morning = window("09:00", "12:00", "On Queue", frozenset())
    eve = DatedException(date(2026, 12, 24), "Eve", windows=(morning,))
    closed = DatedException(date(2026, 12, 31), "Closed")
    p = policy(windows=(window("09:00", "17:00", "On Queue"),), exceptions=(eve, closed))
    d = at(p, utc(2026, 12, 24, 10))
    assert d.reason.kind is ReasonKind.EXCEPTION
    assert d.reason.detail == "exception 2026-12-24 'Eve' window 09:00-12:00"
    assert at(p, utc(2026, 12, 24, 13)).target is None
    assert at(p, utc(2026, 12, 31, 10)).target is None
    assert at(p, utc(2026, 12, 30, 10)).reason.kind is ReasonKind.WINDOW


# --- the WFM schedule ------------------------------------------------------------------------


def _day_schedule() -> AgentSchedule:
    start = utc(2026, 11, 23, 9)
    return schedule(
        A.id,
        shift_of(
            act(start, 180, "c-work"),
            act(utc(2026, 11, 23, 12), 30, "c-lunch"),
            act(utc(2026, 11, 23, 12, 30), 30, "c-coach"),
            act(utc(2026, 11, 23, 13), 15, "c-unav"),
            act(utc(2026, 11, 23, 13, 15), 15, "c-stale"),
            act(utc(2026, 11, 23, 14), 60, "c-meet"),  # 13:30-14:00 is a gap inside the shift
        ),
    )


def test_activity_maps_by_category_default() -> None:
    p = policy(schedule=ScheduleFollowing(), windows=(window("00:00", "00:00", "Available", ALL_DAYS),))
    d = at(p, utc(2026, 11, 23, 10), _day_schedule())
    assert d.reason.kind is ReasonKind.SCHEDULE_ACTIVITY and target_id(d) == SYS[SystemPresence.ON_QUEUE]
    assert d.reason.detail.startswith("WFM activity 'Work' 09:00-12:00 (code c-work")
    assert (d.valid_from, d.valid_until) == (utc(2026, 11, 23, 9), utc(2026, 11, 23, 12))


def test_secondary_presence_of_the_code_is_used_and_can_be_turned_off() -> None:
    sched = _day_schedule()
    p = policy(schedule=ScheduleFollowing())
    assert target_id(at(p, utc(2026, 11, 23, 12, 10), sched)) == LUNCH_ID
    assert target_id(at(p, utc(2026, 11, 23, 12, 40), sched)) == COACHING_ID
    plain = policy(schedule=ScheduleFollowing(use_secondary_presence=False))
    assert target_id(at(plain, utc(2026, 11, 23, 12, 10), sched)) == SYS[SystemPresence.MEAL]
    # a deactivated secondary falls back to the category
    assert target_id(at(p, utc(2026, 11, 23, 13, 20), sched)) == SYS[SystemPresence.BREAK]


def test_code_mapping_beats_secondary_which_beats_category() -> None:
    sched = _day_schedule()
    follow = ScheduleFollowing(
        activity_codes={"lunch": tgt("Available", 7)},  # by name, case-insensitive
        categories={ActivityCategory.MEETING: tgt("Busy", 8), ActivityCategory.ON_QUEUE_WORK: tgt("Busy", 9)},
    )
    p = policy(schedule=follow)
    lunch = at(p, utc(2026, 11, 23, 12, 10), sched)
    assert target_id(lunch) == SYS[SystemPresence.AVAILABLE] and lunch.reason.location == here(7)
    assert target_id(at(p, utc(2026, 11, 23, 12, 40), sched)) == COACHING_ID  # secondary beats category
    assert target_id(at(p, utc(2026, 11, 23, 14, 10), sched)) == SYS[SystemPresence.BUSY]  # category
    by_id = policy(schedule=ScheduleFollowing(activity_codes={"c-work": tgt("Idle")}))
    assert target_id(at(by_id, utc(2026, 11, 23, 10), sched)) == SYS[SystemPresence.IDLE]


def test_unavailable_activity_leaves_the_agent_alone_even_inside_a_window() -> None:
    p = policy(schedule=ScheduleFollowing(), windows=(window("09:00", "17:00", "On Queue"),))
    d = at(p, utc(2026, 11, 23, 13, 5), _day_schedule())
    assert d.target is None and d.reason.kind is ReasonKind.SCHEDULE_ACTIVITY
    unknown = schedule(A.id, shift_of(act(utc(2026, 11, 23, 9), 60, "c-nope")))
    assert at(p, utc(2026, 11, 23, 9, 30), unknown).target is None


def test_gap_inside_shift_falls_to_windows_then_nothing() -> None:
    sched = _day_schedule()
    follow = ScheduleFollowing(off_shift=tgt("Offline"))
    with_window = policy(schedule=follow, windows=(window("09:00", "17:00", "On Queue"),))
    assert at(with_window, utc(2026, 11, 23, 13, 40), sched).reason.kind is ReasonKind.WINDOW
    without = policy(schedule=follow)
    gap = at(without, utc(2026, 11, 23, 13, 40), sched)
    assert gap.target is None and gap.reason.kind is ReasonKind.NONE
    assert (gap.valid_from, gap.valid_until) == (utc(2026, 11, 23, 13, 30), utc(2026, 11, 23, 14))


def test_off_shift_applies_outside_shifts_below_windows() -> None:
    sched = _day_schedule()
    follow = ScheduleFollowing(off_shift=tgt("Offline", 20))
    p = policy(schedule=follow, windows=(window("16:00", "18:00", "Available"),))
    evening = at(p, utc(2026, 11, 23, 19), sched)
    assert evening.reason.kind is ReasonKind.OFF_SHIFT and target_id(evening) == SYS[SystemPresence.OFFLINE]
    assert evening.valid_from == utc(2026, 11, 23, 18)
    assert at(p, utc(2026, 11, 23, 16, 30), sched).reason.kind is ReasonKind.WINDOW
    # an unknown schedule (None) never makes anyone off shift
    assert at(p, utc(2026, 11, 23, 19), None).target is None
    # a known empty schedule does
    assert at(p, utc(2026, 11, 23, 19), AgentSchedule(A.id)).reason.kind is ReasonKind.OFF_SHIFT


def test_time_off_beats_windows_and_none_means_leave_alone() -> None:
    day = date(2026, 11, 24)
    sched = schedule(A.id, time_off=(time_off_day(day, utc(2026, 11, 24), utc(2026, 11, 25)),))
    windows = (window("09:00", "17:00", "On Queue"),)
    p = policy(schedule=ScheduleFollowing(time_off=tgt("Offline", 30)), windows=windows)
    d = at(p, utc(2026, 11, 24, 10), sched)
    assert d.reason.kind is ReasonKind.TIME_OFF and target_id(d) == SYS[SystemPresence.OFFLINE]
    assert d.reason.detail == "time off 2026-11-24 'Vacation'"
    silent = at(replace(p, schedule=ScheduleFollowing()), utc(2026, 11, 24, 10), sched)
    assert silent.target is None and silent.reason.kind is ReasonKind.TIME_OFF
    # not following a schedule: time off is not consulted
    assert at(replace(p, schedule=None), utc(2026, 11, 24, 10), sched).reason.kind is ReasonKind.WINDOW


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        at(policy(), datetime(2026, 11, 23, 10))
