"""Properties of the pure core over generated scenarios (tests/core/strategies.py)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.core.domain import ObservedAgent
from controller.core.planner import SAFETY_SKIPS, Plan, SkipKind, plan
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.selection import select_agents
from controller.core.timeline import desired_at, next_boundary, target_key
from controller.core.timeline.levels import scan, scan_activities
from controller.model.types import Mode, Safeguard
from tests.core.builders import CATALOG, CODES
from tests.core.strategies import Scenario, instants, sample_points, scenarios, schedules

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_US = timedelta(microseconds=1)


def plan_of(w: Scenario) -> Plan:
    return plan(
        w.state, w.agents, w.observed, w.schedules, CODES, CATALOG, w.now, last_written=w.last_written
    )


def targets_at(w: Scenario, t: datetime) -> dict[str, str | None]:
    by_agent = select_agents(w.state, w.agents).by_agent
    return {
        a.id: target_key(desired_at(by_agent[a.id], a, w.schedules.get(a.id), CODES, CATALOG, t).target)
        for a in w.agents
        if a.id in by_agent and not by_agent[a.id].suspend
    }


@FAST
@given(scenarios(), st.data())
def test_decision_is_constant_over_its_interval(w: Scenario, data: st.DataObject) -> None:
    by_agent = select_agents(w.state, w.agents).by_agent
    for a in w.agents:
        if a.id not in by_agent:
            continue
        p, s = by_agent[a.id], w.schedules.get(a.id)
        d = desired_at(p, a, s, CODES, CATALOG, w.now)
        assert d.holds_at(w.now)
        lo = d.valid_from if d.valid_from is not None else w.now - timedelta(days=3)
        hi = d.valid_until if d.valid_until is not None else w.now + timedelta(days=3)
        lo, hi = max(lo, w.now - timedelta(days=2)), min(hi, w.now + timedelta(days=2))
        for t in [lo, hi - _US, *sample_points(lo, hi, 200)]:
            other = desired_at(p, a, s, CODES, CATALOG, t)
            assert (other.target, other.reason) == (d.target, d.reason), (t, d, other)


@FAST
@given(scenarios(max_agents=5))
def test_next_boundary_is_exact(w: Scenario) -> None:
    by_agent = select_agents(w.state, w.agents).by_agent
    b = next_boundary(by_agent, w.agents, w.schedules, CODES, w.now, catalog=CATALOG)
    start = targets_at(w, w.now)
    end = b if b is not None else w.now + timedelta(days=9)
    for t in sample_points(w.now, end, 600):
        assert targets_at(w, t) == start, f"change at {t} before boundary {b}"
    if b is not None:
        assert b > w.now
        assert targets_at(w, b - _US) == start
        assert targets_at(w, b) != start


@FAST
@given(scenarios())
def test_replanning_after_applying_a_plan_yields_no_enforce_actions(w: Scenario) -> None:
    first = plan_of(w)
    if first.held:
        return
    observed = dict(w.observed)
    written = dict(w.last_written)
    for a in first.writable:
        definition = CATALOG.by_id(a.to.definition_id or "")
        assert definition is not None
        old = observed[a.user_id]
        observed[a.user_id] = ObservedAgent(
            a.user_id, definition.id, definition.system_presence, old.routing_status, w.now
        )
        written[a.user_id] = w.now
    second = plan(w.state, w.agents, observed, w.schedules, CODES, CATALOG, w.now, last_written=written)
    assert [a for a in second.actions if a.mode is Mode.ENFORCE] == []


@FAST
@given(scenarios(), st.randoms(use_true_random=False))
def test_planning_is_deterministic_and_order_free(w: Scenario, rnd: random.Random) -> None:
    agents = list(w.agents)
    rnd.shuffle(agents)
    policies = list(w.state.policies)
    rnd.shuffle(policies)
    observed = dict(rnd.sample(sorted(w.observed.items()), len(w.observed)))
    shuffled = plan(
        w.state.with_policies(tuple(policies)),
        agents,
        observed,
        w.schedules,
        CODES,
        CATALOG,
        w.now,
        last_written=w.last_written,
    )
    assert shuffled == plan_of(w) == plan_of(w)


@FAST
@given(scenarios())
def test_safety_properties(w: Scenario) -> None:
    p = plan_of(w)
    managed = select_agents(w.state, w.agents).by_agent
    policies = {x.name: x for x in w.state.policies}
    for a in p.actions:
        assert a.user_id in managed, "unmanaged agent touched"
        policy = policies[a.policy]
        assert not policy.suspend and a.mode is policy.mode
        live = w.observed[a.user_id]
        assert live.presence_id != a.to.definition_id
        if policy.rules.respect_active_interactions:
            assert not live.routing_status.busy_with_interaction, "interacting agent changed"
        # A person who is not there is never written to, unless the policy says enforce.
        if policy.rules.offline_agents is Safeguard.LEAVE:
            assert live.system_presence is not SystemPresence.OFFLINE, "logged-out agent written"
        if policy.rules.out_of_office is Safeguard.LEAVE:
            assert not live.out_of_office, "out-of-office agent written"
        written = CATALOG.by_id(a.to.definition_id or "")
        assert written is not None and a.signs_out is (written.system_presence is SystemPresence.OFFLINE)
        if live.routing_status is RoutingStatus.NOT_RESPONDING:  # only ever taken off queue
            assert written.system_presence is not SystemPresence.ON_QUEUE
    assert {a.user_id for a in p.actions}.isdisjoint({s.user_id for s in p.skipped})
    # every agent out of its desired presence is either corrected or deliberately let be
    waiting = {SkipKind.INTERACTING, SkipKind.GRACE, SkipKind.TOLERATED_BREAK} | SAFETY_SKIPS
    out = sum(r.out_of_desired for r in p.adherence)
    assert out == len(p.actions) + sum(s.kind in waiting for s in p.skipped)
    assert len(p.actions) + len(p.skipped) == len(managed)
    if p.held:
        assert p.actions and all(a.held and not a.writable for a in p.actions) and p.writable == ()
    else:
        assert sum(a.mode is Mode.ENFORCE for a in p.actions) <= p.limit


@settings(max_examples=60, deadline=None)
@given(scenarios(max_agents=3), instants())
def test_grace_never_shields_a_change_older_than_the_grace(w: Scenario, now: datetime) -> None:
    w = replace(w, now=now)
    for s in plan_of(w).skipped:
        if s.kind.value == "grace":
            modified = w.observed[s.user_id].presence_modified
            policy = next(p for p in w.state.policies if p.name == s.policy)
            assert modified is not None and now - modified < timedelta(seconds=policy.rules.grace_seconds)


@FAST
@given(instants(), st.data())
def test_scan_activities_is_scan_over_the_activities(t: datetime, data: st.DataObject) -> None:
    """The planner's loop over a schedule's activities answers as the generic `scan` does, at
    any instant, edges included (overlapping and touching activities, gaps, several shifts)."""
    schedule = data.draw(schedules("u", t))
    probes = [t, *(e for a in schedule.activities() for e in (a.start, a.end))]
    for at in probes:
        expected = scan(((a.start, a.end, a) for a in schedule.activities()), at)
        assert scan_activities(schedule, at) == expected
