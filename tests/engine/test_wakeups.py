from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from controller.engine.wakeups import Wake, WakeReason, coalesce, triggers_wake

T0 = datetime(2026, 11, 24, 12, tzinfo=UTC)
agent_sets = st.one_of(st.none(), st.frozensets(st.sampled_from("abcdef"), min_size=1))
wakes = st.builds(
    Wake,
    st.sampled_from(list(WakeReason)),
    agent_sets,
    st.one_of(st.none(), st.integers(0, 600).map(lambda s: T0 + timedelta(seconds=s))),
)


@given(st.lists(wakes, min_size=1, max_size=8))
def test_coalesced_wake_covers_every_agent_asked_for(batch: list[Wake]) -> None:
    merged = coalesce(batch)
    if any(w.full for w in batch):
        assert merged.full
    else:
        assert merged.agents == frozenset().union(*(w.agents or frozenset() for w in batch))


@given(st.lists(wakes, min_size=1, max_size=8))
def test_a_boundary_keeps_its_instant_for_latency_accounting(batch: list[Wake]) -> None:
    merged = coalesce(batch)
    boundaries = [w for w in batch if w.reason is WakeReason.BOUNDARY]
    if boundaries:
        assert merged.reason is WakeReason.BOUNDARY
        assert merged.at == boundaries[0].at


def test_events_coalesce_to_the_earliest_receipt() -> None:
    late = Wake(WakeReason.EVENT, frozenset({"a"}), T0 + timedelta(seconds=5))
    early = Wake(WakeReason.WEBHOOK, frozenset({"b"}), T0)
    merged = coalesce([late, early])
    assert merged.at == T0
    assert merged.agents == frozenset({"a", "b"})


@given(st.lists(st.tuples(wakes, st.booleans()), min_size=1, max_size=8))
def test_a_trigger_pass_asked_for_survives_coalescing(batch: list[tuple[Wake, bool]]) -> None:
    asked = [replace(w, triggers=t) for w, t in batch] + [triggers_wake()]
    merged = coalesce(asked)
    assert merged.triggers
    assert merged.plans_presence == any(w.plans_presence for w, _ in batch)
    assert not triggers_wake().plans_presence and not coalesce([triggers_wake()]).plans_presence
