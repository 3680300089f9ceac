"""Hypothesis strategies: small scenarios of agents, policies, schedules and observations.

Every generated edge (window times, activities, overrides) sits on a quarter hour of UTC or of
the policy's local time, and every zone offset used is a multiple of 15 minutes; so sampling
each quarter hour and the midpoints between them sees every change of a timeline.
Instants cluster around the 2026 DST transitions of New York, London and Lord Howe (30 min).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from hypothesis import strategies as st

from controller.core.domain import (
    ActivityCategory,
    Agent,
    AgentSchedule,
    ObservedAgent,
    ScheduledActivity,
    Shift,
    TimeOffDay,
)
from controller.core.presence import RoutingStatus
from controller.model.types import (
    AgentSelector,
    BlastRadius,
    ControllerConfig,
    DatedException,
    DesiredState,
    Mode,
    Override,
    PresencePolicy,
    Rules,
    Safeguard,
    ScheduleFollowing,
    Weekday,
    WeeklyWindow,
)
from tests.core.builders import CATALOG, CODES, tgt

ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata")
ANCHORS = (
    datetime(2026, 3, 8, 0, tzinfo=UTC),  # New York spring forward (07:00 UTC)
    datetime(2026, 3, 29, 0, tzinfo=UTC),  # London spring forward (01:00 UTC)
    datetime(2026, 4, 4, 12, tzinfo=UTC),  # Lord Howe falls back 30 min (15:00 UTC)
    datetime(2026, 10, 3, 12, tzinfo=UTC),  # Lord Howe springs forward 30 min
    datetime(2026, 10, 25, 0, tzinfo=UTC),  # London fall back
    datetime(2026, 11, 1, 3, tzinfo=UTC),  # New York fall back (06:00 UTC)
)
PRESENCES = ("On Queue", "Available", "Busy", "Away", "Break", "Meal", "Lunch", "Coaching", "Offline")
GROUPS = ("g0", "g1", "g2", "g3")  # g3 is never selected: its agents are unmanaged
CODE_IDS = (*sorted(CODES), "c-nope")
QUARTER = timedelta(minutes=15)

quarter_times = st.integers(0, 95).map(lambda q: time(q // 4, (q % 4) * 15))
presences = st.sampled_from(PRESENCES).map(tgt)
weekdays = st.frozensets(st.sampled_from(list(Weekday)), min_size=1)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Around a DST transition, on any minute (not only quarter hours)."""
    return draw(st.sampled_from(ANCHORS)) + timedelta(minutes=draw(st.integers(-2 * 1440, 2 * 1440)))


def windows(days: st.SearchStrategy[frozenset[Weekday]] = weekdays) -> st.SearchStrategy[WeeklyWindow]:
    return st.builds(WeeklyWindow, days, quarter_times, quarter_times, presences)


@st.composite
def schedules(draw: st.DrawFn, user_id: str, around: datetime) -> AgentSchedule:
    shifts: list[Shift] = []
    anchor = around.replace(minute=around.minute - around.minute % 15, second=0, microsecond=0)
    base = anchor - timedelta(days=1)
    for day in sorted(draw(st.sets(st.sampled_from([-1, 0, 1]), max_size=3))):
        t = anchor + timedelta(days=day) - QUARTER * draw(st.integers(0, 32))
        acts: list[ScheduledActivity] = []
        for _ in range(draw(st.integers(1, 6))):
            t += QUARTER * draw(st.integers(0, 2))  # sometimes a gap
            end = t + QUARTER * draw(st.integers(1, 16))
            acts.append(ScheduledActivity(t, end, draw(st.sampled_from(CODE_IDS))))
            t = end
        shifts.append(Shift(acts[0].start, acts[-1].end + QUARTER * draw(st.integers(0, 2)), tuple(acts)))
    time_off: tuple[TimeOffDay, ...] = ()
    if draw(st.booleans()):
        start = base + timedelta(days=draw(st.integers(0, 3)))
        time_off = (TimeOffDay(start.date(), start, start + timedelta(days=1), "c-off", "Leave"),)
    return AgentSchedule(user_id, tuple(shifts), time_off)


