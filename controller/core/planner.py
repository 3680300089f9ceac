"""plan(desired, observed, now) -> the corrections to make, each explained; pure.

Per managed agent (sorted by user id), the first matching line decides:
  suspended policy              -> skip "suspended"
  desired_at says no opinion    -> skip "no-opinion"
  no observed presence          -> skip "unobserved"
  observed presence_id == target definition_id -> skip "in-desired"
  active Out of Office, unless rules.outOfOffice is enforce -> skip "out-of-office"
  observed system presence Offline (logged in to no client), unless rules.offlineAgents is
    enforce -> skip "logged-out" (On Queue would ring routed interactions at an empty desk)
  routing NOT_RESPONDING and the target is not off queue -> skip "not-responding" (such an
    agent is only ever written to take it off queue; no rule overrides this)
  routing INTERACTING/COMMUNICATING and respect_active_interactions -> skip "interacting"
  observed presence outside allowed_presences -> correct now (no grace, no break tolerance)
  the agent's own change (not our write) within grace_seconds, made at or after the last change
    of its desired presence (the desired presence is the same all over [modified, now]) -> skip "grace"
  the agent's own Break/Meal (system presence), younger than max_break_minutes -> skip "tolerated-break"
  otherwise                     -> an Action, mode of the policy (observe actions are never written)
Equality is by exact definition id: a secondary definition ("Lunch", system presence Meal) and
the system Meal definition are different presences, in both directions.

Blast-radius guard: limit = config.blast_radius.limit(managed) = max(minAgents, floor(percent *
managed / 100)), where managed counts every agent a policy selects (suspended ones too), also when
only some of them are planned (`only`: a targeted re-plan after an event), so three hand-made
changes are judged against the whole floor, not against the three agents looked at. When enforce
actions exceed the limit the whole plan is held: every action is kept (for the report and the
audit) with held=True, and none is writable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from types import MappingProxyType

from controller.core.domain import ActivityCode, Agent, AgentSchedule, ObservedAgent, PresenceCatalog
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.selection import Selection, SelectionConflict, select_agents
from controller.core.timeline import Decision, Reason, ReasonKind, desired_at, unchanged_since
from controller.model.types import DesiredState, Mode, PresencePolicy, PresenceTarget, Rules, Safeguard

# A presence change within this much of our own write is taken to be that write.
OWN_WRITE_TOLERANCE = timedelta(seconds=5)
MESSAGE_MAX = 120
_BREAKS = frozenset({SystemPresence.BREAK, SystemPresence.MEAL})
_EMPTY: Mapping[str, datetime] = MappingProxyType({})


class SkipKind(StrEnum):
    IN_DESIRED = "in-desired"
    INTERACTING = "interacting"
    GRACE = "grace"
    TOLERATED_BREAK = "tolerated-break"
    SUSPENDED = "suspended"
    NO_OPINION = "no-opinion"
    UNOBSERVED = "unobserved"
    LOGGED_OUT = "logged-out"
    OUT_OF_OFFICE = "out-of-office"
    NOT_RESPONDING = "not-responding"


# Skips that protect a person (not at the desk, not at work, not answering): listed per agent.
SAFETY_SKIPS = frozenset({SkipKind.LOGGED_OUT, SkipKind.OUT_OF_OFFICE, SkipKind.NOT_RESPONDING})


@dataclass(frozen=True, slots=True)
class Action:
    user_id: str
    policy: str
    from_presence_id: str
    from_label: str
    to: PresenceTarget  # definition_id always set
    message: str  # "" unless the target is in rules.message_required
    reason: Reason
    mode: Mode
    held: bool = False
    signs_out: bool = False  # the target is Offline: a logged-in agent's presence is signed out

    @property
    def writable(self) -> bool:
        """Whether the executor may write this: enforce mode and not held by the guard."""
        return self.mode is Mode.ENFORCE and not self.held


@dataclass(frozen=True, slots=True)
class Skip:
    user_id: str
    policy: str
    kind: SkipKind
    reason: Reason | None  # the decision's reason (None when suspended: nothing was evaluated)


@dataclass(frozen=True, slots=True)
class AgentDecision:
    user_id: str
    policy: str
    decision: Decision


@dataclass(frozen=True, slots=True)
class PolicyAdherence:
    """Managed agents of one policy, by how their live presence compares with the desired one."""

    policy: str
    managed: int
    in_desired: int
    out_of_desired: int
    no_opinion: int  # suspended, or the policy leaves them alone now
    unobserved: int

    @property
    def percent(self) -> float | None:
        judged = self.in_desired + self.out_of_desired
        return None if judged == 0 else 100.0 * self.in_desired / judged


@dataclass(frozen=True, slots=True)
class Plan:
    now: datetime
    actions: tuple[Action, ...]
    skipped: tuple[Skip, ...]
    decisions: tuple[AgentDecision, ...]
    adherence: tuple[PolicyAdherence, ...]  # per policy, sorted by name
    managed: int
    held: bool
    held_reason: str
    limit: int  # the blast-radius limit on enforce actions
    conflicts: tuple[SelectionConflict, ...]

    @property
    def writable(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.writable)


def in_desired(observed: ObservedAgent, target: PresenceTarget) -> bool:
    return observed.presence_id == target.definition_id


def adherence(
    decisions: Iterable[AgentDecision],
    observed: Mapping[str, ObservedAgent],
    policies: Iterable[str] = (),
) -> tuple[PolicyAdherence, ...]:
    """In/out of desired presence per policy; `policies` adds rows (zeros) for policies without agents."""
    rows: dict[str, list[int]] = {name: [0, 0, 0, 0, 0] for name in policies}
    for d in decisions:
        row = rows.setdefault(d.policy, [0, 0, 0, 0, 0])
        row[0] += 1
        live = observed.get(d.user_id)
        target = d.decision.target
        if target is None:
            row[3] += 1
        elif live is None:
            row[4] += 1
        elif in_desired(live, target):
            row[1] += 1
        else:
            row[2] += 1
    return tuple(PolicyAdherence(name, *rows[name]) for name in sorted(rows))


def _own_write(live: ObservedAgent, written: datetime | None) -> bool:
    if written is None or live.presence_modified is None:
        return False
    return abs(live.presence_modified - written) <= OWN_WRITE_TOLERANCE


def _label(live: ObservedAgent, catalog: PresenceCatalog) -> str:
    d = catalog.by_id(live.presence_id)
    return d.label if d is not None else live.system_presence.label


def _allowed_ids(policy: PresencePolicy, catalog: PresenceCatalog) -> frozenset[str] | None:
    names = policy.rules.allowed_presences
    if names is None:
        return None
    return frozenset(d.id for d in (catalog.resolve(n) for n in names) if d is not None)


def _safety_skip(rules: Rules, live: ObservedAgent, target: SystemPresence | None) -> SkipKind | None:
    """Why a person must not be written to now, whatever the rest of the policy says."""
    if live.out_of_office and rules.out_of_office is Safeguard.LEAVE:
        return SkipKind.OUT_OF_OFFICE
    if live.system_presence is SystemPresence.OFFLINE and rules.offline_agents is Safeguard.LEAVE:
        return SkipKind.LOGGED_OUT
    if live.routing_status is RoutingStatus.NOT_RESPONDING and target in (None, SystemPresence.ON_QUEUE):
        return SkipKind.NOT_RESPONDING
    return None


def _system_of(target: PresenceTarget, catalog: PresenceCatalog) -> SystemPresence | None:
    found = catalog.by_id(target.definition_id) if target.definition_id is not None else None
    return found.system_presence if found is not None else None


def _skip_kind(
    policy: PresencePolicy,
    live: ObservedAgent,
    allowed: frozenset[str] | None,
    written: datetime | None,
    now: datetime,
    since_boundary: Callable[[datetime], bool],
) -> SkipKind | None:
    """Why an out-of-desired agent is left as it is this cycle, or None to correct it."""
    rules = policy.rules
    if rules.respect_active_interactions and live.routing_status.busy_with_interaction:
        return SkipKind.INTERACTING
    if allowed is not None and live.presence_id not in allowed:
        return None
    modified = live.presence_modified
    if modified is None or _own_write(live, written):
        return None
    age = now - modified
    if rules.grace_seconds > 0 and age < timedelta(seconds=rules.grace_seconds) and since_boundary(modified):
        return SkipKind.GRACE
    if (
        rules.max_break_minutes is not None
        and live.system_presence in _BREAKS
        and age < timedelta(minutes=rules.max_break_minutes)
    ):
        return SkipKind.TOLERATED_BREAK
    return None


def _message(policy: PresencePolicy, target: PresenceTarget, reason: Reason) -> str:
    required = {n.casefold() for n in policy.rules.message_required}
    if target.name.casefold() not in required:
        return ""
    text = reason.detail
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


def plan(
    state: DesiredState,
    agents: Sequence[Agent],
    observed: Mapping[str, ObservedAgent],
    schedules: Mapping[str, AgentSchedule],
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    now: datetime,
    *,
    last_written: Mapping[str, datetime] = _EMPTY,
    only: Collection[str] | None = None,
    selection: Selection | None = None,
) -> Plan:
    """The corrections that bring managed agents to their desired presence at `now`.

    `agents` is the whole directory (the guard's population); `only`, when given, restricts the
    agents planned (their schedules and observations suffice). `state` must have its presences
    resolved (every PresenceTarget.definition_id set); `last_written` says when this daemon last
    wrote each agent, to tell its changes from theirs. `selection`, when given, must be
    select_agents(state, agents) (a caller planning often keeps it).
    """
    if selection is None:
        selection = select_agents(state, agents)
    allowed = {p.name: _allowed_ids(p, catalog) for p in state.policies}
    actions: list[Action] = []
    skipped: list[Skip] = []
    decisions: list[AgentDecision] = []
    by_id = {a.id: a for a in agents}
    planned = selection.by_agent.keys() if only is None else selection.by_agent.keys() & set(only)
    for user_id in sorted(planned):
        policy = selection.by_agent[user_id]
        if policy.suspend:
            skipped.append(Skip(user_id, policy.name, SkipKind.SUSPENDED, None))
            decisions.append(AgentDecision(user_id, policy.name, _suspended(policy)))
            continue
        agent, schedule = by_id[user_id], schedules.get(user_id)
        decision = desired_at(policy, agent, schedule, codes, catalog, now)
        decisions.append(AgentDecision(user_id, policy.name, decision))
        target = decision.target
        live = observed.get(user_id)
        kind: SkipKind | None
        if target is None:
            kind = SkipKind.NO_OPINION
        elif target.definition_id is None:
            raise ValueError(
                f"presence '{target.name}' ({target.location}) of policy {policy.name} is not resolved "
                "against the presence catalog; resolve desired presences before planning"
            )
        elif live is None:
            kind = SkipKind.UNOBSERVED
        elif in_desired(live, target):
            kind = SkipKind.IN_DESIRED
        else:
            kind = _safety_skip(policy.rules, live, _system_of(target, catalog)) or _skip_kind(
                policy,
                live,
                allowed[policy.name],
                last_written.get(user_id),
                now,
                partial(unchanged_since, policy, agent, schedule, codes, catalog, now=now),
            )
        if kind is not None:
            skipped.append(Skip(user_id, policy.name, kind, decision.reason))
            continue
        assert target is not None and live is not None
        actions.append(
            Action(
                user_id=user_id,
                policy=policy.name,
                from_presence_id=live.presence_id,
                from_label=_label(live, catalog),
                to=target,
                message=_message(policy, target, decision.reason),
                reason=decision.reason,
                mode=policy.mode,
                signs_out=_system_of(target, catalog) is SystemPresence.OFFLINE,
            )
        )
    managed = len(selection.by_agent)
    radius = state.config.blast_radius
    limit = radius.limit(managed)
    enforce = sum(1 for a in actions if a.mode is Mode.ENFORCE)
    held = enforce > limit
    held_reason = ""
    if held:
        held_reason = (
            f"{enforce} corrections exceed the blast-radius limit of {limit} "
            f"({radius}; {managed} managed); nothing is written"
        )
        actions = [replace(a, held=True) for a in actions]
    return Plan(
        now=now,
        actions=tuple(actions),
        skipped=tuple(skipped),
        decisions=tuple(decisions),
        adherence=adherence(decisions, observed, (p.name for p in state.policies)),
        managed=managed,
        held=held,
        held_reason=held_reason,
        limit=limit,
        conflicts=selection.conflicts,
    )


def _suspended(policy: PresencePolicy) -> Decision:
    return Decision(
        None, Reason(ReasonKind.NONE, policy.name, "policy suspended", policy.location), None, None
    )
