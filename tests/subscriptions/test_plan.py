"""Pure trigger planner: examples for each step kind, and properties over random live orgs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.model.types import EventSubscription, MatchCriterion, Mode
from controller.subscriptions.plan import (
    LiveTrigger,
    TriggerAction,
    TriggerStep,
    is_owned,
    marker_owner,
    plan_triggers,
    split_description,
    trigger_body,
)
from tests.subscriptions.builders import OWNER, live_of, sub


def actions(plan_steps: Sequence[TriggerStep]) -> list[tuple[str, str]]:
    return [(s.action.value, s.name) for s in plan_steps]


def test_marker_round_trip() -> None:
    body = trigger_body(sub(), OWNER)
    user_text, marker = split_description(body["description"])
    assert user_text == "notify the WFM team"
    assert marker is not None and marker.startswith("managed-by: presencectl/prod spec:")
    assert marker_owner(body["description"]) is not None
    assert split_description("just text") == ("just text", None)
    assert marker_owner("managed-by: presencectl/other spec:abc") == ("other", "abc")


def test_create_when_missing_and_unchanged_when_equal() -> None:
    plan = plan_triggers([sub()], [], OWNER)
    assert actions(plan.steps) == [("create", "break-watch")]
    plan = plan_triggers([sub()], [live_of(sub())], OWNER)
    assert actions(plan.steps) == [("unchanged", "break-watch")]
    assert plan.writes() == ()


def test_desired_change_is_an_update_with_field_diff() -> None:
    plan = plan_triggers([sub(event_ttl_seconds=120)], [live_of(sub())], OWNER)
    (step,) = plan.steps
    assert step.action is TriggerAction.UPDATE and not step.hand_edited
    assert [(d.field, d.live, d.desired) for d in step.diff] == [("eventTTLSeconds", "60", "120")]
    assert "desired state changed" in step.reason
    assert "eventTTLSeconds: 60 -> 120" in plan.table()


def test_hand_edit_is_detected_and_put_back_or_reported() -> None:
    edited = live_of(sub(), enabled=False, version=3)
    plan = plan_triggers([sub()], [edited], OWNER)
    (step,) = plan.steps
    assert step.action is TriggerAction.UPDATE and step.hand_edited and step.write
    assert "edited outside presencectl" in step.reason
    assert step.live is edited
    observe = plan_triggers([sub()], [edited], OWNER, Mode.OBSERVE)
    (step,) = observe.steps
    assert step.action is TriggerAction.UPDATE and step.hand_edited and not step.write
    assert observe.writes() == () and len(observe.changes()) == 1
    assert "observe" in observe.table()


def test_reordered_criteria_are_not_a_change() -> None:
    a = MatchCriterion("routingStatus.status", "Equal", "IDLE")
    b = MatchCriterion("presence.presenceDefinition.systemPresence", "In", values=("BREAK", "MEAL"))
    plan = plan_triggers([sub(match_criteria=(a, b))], [live_of(sub(match_criteria=(b, a)))], OWNER)
    assert actions(plan.steps) == [("unchanged", "break-watch")]


def test_topic_change_replaces_create_before_delete() -> None:
    old = live_of(sub())
    plan = plan_triggers([sub(topic_name="v2.users.{id}.presence")], [old], OWNER)
    (step,) = plan.steps
    assert step.action is TriggerAction.REPLACE and step.live is old
    assert step.diff[0].field == "topicName"


def test_prune_only_owned() -> None:
    mine = live_of(sub("gone"))
    other_owner = live_of(sub("gone-too"), owner="staging")
    unmarked = dataclasses.replace(live_of(sub("hand-made")), description="made in the UI")
    plan = plan_triggers([], [mine, other_owner, unmarked], OWNER)
    assert [(s.action, s.live) for s in plan.steps] == [(TriggerAction.DELETE, mine)]


def test_same_name_unowned_trigger_is_ignored_and_ours_created() -> None:
    unmarked = dataclasses.replace(live_of(sub()), description="someone else's")
    plan = plan_triggers([sub()], [unmarked], OWNER)
    assert actions(plan.steps) == [("create", "break-watch")]


def test_owned_duplicates_keep_oldest() -> None:
    first, second, third = live_of(sub()), live_of(sub()), live_of(sub())
    plan = plan_triggers([sub()], [first, second, third], OWNER)
    assert [(s.action, s.live) for s in plan.steps] == [
        (TriggerAction.UNCHANGED, first),
        (TriggerAction.DELETE, second),
        (TriggerAction.DELETE, third),
    ]


def test_half_done_replace_keeps_the_new_topic() -> None:
    # A crash after creating the replacement but before deleting the old trigger.
    new_sub = sub(topic_name="v2.users.{id}.presence")
    old, new = live_of(sub()), live_of(new_sub)
    plan = plan_triggers([new_sub], [old, new], OWNER)
    assert [(s.action, s.live) for s in plan.steps] == [
        (TriggerAction.UNCHANGED, new),
        (TriggerAction.DELETE, old),
    ]


def test_invalid_subscriptions_are_errors_and_never_pruned() -> None:
    bad = sub(event_ttl_seconds=60, delay_by_seconds=120)
    plan = plan_triggers([bad, sub("x", delay_by_seconds=5, event_ttl_seconds=None)], [live_of(sub())], OWNER)
    assert plan.steps == ()
    assert any("only one of eventTTLSeconds and delayBySeconds" in e for e in plan.errors)
    assert any("between 60 and 900" in e for e in plan.errors)
    plan = plan_triggers([sub("a"), sub("a")], [], OWNER)
    assert any("used twice" in e for e in plan.errors)
    plan = plan_triggers([sub(description="x" * 500)], [], OWNER)
    assert any("description is 500 characters" in e for e in plan.errors)


# --- properties ---------------------------------------------------------------------------------

names = st.sampled_from(["a", "b", "c", "d"])
subs = st.builds(
    sub,
    name=names,
    topic_name=st.sampled_from(["v2.users.{id}.activity", "v2.users.{id}.presence"]),
    enabled=st.booleans(),
    workflow_id=st.sampled_from(["wf-1", "wf-2"]),
    event_ttl_seconds=st.sampled_from([None, 10, 60]),
    description=st.sampled_from(["", "note", "two\nlines"]),
)
desired_sets = st.lists(subs, max_size=4, unique_by=lambda s: s.name)


@st.composite
def live_orgs(draw: st.DrawFn) -> list[LiveTrigger]:
    triggers = []
    for s in draw(st.lists(subs, max_size=6)):
        owner = draw(st.sampled_from([OWNER, OWNER, "staging"]))
        t = live_of(s, owner=owner)
        if draw(st.booleans()):
            t = dataclasses.replace(t, enabled=not t.enabled, version=t.version + 1)  # hand edit
        if draw(st.integers(0, 5)) == 0:
            t = dataclasses.replace(t, description="hand-made")
        triggers.append(t)
    return triggers


def simulate(plan_steps: Sequence[TriggerStep], live: list[LiveTrigger]) -> list[LiveTrigger]:
    """What the org looks like after applying the steps (the API's effect, simplified)."""
    org = list(live)
    for s in plan_steps:
        if s.action in (TriggerAction.CREATE, TriggerAction.REPLACE):
            assert s.desired is not None
            org.append(live_of(s.desired))
        if s.action is TriggerAction.UPDATE:
            assert s.desired is not None and s.live is not None
            new = dataclasses.replace(live_of(s.desired), id=s.live.id, version=s.live.version + 1)
            org[org.index(s.live)] = new
        if s.action in (TriggerAction.REPLACE, TriggerAction.DELETE):
            assert s.live is not None
            org.remove(s.live)
    return org


@settings(max_examples=200, deadline=None)
@given(desired_sets, live_orgs())
def test_applying_the_plan_converges(desired: list[EventSubscription], live: list[LiveTrigger]) -> None:
    plan = plan_triggers(desired, live, OWNER)
    after = simulate(plan.writes(), live)
    again = plan_triggers(desired, after, OWNER)
    assert again.writes() == ()
    owned = [t for t in after if is_owned(t, OWNER)]
    assert sorted(t.name for t in owned) == sorted(s.name for s in desired)
    # Never touches what it does not own.
    assert [t for t in after if not is_owned(t, OWNER)] == [t for t in live if not is_owned(t, OWNER)]


@settings(max_examples=100, deadline=None)
@given(desired_sets, live_orgs())
def test_observe_plans_the_same_but_writes_nothing(
    desired: list[EventSubscription], live: list[LiveTrigger]
) -> None:
    enforce = plan_triggers(desired, live, OWNER)
    observe = plan_triggers(desired, live, OWNER, Mode.OBSERVE)
    assert observe.writes() == ()
    assert actions(observe.steps) == actions(enforce.steps)
    creates = [i for i, s in enumerate(enforce.steps) if s.action is not TriggerAction.DELETE]
    deletes = [i for i, s in enumerate(enforce.steps) if s.action is TriggerAction.DELETE]
    assert not creates or not deletes or max(creates) < min(deletes)


@settings(max_examples=100, deadline=None)
@given(desired_sets, live_orgs())
def test_a_held_plan_is_reported_but_writes_nothing(
    desired: list[EventSubscription], live: list[LiveTrigger]
) -> None:
    enforce = plan_triggers(desired, live, OWNER)
    held = plan_triggers(desired, live, OWNER, held="12 corrections exceed the blast-radius limit of 5")
    assert held.writes() == () and actions(held.steps) == actions(enforce.steps)
    assert all("held: not written" in s.reason for s in held.changes())
    assert not held.changes() or "HELD: 12 corrections exceed" in held.table()
