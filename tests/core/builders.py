"""Small builders of domain and desired-state values for the pure-core tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from controller.core.domain import (
    ActivityCategory,
    ActivityCode,
    Agent,
    AgentSchedule,
    PresenceCatalog,
    PresenceDefinition,
    ScheduledActivity,
    Shift,
    TimeOffDay,
)
from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.model.types import (
    AgentSelector,
    PresencePolicy,
    PresenceTarget,
    SourceLocation,
    Weekday,
    WeeklyWindow,
)

LUNCH_ID = "5ec0da2e-0000-4000-8000-00000000lun1"
COACHING_ID = "5ec0da2e-0000-4000-8000-00000000coa1"
OLD_ID = "5ec0da2e-0000-4000-8000-00000000old1"

CATALOG = PresenceCatalog(
    (
        *(PresenceDefinition(i, p, p.label, True) for p, i in WELL_KNOWN_DEFINITION_IDS.items()),
        PresenceDefinition(LUNCH_ID, SystemPresence.MEAL, "Lunch", False),
        PresenceDefinition(COACHING_ID, SystemPresence.MEETING, "Coaching", False),
        PresenceDefinition(OLD_ID, SystemPresence.BREAK, "Old break", False, deactivated=True),
    )
)

SYS = WELL_KNOWN_DEFINITION_IDS

CODES = {
    c.id: c
    for c in (
        ActivityCode("c-work", "Work", ActivityCategory.ON_QUEUE_WORK),
        ActivityCode("c-break", "Break", ActivityCategory.BREAK),
        ActivityCode("c-lunch", "Lunch", ActivityCategory.MEAL, (LUNCH_ID,)),
        ActivityCode("c-meal", "Meal", ActivityCategory.MEAL),
        ActivityCode("c-meet", "Team meeting", ActivityCategory.MEETING),
        ActivityCode("c-coach", "Coaching", ActivityCategory.MEETING, (COACHING_ID,)),
        ActivityCode("c-train", "Training", ActivityCategory.TRAINING),
        ActivityCode("c-admin", "Admin", ActivityCategory.OFF_QUEUE_WORK),
        ActivityCode("c-off", "Vacation", ActivityCategory.TIME_OFF),
        ActivityCode("c-unav", "Unavailable", ActivityCategory.UNAVAILABLE),
        ActivityCode("c-stale", "Stale", ActivityCategory.BREAK, (OLD_ID,)),
    )
}

ALL_DAYS = frozenset(Weekday)
WEEKDAYS = frozenset({Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI})


def here(line: int) -> SourceLocation:
    return SourceLocation("desired/policies.yaml", line, 3)


def tgt(name: str, line: int = 1) -> PresenceTarget:
    d = CATALOG.resolve(name)
    assert d is not None, name
    return PresenceTarget(name, here(line), d.id)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def agent(n: int, groups: frozenset[str] = frozenset({"g1"})) -> Agent:
    return Agent(f"u{n:05d}", f"Agent {n}", f"agent{n}@example.com", groups)


def window(start: str, end: str, presence: str, days: frozenset[Weekday] = WEEKDAYS) -> WeeklyWindow:
    return WeeklyWindow(days, time.fromisoformat(start), time.fromisoformat(end), tgt(presence), here(10))


def policy(name: str = "p", tz: str = "UTC", group: str = "g1", **kw: object) -> PresencePolicy:
    return PresencePolicy(name, AgentSelector(groups=frozenset({group})), tz, **kw)  # type: ignore[arg-type]


def act(start: datetime, minutes: int, code: str) -> ScheduledActivity:
    from datetime import timedelta

    return ScheduledActivity(start, start + timedelta(minutes=minutes), code)


def shift_of(*activities: ScheduledActivity) -> Shift:
    return Shift(activities[0].start, max(a.end for a in activities), tuple(activities))


def schedule(user: str, *shifts: Shift, time_off: tuple[TimeOffDay, ...] = ()) -> AgentSchedule:
    return AgentSchedule(user, tuple(shifts), time_off)


def time_off_day(day: date, start: datetime, end: datetime) -> TimeOffDay:
    return TimeOffDay(day, start, end, "c-off", "Vacation")
