"""Adherence timeline at scale: SQLite writes/s, database size, computation time of the figures.

Usage: .venv/bin/python -m bench adherence_store [--agents 10000] [--days 1] [--compute-agents N]
Records a synthetic working day per agent per day (8 h shift with a break, a lunch and two
self-chosen changes: about 12 changes an agent a day) through the TimelineRecorder in batches of
500, as the daemon does; then times the per-agent-day computation (agent_days: desired_at walk +
interval arithmetic) for one day and for the whole range over `--compute-agents` agents.
Prints numbers; never pass/fail.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from controller.adherence.recorder import TimelineRecorder
from controller.adherence.report import agent_days
from controller.adherence.store import TimelineStore
from controller.core.domain import (
    ActivityCategory,
    ActivityCode,
    Agent,
    AgentSchedule,
    ObservedAgent,
    ScheduledActivity,
    Shift,
)
from controller.core.presence import RoutingStatus, SystemPresence
from controller.model.types import AgentSelector, PresencePolicy, ScheduleFollowing
from tests.core.builders import CATALOG, SYS

FIRST = date(2026, 11, 2)
CODES = {
    "w": ActivityCode("w", "Work", ActivityCategory.ON_QUEUE_WORK),
    "b": ActivityCode("b", "Break", ActivityCategory.BREAK),
    "m": ActivityCode("m", "Meal", ActivityCategory.MEAL),
}
PLAN = [("w", 120), ("b", 15), ("w", 105), ("m", 30), ("w", 210)]  # 08:00-16:00 local
PRESENCE = {"w": SystemPresence.ON_QUEUE, "b": SystemPresence.BREAK, "m": SystemPresence.MEAL}


def shift(day: date, rng: random.Random) -> Shift:
    t = datetime(day.year, day.month, day.day, 13, 0, tzinfo=UTC) + timedelta(
        minutes=15 * rng.randrange(-8, 8)
    )
    acts = []
    for code, minutes in PLAN:
        acts.append(ScheduledActivity(t, t + timedelta(minutes=minutes), code))
        t += timedelta(minutes=minutes)
    return Shift(acts[0].start, acts[-1].end, tuple(acts))


def seen(agent: str, presence: SystemPresence, at: datetime) -> ObservedAgent:
    routing = RoutingStatus.IDLE if presence is SystemPresence.ON_QUEUE else RoutingStatus.OFF_QUEUE
    return ObservedAgent(agent, SYS[presence], presence, routing, at)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--compute-agents", type=int, default=None, help="agents in the range computation")
    args = parser.parse_args()
    rng = random.Random(1)
    agents = [Agent(f"u{i:06d}", f"A {i}", f"a{i}@example.com", frozenset({"g"})) for i in range(args.agents)]
    days = [FIRST + timedelta(days=d) for d in range(args.days)]
    shifts = {a.id: [shift(d, rng) for d in days] for a in agents}
    # Every change of every agent, in time order, as the daemon would observe them.
    events: list[tuple[datetime, str, SystemPresence]] = []
    for a in agents:
        for s in shifts[a.id]:
            events.append((s.start - timedelta(minutes=rng.randrange(1, 20)), a.id, SystemPresence.AVAILABLE))
            for act in s.activities:
                events.append(
                    (
                        act.start + timedelta(seconds=rng.randrange(0, 240)),
                        a.id,
                        PRESENCE[act.activity_code_id],
                    )
                )
            drift = s.start + timedelta(minutes=rng.randrange(30, 400))
            events.append((drift, a.id, SystemPresence.AWAY))
            events.append((drift + timedelta(minutes=rng.randrange(1, 10)), a.id, SystemPresence.ON_QUEUE))
            events.append((s.end + timedelta(minutes=rng.randrange(1, 20)), a.id, SystemPresence.OFFLINE))
    events.sort()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "adherence.sqlite"
        store = TimelineStore(path)
        clock_at = [events[0][0]]
        recorder = TimelineRecorder(store, lambda: clock_at[0])
        recorder.observe([seen(a.id, SystemPresence.OFFLINE, events[0][0]) for a in agents], "read")
        started = time.perf_counter()
        for at, agent, presence in events:
            clock_at[0] = at
            recorder.observe([seen(agent, presence, at)], "stream")
        clock_at[0] = events[-1][0] + timedelta(hours=1)
        recorder.flush()
        wrote = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).glob("adherence.sqlite*"))
        changes = len(events) + len(agents)
        print(
            f"agents {args.agents}, days {args.days}: {changes} changes recorded in {wrote:.2f} s "
            f"({changes / wrote:,.0f} changes/s, batches of 500); database {size / 1e6:.1f} MB "
            f"({size / changes:.0f} bytes a change, WAL included)"
        )

        pol = PresencePolicy(
            "p", AgentSelector(groups=frozenset({"g"})), "America/New_York", schedule=ScheduleFollowing()
        )
        n = args.compute_agents or args.agents
        chosen = agents[:n]
        managed = {a.id: pol for a in chosen}
        schedules = {a.id: AgentSchedule(a.id, tuple(shifts[a.id])) for a in chosen}
        for label, last in (("a day", days[0]), (f"{args.days} days", days[-1])):
            if label != "a day" and args.days == 1:
                continue
            t0 = time.perf_counter()
            first = datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC)
            spans = store.spans(
                first - timedelta(days=1),
                datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=2),
                managed,
            )
            t1 = time.perf_counter()
            result = agent_days(managed, chosen, schedules, CODES, CATALOG, spans, days[0], last)
            t2 = time.perf_counter()
            print(
                f"{label}, {n} agents: read spans {t1 - t0:.2f} s + compute {t2 - t1:.2f} s "
                f"= {t2 - t0:.2f} s ({len(result)} agent-days, {(t2 - t0) / len(result) * 1e3:.2f} ms each)"
            )
        store.close()


if __name__ == "__main__":
    main()