@st.composite
def policies(draw: st.DrawFn, index: int, agents: list[Agent], around: datetime) -> PresencePolicy:
    follow = None
    if draw(st.booleans()):
        follow = ScheduleFollowing(
            categories=draw(st.dictionaries(st.sampled_from(list(ActivityCategory)), presences, max_size=2)),
            activity_codes=draw(st.dictionaries(st.sampled_from(CODE_IDS), presences, max_size=2)),
            use_secondary_presence=draw(st.booleans()),
            off_shift=draw(st.none() | presences),
            time_off=draw(st.none() | presences),
        )
    days = [(around + timedelta(days=k)).date() for k in range(-2, 3)]
    exceptions = tuple(
        DatedException(
            day, "holiday", draw(st.none() | presences), tuple(draw(st.lists(windows(), max_size=2)))
        )
        for day in draw(st.lists(st.sampled_from(days), max_size=2, unique=True))
    )
    overrides = tuple(
        Override(
            draw(st.sampled_from([a.id for a in agents] + [a.email for a in agents])),
            draw(presences),
            until=(start := around + QUARTER * draw(st.integers(-100, 200)))
            + QUARTER * draw(st.integers(1, 40)),
            start=draw(st.none() | st.just(start)),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    rules = Rules(
        respect_active_interactions=draw(st.booleans()),
        grace_seconds=draw(st.sampled_from([0, 60, 600])),
        max_break_minutes=draw(st.sampled_from([None, 15])),
        message_required=frozenset(draw(st.lists(st.sampled_from(PRESENCES), max_size=2))),
        allowed_presences=draw(st.none() | st.frozensets(st.sampled_from(PRESENCES), min_size=1)),
        offline_agents=draw(st.sampled_from(list(Safeguard))),
        out_of_office=draw(st.sampled_from(list(Safeguard))),
    )
    return PresencePolicy(
        name=f"policy-{index}",
        agents=AgentSelector(groups=frozenset({GROUPS[index % 3]})),
        timezone=draw(st.sampled_from(ZONES)),
        schedule=follow,
        windows=tuple(draw(st.lists(windows(), max_size=3))),
        exceptions=exceptions,
        overrides=overrides,
        rules=rules,
        mode=draw(st.sampled_from([Mode.ENFORCE, Mode.ENFORCE, Mode.OBSERVE])),
        suspend=draw(st.integers(0, 9)) == 0,
    )


@st.composite
def observations(draw: st.DrawFn, agent: Agent, now: datetime) -> ObservedAgent:
    definition = draw(st.sampled_from([d for d in CATALOG.definitions if not d.deactivated]))
    age = draw(st.none() | st.integers(0, 7200))
    return ObservedAgent(
        agent.id,
        definition.id,
        definition.system_presence,
        draw(st.sampled_from(list(RoutingStatus))),
        None if age is None else now - timedelta(seconds=age),
        out_of_office=draw(st.integers(0, 9)) == 0,
    )


@dataclass(frozen=True)
class Scenario:
    state: DesiredState
    agents: list[Agent]
    observed: dict[str, ObservedAgent]
    schedules: dict[str, AgentSchedule]
    now: datetime
    last_written: dict[str, datetime]


@st.composite
def scenarios(draw: st.DrawFn, max_agents: int = 8) -> Scenario:
    now = draw(instants())
    n = draw(st.integers(1, max_agents))
    agents = [
        Agent(
            f"u{i}",
            f"Agent {i}",
            f"agent{i}@example.com",
            frozenset(draw(st.sets(st.sampled_from(GROUPS), min_size=1, max_size=2))),
        )
        for i in range(n)
    ]
    state = DesiredState(
        policies=tuple(draw(policies(i, agents, now)) for i in range(draw(st.integers(1, 3)))),
        config=ControllerConfig(
            blast_radius=BlastRadius(draw(st.sampled_from([0.0, 10.0, 25.0, 100.0, 100.0])), 1)
        ),
    )
    observed = {a.id: draw(observations(a, now)) for a in agents if draw(st.integers(0, 9)) > 0}
    scheds = {a.id: draw(schedules(a.id, now)) for a in agents if draw(st.booleans())}
    written = {
        a.id: now - timedelta(seconds=draw(st.integers(0, 7200)))
        for a in agents
        if draw(st.integers(0, 3)) == 0
    }
    return Scenario(state, agents, observed, scheds, now, written)


def sample_points(start: datetime, end: datetime, limit: int = 800) -> list[datetime]:
    """Every quarter hour and quarter midpoint strictly inside (start, end), at most `limit`."""
    first = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
    points: list[datetime] = []
    t = first
    while t < end and len(points) < limit:
        for p in (t, t + QUARTER / 2):
            if start < p < end:
                points.append(p)
        t += QUARTER
    return points
