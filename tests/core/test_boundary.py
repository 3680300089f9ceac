"""next_boundary and unchanged_since on hand-made timelines."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from controller.core.domain import ObservedAgent
from controller.core.planner import SkipKind, plan
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.selection import select_agents
from controller.core.timeline import next_boundary, unchanged_since
from controller.model.types import DesiredState, Override, Rules, ScheduleFollowing, Weekday
from tests.core.builders import CATALOG, CODES, SYS, act, agent, policy, schedule, shift_of, tgt, utc, window

A, B = agent(1), agent(2, frozenset({"g2"}))
WORK_DAY = schedule(
    A.id,
    shift_of(
        act(utc(2026, 11, 23, 9), 180, "c-work"),
        act(utc(2026, 11, 23, 12), 60, "c-work"),  # same presence: a new reason, not a boundary
        act(utc(2026, 11, 23, 13), 15, "c-break"),
    ),
)
FOLLOW = policy(schedule=ScheduleFollowing(off_shift=None))


def boundary_of(state: DesiredState, now_hour: float, schedules: dict[str, object] | None = None) -> object:
    agents = [A, B]
    by_agent = select_agents(state, agents).by_agent
    now = utc(2026, 11, 23) + timedelta(hours=now_hour)
    return next_boundary(by_agent, agents, schedules or {}, CODES, now, catalog=CATALOG)  # type: ignore[arg-type]


def test_a_change_of_reason_alone_is_not_a_boundary() -> None:
    assert boundary_of(DesiredState((FOLLOW,)), 10, {A.id: WORK_DAY}) == utc(2026, 11, 23, 13)
    assert boundary_of(DesiredState((FOLLOW,)), 13, {A.id: WORK_DAY}) == utc(2026, 11, 23, 13, 15)
    assert boundary_of(DesiredState((FOLLOW,)), 13.25, {A.id: WORK_DAY}) is None  # nothing after


def test_earliest_agent_wins_and_suspended_policies_do_not_count() -> None:
    windows = policy("w", group="g2", windows=(window("09:00", "17:00", "On Queue"),))
    both = DesiredState((FOLLOW, windows))
    assert boundary_of(both, 10, {A.id: WORK_DAY}) == utc(2026, 11, 23, 13)  # A's break
    assert boundary_of(both, 13.5, {A.id: WORK_DAY}) == utc(2026, 11, 23, 17)  # B's window end
    assert boundary_of(DesiredState((replace(windows, suspend=True),)), 10) is None
    assert boundary_of(DesiredState((policy(),)), 10) is None  # no rules: never changes


def test_an_agent_with_its_own_override_is_walked_on_its_own() -> None:
    mine = Override(B.id, tgt("Meeting"), until=utc(2026, 11, 23, 11))
    shared = policy("w", group="g1", windows=(window("09:00", "17:00", "On Queue"),), overrides=(mine,))
    both = replace(B, groups=frozenset({"g1"}))
    by_agent = select_agents(DesiredState((shared,)), [A, both]).by_agent
    now = utc(2026, 11, 23, 10)
    assert next_boundary(by_agent, [A, both], {}, CODES, now, catalog=CATALOG) == utc(2026, 11, 23, 11)
    assert next_boundary(by_agent, [A], {}, CODES, now, catalog=CATALOG) == utc(2026, 11, 23, 17)


def test_boundary_across_a_weekend_and_dst_in_local_time() -> None:
    p = policy(tz="America/New_York", windows=(window("09:00", "17:00", "On Queue"),))
    by_agent = select_agents(DesiredState((p,)), [A]).by_agent
    friday_evening = utc(2026, 3, 6, 23)  # 18:00 EST, Friday
    # Monday 09:00 EDT (the clocks went forward on Sunday) is 13:00 UTC, not 14:00
    assert next_boundary(by_agent, [A], {}, CODES, friday_evening, catalog=CATALOG) == utc(2026, 3, 9, 13)
    gap = policy(tz="America/New_York", windows=(window("02:30", "04:00", "Busy", frozenset({Weekday.SUN})),))
    by_agent = select_agents(DesiredState((gap,)), [A]).by_agent
    assert next_boundary(by_agent, [A], {}, CODES, utc(2026, 3, 8), catalog=CATALOG) == utc(2026, 3, 8, 7)


def test_unchanged_since_sees_through_reason_only_changes() -> None:
    since, now = utc(2026, 11, 23, 11, 59, 30), utc(2026, 11, 23, 12, 0, 10)
    assert unchanged_since(FOLLOW, A, WORK_DAY, CODES, CATALOG, since, now)
    assert not unchanged_since(FOLLOW, A, WORK_DAY, CODES, CATALOG, since, utc(2026, 11, 23, 13))
    assert unchanged_since(
        FOLLOW, A, WORK_DAY, CODES, CATALOG, utc(2026, 11, 23, 13), utc(2026, 11, 23, 13, 1)
    )


def test_grace_spans_a_reason_only_change_but_not_a_presence_change() -> None:
    p = replace(FOLLOW, rules=Rules(grace_seconds=60))
    modified = utc(2026, 11, 23, 11, 59, 30)
    away = {
        A.id: ObservedAgent(A.id, SYS[SystemPresence.AWAY], SystemPresence.AWAY, RoutingStatus.IDLE, modified)
    }
    at_noon = plan(
        DesiredState((p,)), [A], away, {A.id: WORK_DAY}, CODES, CATALOG, utc(2026, 11, 23, 12, 0, 10)
    )
    assert [s.kind for s in at_noon.skipped] == [SkipKind.GRACE]
    modified = utc(2026, 11, 23, 12, 59, 30)
    away = {A.id: replace(away[A.id], presence_modified=modified)}
    at_one = plan(
        DesiredState((p,)), [A], away, {A.id: WORK_DAY}, CODES, CATALOG, utc(2026, 11, 23, 13, 0, 10)
    )
    assert [a.to.definition_id for a in at_one.actions] == [SYS[SystemPresence.BREAK]]
