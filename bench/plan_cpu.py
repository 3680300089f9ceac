"""Benchmark: CPU time of the pure core over a realistic org (the emulator's generated demo org).

Run: .venv/bin/python -m bench plan_cpu [agents]   (default 10,000)
Builds domain values straight from controller.emulator.generate.generate_org (3 days of published
schedules, DST-correct), a desired state of one schedule-following policy per management-unit
group plus a windows-only night policy, and a live state where ~20 % of agents drifted. Prints
CPU seconds (time.process_time) of select_agents, plan and next_boundary at several times of
day; best of 3 runs each. A measurement, not a test.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bench._timing import cpu
from controller.core.domain import (
    ActivityCategory,
    ActivityCode,
    Agent,
    AgentSchedule,
    ObservedAgent,
    PresenceCatalog,
    PresenceDefinition,
    ScheduledActivity,
    Shift,
    TimeOffDay,
)
from controller.core.planner import Plan, plan
from controller.core.presence import RoutingStatus
from controller.core.selection import Selection, select_agents
from controller.core.timeline import next_boundary
from controller.emulator.generate import generate_org
from controller.emulator.org import Org
from controller.engine.upcoming import Inputs, UpcomingChanges
from controller.model.types import (
    AgentSelector,
    BlastRadius,
    ControllerConfig,
    DesiredState,
    PresencePolicy,
    PresenceTarget,
    Rules,
    ScheduleFollowing,
    Weekday,
    WeeklyWindow,
)

START = date(2026, 11, 23)  # a Monday; schedules for Mon..Wed


def catalog_of(org: Org) -> PresenceCatalog:
    return PresenceCatalog(
        tuple(
            PresenceDefinition(p.id, p.system_presence, p.labels["en_US"], p.type == "System", p.deactivated)
            for p in org.presence_definitions
        )
    )


def schedules_of(org: Org) -> dict[str, AgentSchedule]:
    zone_of_bu = {bu.id: ZoneInfo(bu.time_zone) for bu in org.business_units}
    bu_of_mu = {mu.id: mu.business_unit_id for mu in org.management_units}
    mu_of_agent = {a.id: a.management_unit_id for a in org.agents}
    time_off: dict[str, list[TimeOffDay]] = {}
    for t in org.time_off:
        mu = mu_of_agent[t.agent_id]
        assert mu is not None
        zone = zone_of_bu[bu_of_mu[mu]]
        start = datetime.combine(t.business_unit_date, datetime.min.time(), zone).astimezone(UTC)
        time_off.setdefault(t.agent_id, []).append(
            TimeOffDay(
                t.business_unit_date, start, start + timedelta(days=1), t.activity_code_id, t.description
            )
        )
    out = {}
    for a in org.agents:
        shifts = tuple(
            Shift(
                s.start,
                s.start + timedelta(minutes=s.length_minutes),
                tuple(
                    ScheduledActivity(
                        x.start, x.start + timedelta(minutes=x.length_minutes), x.activity_code_id
                    )
                    for x in s.activities
                ),
            )
            for s in org.shifts.get(a.id, [])
        )
        out[a.id] = AgentSchedule(a.id, shifts, tuple(time_off.get(a.id, ())))
    return out


def desired_of(org: Org, catalog: PresenceCatalog) -> DesiredState:
    def target(name: str) -> PresenceTarget:
        d = catalog.resolve(name)
        assert d is not None, name
        return PresenceTarget(name, definition_id=d.id)

    groups = {g.name: g.id for g in org.groups}
    zones = {
        "Sales Agents": "America/New_York",
        "Support Agents": "America/Chicago",
        "EMEA Agents": "Europe/London",
    }
    follow = ScheduleFollowing(off_shift=target("Offline"), time_off=target("Offline"))
    policies = [
        PresencePolicy(
            name.lower().replace(" ", "-"),
            AgentSelector(groups=frozenset({groups[name]})),
            zone,
            schedule=follow,
            rules=Rules(grace_seconds=60, max_break_minutes=20),
        )
        for name, zone in zones.items()
    ]
    nights = WeeklyWindow(
        frozenset(Weekday),
        datetime.min.time().replace(hour=22),
        datetime.min.time().replace(hour=6),
        target("On Queue"),
    )
    policies.append(
        PresencePolicy(
            "night-shift",
            AgentSelector(groups=frozenset({groups["Night Shift"]})),
            "America/New_York",
            windows=(nights,),
        )
    )
    return DesiredState(policies=tuple(policies), config=ControllerConfig(blast_radius=BlastRadius(100, 1)))


def observed_of(
    agents: list[Agent],
    catalog: PresenceCatalog,
    state: DesiredState,
    scheds: dict[str, AgentSchedule],
    codes: dict[str, ActivityCode],
    now: datetime,
) -> dict[str, ObservedAgent]:
    rnd = random.Random(7)
    first = plan(state, agents, {}, scheds, codes, catalog, now)
    desired = {d.user_id: d.decision.target for d in first.decisions}
    live = [d for d in catalog.definitions if not d.deactivated]
    out = {}
    for a in agents:
        target = desired.get(a.id)
        pick = (
            catalog.by_id(target.definition_id or "") if target is not None and rnd.random() < 0.8 else None
        )
        d = pick or rnd.choice(live)
        routing = RoutingStatus.INTERACTING if rnd.random() < 0.3 else RoutingStatus.IDLE
        out[a.id] = ObservedAgent(
            a.id, d.id, d.system_presence, routing, now - timedelta(seconds=rnd.randint(0, 7200))
        )
    return out


def boundary_path(
    state: DesiredState,
    agents: list[Agent],
    observed: dict[str, ObservedAgent],
    scheds: dict[str, AgentSchedule],
    codes: dict[str, ActivityCode],
    catalog: PresenceCatalog,
    selection: Selection,
    now: datetime,
) -> None:
    """The daemon's boundary path: the heap of next changes (built once per inputs), then at the
    boundary the re-plan of just the changing agents and the heap re-walk of them."""
    inputs = Inputs("bench", (), selection.by_agent, {a.id: a for a in agents}, scheds, codes, catalog)
    upcoming = UpcomingChanges()
    t_heap, _ = cpu(partial(upcoming.refresh, inputs, now, ()), runs=1)
    at, changing = upcoming.next()
    if at is None:
        return

    def replan() -> Plan:
        assert at is not None
        p = plan(state, agents, observed, scheds, codes, catalog, at, only=changing, selection=selection)
        upcoming.refresh(inputs, at, changing)
        return p

    t_re, _ = cpu(replan, runs=1)
    print(
        f"  heap of next changes built: {t_heap * 1000:.0f} ms CPU | boundary re-plan of the "
        f"{len(changing)} agents changing at {at:%H:%M}Z, heap kept: {t_re * 1000:.0f} ms CPU"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    org = generate_org(agents=n, seed=1, start=START, days=3)
    catalog = catalog_of(org)
    codes = {
        c.id: ActivityCode(c.id, c.name, ActivityCategory(c.category), tuple(c.secondary_presence_ids))
        for c in org.activity_codes
    }
    agents = [Agent(a.id, a.name, a.email, frozenset(a.group_ids), a.management_unit_id) for a in org.agents]
    scheds = schedules_of(org)
    state = desired_of(org, catalog)
    activities = sum(len(s.activities) for v in scheds.values() for s in v.shifts)
    print(f"org: {n} agents, {activities} activities, {len(codes)} codes, {len(state.policies)} policies")

    t_sel, selection = cpu(lambda: select_agents(state, agents))
    print(f"select_agents: {t_sel * 1000:.1f} ms CPU ({len(selection.by_agent)} managed)")
    # UTC: night, EU afternoon/US morning, lunchtimes, US evening; then past the published range
    instants = [datetime(2026, 11, 24, hour, 7, tzinfo=UTC) for hour in (3, 14, 17, 21)]
    for now in [*instants, datetime(2026, 11, 27, 12, 7, tzinfo=UTC)]:
        observed = observed_of(agents, catalog, state, scheds, codes, now)

        def one_plan(now: datetime = now, observed: dict[str, ObservedAgent] = observed) -> Plan:
            return plan(state, agents, observed, scheds, codes, catalog, now)

        def boundary(now: datetime = now) -> datetime:
            return next_boundary(selection.by_agent, agents, scheds, codes, now, catalog=catalog) or now

        t_plan, p = cpu(one_plan)
        t_nb, b = cpu(boundary)
        print(
            f"{now:%Y-%m-%d %H:%M}Z plan: {t_plan * 1000:.0f} ms CPU, {len(p.actions)} actions, "
            f"{len(p.skipped)} skipped | next_boundary: {t_nb * 1000:.0f} ms CPU -> {b:%H:%M:%S}Z"
        )
        boundary_path(state, agents, observed, scheds, codes, catalog, selection, now)


if __name__ == "__main__":
    main()
