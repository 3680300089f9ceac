"""plan(): each skip rule, observe/suspend, the blast-radius guard, selection conflicts, adherence."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from controller.core.domain import Agent, ObservedAgent
from controller.core.planner import Plan, SkipKind, adherence, plan
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.selection import select_agents
from controller.core.timeline import ReasonKind
from controller.model.types import (
    AgentSelector,
    BlastRadius,
    ControllerConfig,
    DesiredState,
    Mode,
    PresencePolicy,
    Rules,
    Safeguard,
)
from tests.core.builders import CATALOG, CODES, LUNCH_ID, SYS, agent, policy, utc, window

NOW = utc(2026, 11, 23, 10)  # Monday, inside 09:00-17:00
ON_QUEUE = SYS[SystemPresence.ON_QUEUE]
AGENTS = [agent(n) for n in range(1, 11)]


def live(
    a: Agent,
    presence: SystemPresence = SystemPresence.AVAILABLE,
    *,
    modified: datetime | None = None,
    routing: RoutingStatus = RoutingStatus.OFF_QUEUE,
    presence_id: str | None = None,
) -> ObservedAgent:
    return ObservedAgent(
        a.id,
        presence_id or SYS[presence],
        presence,
        routing,
        modified if modified is not None else NOW - timedelta(hours=2),
    )


UNLIMITED = BlastRadius(100, 1)


def state(*policies: PresencePolicy, blast_radius: BlastRadius = UNLIMITED) -> DesiredState:
    return DesiredState(policies=policies, config=ControllerConfig(blast_radius=blast_radius))


def base(**rules: object) -> PresencePolicy:
    return policy(windows=(window("09:00", "17:00", "On Queue"),), rules=Rules(**rules))  # type: ignore[arg-type]


def run(s: DesiredState, observed: dict[str, ObservedAgent], **kw: object) -> Plan:
    return plan(s, AGENTS, observed, {}, CODES, CATALOG, NOW, **kw)  # type: ignore[arg-type]


def kinds(p: Plan) -> dict[str, SkipKind]:
    return {s.user_id: s.kind for s in p.skipped}


def test_out_of_desired_agent_gets_an_explained_action() -> None:
    p = run(state(base()), {AGENTS[0].id: live(AGENTS[0])})
    (a,) = p.actions
    assert (a.user_id, a.from_presence_id, a.from_label, a.to.definition_id) == (
        AGENTS[0].id,
        SYS[SystemPresence.AVAILABLE],
        "Available",
        ON_QUEUE,
    )
    assert a.reason.kind is ReasonKind.WINDOW and a.mode is Mode.ENFORCE and a.writable and a.message == ""
    assert kinds(p)[AGENTS[1].id] is SkipKind.UNOBSERVED
    (row,) = p.adherence
    assert (row.managed, row.in_desired, row.out_of_desired, row.unobserved) == (10, 0, 1, 9)


def test_in_desired_is_exact_definition_id() -> None:
    a, b = AGENTS[0], AGENTS[1]
    lunch_policy = policy(windows=(window("09:00", "17:00", "Lunch"),))
    observed = {
        a.id: live(a, SystemPresence.MEAL, presence_id=LUNCH_ID),  # the Lunch secondary: in desired
        b.id: live(b, SystemPresence.MEAL),  # system Meal is not the Lunch secondary
    }
    p = run(state(lunch_policy), observed)
    assert kinds(p)[a.id] is SkipKind.IN_DESIRED
    assert [x.user_id for x in p.actions] == [b.id]
    assert p.actions[0].to.definition_id == LUNCH_ID


def test_interacting_agents_are_left_alone_unless_the_rule_is_off() -> None:
    a = AGENTS[0]
    observed = {a.id: live(a, routing=RoutingStatus.INTERACTING)}
    assert kinds(run(state(base()), observed))[a.id] is SkipKind.INTERACTING
    assert kinds(run(state(base()), {a.id: live(a, routing=RoutingStatus.COMMUNICATING)}))[a.id] is (
        SkipKind.INTERACTING
    )
    assert len(run(state(base(respect_active_interactions=False)), observed).actions) == 1


def test_grace_lets_an_own_recent_change_stand_after_the_boundary_only() -> None:
    a = AGENTS[0]
    recent = {a.id: live(a, modified=NOW - timedelta(seconds=30))}
    assert kinds(run(state(base(grace_seconds=60)), recent))[a.id] is SkipKind.GRACE
    assert len(run(state(base(grace_seconds=20)), recent).actions) == 1  # grace over
    # a change made before the desired presence took effect (09:00) gets no grace
    early = replace(policy(windows=(window("09:59:50", "17:00", "On Queue"),)), rules=Rules(grace_seconds=60))
    assert len(run(state(early), recent).actions) == 1
    # our own write is not the agent's change
    ours = {a.id: NOW - timedelta(seconds=31)}
    assert len(run(state(base(grace_seconds=60)), recent, last_written=ours).actions) == 1


def test_allowed_presences_are_corrected_without_grace_or_break_tolerance() -> None:
    a = AGENTS[0]
    recent = {a.id: live(a, SystemPresence.BREAK, modified=NOW - timedelta(seconds=5))}
    lax = base(grace_seconds=60, max_break_minutes=15)
    assert kinds(run(state(lax), recent))[a.id] is SkipKind.GRACE
    strict = base(grace_seconds=60, max_break_minutes=15, allowed_presences=frozenset({"On Queue", "Meal"}))
    assert len(run(state(strict), recent).actions) == 1
    inside = base(grace_seconds=60, allowed_presences=frozenset({"On Queue", "break"}))
    assert kinds(run(state(inside), recent))[a.id] is SkipKind.GRACE


def test_own_break_is_tolerated_up_to_max_break_minutes() -> None:
    a = AGENTS[0]
    p = base(grace_seconds=0, max_break_minutes=15)
    ten = {a.id: live(a, SystemPresence.MEAL, modified=NOW - timedelta(minutes=10))}
    assert kinds(run(state(p), ten))[a.id] is SkipKind.TOLERATED_BREAK
    twenty = {a.id: live(a, SystemPresence.BREAK, modified=NOW - timedelta(minutes=20))}
    assert len(run(state(p), twenty).actions) == 1
    away = {a.id: live(a, SystemPresence.AWAY, modified=NOW - timedelta(minutes=10))}
    assert len(run(state(p), away).actions) == 1


def test_message_required_carries_the_reason() -> None:
    a = AGENTS[0]
    p = base(message_required=frozenset({"on queue"}))
    (action,) = run(state(p), {a.id: live(a)}).actions
    assert action.message == "window Mon-Fri 09:00-17:00"


def test_observe_mode_and_suspend() -> None:
    a = AGENTS[0]
    observed = {a.id: live(a)}
    (obs,) = run(state(replace(base(), mode=Mode.OBSERVE)), observed).actions
    assert obs.mode is Mode.OBSERVE and not obs.writable
    suspended = run(state(replace(base(), suspend=True)), observed)
    assert suspended.actions == () and kinds(suspended)[a.id] is SkipKind.SUSPENDED


def test_no_opinion_and_unmanaged_agents() -> None:
    outside = replace(base(), windows=(window("11:00", "12:00", "On Queue"),))
    other_group = [agent(99, frozenset({"g2"}))]
    observed = {x.id: live(x) for x in AGENTS + other_group}
    p = plan(state(outside), AGENTS + other_group, observed, {}, CODES, CATALOG, NOW)
    assert p.actions == ()
    assert set(kinds(p).values()) == {SkipKind.NO_OPINION}
    assert agent(99).id not in kinds(p) and p.managed == len(AGENTS)


def test_blast_radius_holds_the_whole_plan() -> None:
    observed = {x.id: live(x) for x in AGENTS}
    quarter = BlastRadius(25, 1)
    held = run(state(base(), blast_radius=quarter), observed)  # limit floor(2.5) = 2 < 10
    assert held.held and held.limit == 2 and len(held.actions) == 10
    assert all(a.held and not a.writable for a in held.actions) and held.writable == ()
    assert "10 corrections exceed the blast-radius limit of 2" in held.held_reason
    three = {x.id: observed[x.id] for x in AGENTS[:2]}
    assert not run(state(base(), blast_radius=quarter), three).held  # 2 <= 2
    assert run(state(base(), blast_radius=BlastRadius(0, 1)), three).limit == 1  # the floor
    # observe-mode actions do not count towards the limit
    assert not run(state(replace(base(), mode=Mode.OBSERVE), blast_radius=quarter), observed).held


def test_blast_radius_floor_lets_a_few_changes_through_in_a_small_org() -> None:
    observed = {x.id: live(x) for x in AGENTS}
    floored = run(state(base(), blast_radius=BlastRadius(25, 10)), observed)  # max(10, 2) = 10
    assert not floored.held and floored.limit == 10 and len(floored.writable) == 10
    assert run(state(base(), blast_radius=BlastRadius(25, 9)), observed).held


def test_a_targeted_replan_is_weighed_against_the_managed_population() -> None:
    # Three agents changed by hand at once; the re-plan looks at those three only. 50 % of the
    # ten managed agents is 5, so the three corrections go through (50 % of 3 would hold them).
    hand_made = {x.id: live(x) for x in AGENTS[:3]}
    targeted = run(state(base(), blast_radius=BlastRadius(50, 1)), hand_made, only={x.id for x in AGENTS[:3]})
    assert targeted.managed == 10 and targeted.limit == 5
    assert not targeted.held and len(targeted.writable) == 3
    assert {d.user_id for d in targeted.decisions} == {x.id for x in AGENTS[:3]}
    # the same population decides the other way when more than half would change
    six = {x.id: live(x) for x in AGENTS[:6]}
    assert run(state(base(), blast_radius=BlastRadius(50, 1)), six, only=set(six)).held


def test_overlapping_policies_first_by_name_and_reported() -> None:
    b = policy("b-policy")
    a = policy("a-policy")
    sel = select_agents(state(b, a), AGENTS[:1])
    assert sel.by_agent[AGENTS[0].id].name == "a-policy"
    (conflict,) = sel.conflicts
    assert conflict.chosen == "a-policy" and conflict.ignored == ("b-policy",)
    email_only = PresencePolicy("mail", AgentSelector(emails=frozenset({AGENTS[2].email})), "UTC")
    assert set(select_agents(state(email_only), AGENTS).by_agent) == {AGENTS[2].id}


def test_adherence_percentages_per_policy() -> None:
    observed = {x.id: live(x, SystemPresence.ON_QUEUE) for x in AGENTS[:3]}
    observed[AGENTS[3].id] = live(AGENTS[3])
    p = run(state(base(), policy("idle", group="nobody")), observed)
    rows = {r.policy: r for r in adherence(p.decisions, observed, ["idle", "p"])}
    assert rows["p"].percent == 75.0 and rows["p"].out_of_desired == 1
    assert rows["idle"].managed == 0 and rows["idle"].percent is None
    assert p.adherence == tuple(rows[k] for k in sorted(rows))


def test_a_logged_out_agent_is_never_put_on_queue_unless_the_policy_enforces() -> None:
    a, b = AGENTS[0], AGENTS[1]
    observed = {a.id: live(a, SystemPresence.OFFLINE), b.id: live(b)}
    p = run(state(base()), observed)
    assert kinds(p)[a.id] is SkipKind.LOGGED_OUT  # Offline: logged in to no client
    assert [x.user_id for x in p.actions] == [b.id]
    # the old behaviour, now only on request: the logged-out agent is written On Queue
    enforced = run(state(base(offline_agents=Safeguard.ENFORCE)), observed)
    assert {x.user_id for x in enforced.actions} == {a.id, b.id}


def test_an_out_of_office_agent_is_left_alone_unless_the_policy_enforces() -> None:
    a = AGENTS[0]
    observed = {a.id: replace(live(a), out_of_office=True)}
    assert kinds(run(state(base()), observed))[a.id] is SkipKind.OUT_OF_OFFICE
    assert len(run(state(base(out_of_office=Safeguard.ENFORCE)), observed).actions) == 1
    # out of office and logged out: the first reason that applies is reported
    both = {a.id: replace(live(a, SystemPresence.OFFLINE), out_of_office=True)}
    assert kinds(run(state(base(out_of_office=Safeguard.ENFORCE)), both))[a.id] is SkipKind.LOGGED_OUT


def test_a_not_responding_agent_is_only_ever_taken_off_queue() -> None:
    a = AGENTS[0]
    # (NOT_RESPONDING off queue does not happen on the platform; the rule holds whatever is seen)
    stuck = {a.id: live(a, SystemPresence.AWAY, routing=RoutingStatus.NOT_RESPONDING)}
    enforce_all = base(offline_agents=Safeguard.ENFORCE, out_of_office=Safeguard.ENFORCE)
    assert kinds(run(state(enforce_all), stuck))[a.id] is SkipKind.NOT_RESPONDING
    # desired Break takes the agent off queue: written, and the audit keeps its NOT_RESPONDING
    on_queue = {a.id: live(a, SystemPresence.ON_QUEUE, routing=RoutingStatus.NOT_RESPONDING)}
    off = policy(windows=(window("09:00", "17:00", "Break"),))
    (action,) = run(state(off), on_queue).actions
    assert action.to.name == "Break" and not action.signs_out


def test_going_offline_is_marked_as_signing_the_presence_out() -> None:
    a = AGENTS[0]
    offline = policy(windows=(window("09:00", "17:00", "Offline"),))
    (action,) = run(state(offline), {a.id: live(a)}).actions
    assert action.signs_out
    assert not run(state(base()), {a.id: live(a)}).actions[0].signs_out
