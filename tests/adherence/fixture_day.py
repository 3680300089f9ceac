"""The adherence tests' fixture day: one agent's hand-computed Tuesday (EST) through the recorder
and the SQLite store, and the figures computed from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from controller.adherence.compute import AgentAdherence, agent_adherence, local_days
from controller.adherence.recorder import TimelineRecorder
from controller.adherence.store import TimelineStore
from controller.core.domain import ObservedAgent
from controller.core.presence import RoutingStatus, SystemPresence
from controller.model.types import ScheduleFollowing
from tests.core.builders import CATALOG, CODES, SYS, act, agent, policy, schedule, shift_of

NY = "America/New_York"
DAY = date(2026, 11, 24)  # a Tuesday, EST (UTC-5)
AGENT = agent(1)


def local(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC) + timedelta(hours=5)


SCHEDULE = schedule(
    AGENT.id,
    shift_of(
        act(local(8), 120, "c-work"),
        act(local(10), 15, "c-break"),
        act(local(10, 15), 105, "c-work"),
        act(local(12), 30, "c-meal"),
        act(local(12, 30), 210, "c-work"),
    ),
)
FOLLOWS = policy(tz=NY, schedule=ScheduleFollowing(off_shift=None))


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def seen(presence: SystemPresence, modified: datetime | None = None) -> ObservedAgent:
    routing = RoutingStatus.IDLE if presence is SystemPresence.ON_QUEUE else RoutingStatus.OFF_QUEUE
    return ObservedAgent(AGENT.id, SYS[presence], presence, routing, modified)


def record_fixture_day(store: TimelineStore) -> None:
    """07:00 Available; On Queue 08:07 (late start); Break 10:00-10:25 (10 min overlong); Meal
    12:00-12:30; the daemon is down 14:00-14:30 (crash: its heartbeat stops at 14:00); Busy
    14:40:00-14:40:30 (30 s: out of adherence, under the exception threshold); 16:00 Available.
    Changes arrive late (the read at 08:10 learns of the 08:07 change by its modified date)."""
    clock = Clock(local(7))
    first = TimelineRecorder(store, clock)
    first.observe([seen(SystemPresence.AVAILABLE, local(6))], "read")  # unknown before 07:00
    for at, modified, presence, source in [
        (local(8, 10), local(8, 7), SystemPresence.ON_QUEUE, "read"),
        (local(10), local(10), SystemPresence.BREAK, "stream"),
        (local(10, 25), local(10, 25), SystemPresence.ON_QUEUE, "write"),
        (local(12, 0, 5), local(12), SystemPresence.MEAL, "stream"),
        (local(12, 31), local(12, 30), SystemPresence.ON_QUEUE, "read"),
    ]:
        clock.t = at
        first.observe([seen(presence, modified)], source)
        first.observe([seen(presence, modified)], "read")  # unchanged: not stored again
    clock.t = local(14)
    first.flush()  # the last heartbeat; then the process dies
    clock.t = local(14, 30)
    second = TimelineRecorder(store, clock)
    second.observe([seen(SystemPresence.ON_QUEUE, local(12, 30))], "read")
    for at, presence in [
        (local(14, 40), SystemPresence.BUSY),
        (local(14, 40, 30), SystemPresence.ON_QUEUE),
        (local(16), SystemPresence.AVAILABLE),
    ]:
        clock.t = at
        second.observe([seen(presence, at)], "stream")
    clock.t = local(23, 59)
    second.flush()


def fixture_figures(tmp_path: Path) -> AgentAdherence:
    store = TimelineStore(tmp_path / "adherence.sqlite")
    record_fixture_day(store)
    ((_, start, end),) = local_days(DAY, DAY, NY)
    spans = store.spans(start, end)[AGENT.id]
    return agent_adherence(FOLLOWS, AGENT, SCHEDULE, CODES, CATALOG, spans, start, end)
