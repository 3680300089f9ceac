"""next_boundary: the earliest instant after now at which some managed agent's desired presence
changes, so the daemon can wake exactly then. Pure; exact by construction.

Each agent's timeline is walked decision by decision (desired_at gives the interval each holds)
until its desired presence (definition id; "no opinion" counts as a presence) differs from the
one at `now`. Changes of reason alone (two back-to-back activities mapped to the same presence)
are not boundaries. Suspended policies never write, so they contribute none.

Termination: past the last dated fact (override, exception, schedule entry) a policy is weekly
periodic in local time, so a walk that sees no change for 8 days after it sees none ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from controller.core.domain import ActivityCode, Agent, AgentSchedule, PresenceCatalog
from controller.core.timeline.desired import desired_at, target_key
from controller.core.timeline.localtime import day_start
from controller.model.types import Override, PresencePolicy

_PERIOD = timedelta(days=8)  # a full local week, with room for DST shifts of the UTC axis


def _horizon(
    policy: PresencePolicy, overrides: Sequence[Override], schedule: AgentSchedule | None, now: datetime
) -> datetime:
    facts = [now]
    for o in overrides:
        facts.append(o.until)
    for e in policy.exceptions:
        facts.append(day_start(e.day + timedelta(days=2), policy.timezone))
    if schedule is not None:
        facts.extend(s.end for s in schedule.shifts)
        facts.extend(a.end for a in schedule.activities())
        facts.extend(d.end for d in schedule.time_off)
    return max(facts) + _PERIOD


def first_change(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    now: datetime,
    before: datetime | None = None,
) -> datetime | None:
    """The first instant > now at which this agent's desired presence changes, if earlier than
    `before` (when given)."""
    overrides = [o for o in policy.overrides if o.applies_to(agent)]
    stop = _horizon(policy, overrides, schedule, now)
    if before is not None and before < stop:
        stop = before
    decision = desired_at(policy, agent, schedule, codes, catalog, now)
    initial = target_key(decision.target)
    t = decision.valid_until
    while t is not None and t < stop:
        decision = desired_at(policy, agent, schedule, codes, catalog, t)
        if target_key(decision.target) != initial:
            return t
        t = decision.valid_until
    return None


def unchanged_since(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    since: datetime,
    now: datetime,
) -> bool:
    """Whether the desired presence is the same at every instant of [since, now]: i.e. `since`
    is at or after the last change of desired presence. Cheap for a short span (grace checks)."""
    if since > now:
        return True
    decision = desired_at(policy, agent, schedule, codes, catalog, since)
    initial = target_key(decision.target)
    t = decision.valid_until
    while t is not None and t <= now:
        decision = desired_at(policy, agent, schedule, codes, catalog, t)
        if target_key(decision.target) != initial:
            return False
        t = decision.valid_until
    return True


def agent_changes(
    policies_by_agent: Mapping[str, PresencePolicy],
    agents: Iterable[Agent],
    schedules: Mapping[str, AgentSchedule],
    codes: Mapping[str, ActivityCode],
    now: datetime,
    *,
    catalog: PresenceCatalog,
    until: datetime | None = None,
) -> dict[str, datetime]:
    """Each managed agent's first change of desired presence after now (and before `until`, when
    given); agents with none are absent. The daemon keeps these in a heap: the next boundary and
    exactly who changes at it, re-walking only the agents whose change has passed."""
    changes: dict[str, datetime] = {}
    shared: dict[tuple[int, tuple[Override, ...]], datetime | None] = {}
    for agent in agents:
        policy = policies_by_agent.get(agent.id)
        if policy is None or policy.suspend:
            continue
        change = _change(policy, agent, schedules, codes, catalog, now, until, shared)
        if change is not None:
            changes[agent.id] = change
    return changes


def _change(
    policy: PresencePolicy,
    agent: Agent,
    schedules: Mapping[str, AgentSchedule],
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    now: datetime,
    before: datetime | None,
    shared: dict[tuple[int, tuple[Override, ...]], datetime | None],
) -> datetime | None:
    """first_change, with one walk shared by the agents whose timeline depends on the policy alone
    (no schedule in play, no override of their own). A cached "no change before X" stays true
    while `before` only shrinks."""
    schedule = schedules.get(agent.id) if policy.schedule is not None else None
    if schedule is not None:
        return first_change(policy, agent, schedule, codes, catalog, now, before)
    key = (id(policy), tuple(o for o in policy.overrides if o.applies_to(agent)))
    if key not in shared:
        shared[key] = first_change(policy, agent, None, codes, catalog, now, before)
    return shared[key]


def next_boundary(
    policies_by_agent: Mapping[str, PresencePolicy],
    agents: Sequence[Agent],
    schedules: Mapping[str, AgentSchedule],
    codes: Mapping[str, ActivityCode],
    now: datetime,
    *,
    catalog: PresenceCatalog,
) -> datetime | None:
    """Earliest instant > now at which any managed agent's desired presence changes; None: never.

    `policies_by_agent` is Selection.by_agent; `catalog` is needed because a WFM activity's
    presence may come from its code's secondary presence or the catalog's system definitions.
    """
    best: datetime | None = None
    shared: dict[tuple[int, tuple[Override, ...]], datetime | None] = {}
    for agent in sorted(agents, key=lambda a: a.id):
        policy = policies_by_agent.get(agent.id)
        if policy is None or policy.suspend:
            continue
        change = _change(policy, agent, schedules, codes, catalog, now, best, shared)
        if change is not None and (best is None or change < best):
            best = change
    return best
