"""The observed cache: what it trusts without a read, what the last look makes of it, and that it
never replaces newer knowledge with older.

A read is stamped when it was sent and an event when it was received. Under load a read's answer
can arrive seconds late: after a write's confirmed entry, or after a stream event that named its
agent. Stored then, it would put back a state the platform has left, and the last look, trusting a
stream-watched agent's entry, would let a write through to an agent on an interaction (the chaos
suite's run 5 of series 2: a background resync read sent before the daemon's own write). Reads and
events are ordered by the cache's counter (`sending`), which a step of the clock cannot reorder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from controller.core.domain import ObservedAgent
from controller.core.presence import RoutingStatus, SystemPresence
from controller.engine.observed import ObservedCache, Sent

T0 = datetime(2026, 1, 1, 13, tzinfo=UTC)


def _seen(
    state: str = "p", routing: RoutingStatus = RoutingStatus.OFF_QUEUE, user_id: str = "agent"
) -> ObservedAgent:
    return ObservedAgent(user_id, state, SystemPresence.AVAILABLE, routing)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_an_entry_is_fresh_while_streamed_or_young_and_an_event_drops_it() -> None:
    cache = ObservedCache(max_age=timedelta(seconds=30))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    cache.read({"a": _seen(user_id="a"), "b": _seen(user_id="b")}, cache.sending(t0))
    assert cache.split(["a", "b", "c"], t0 + timedelta(seconds=30))[1] == ["c"]
    later = t0 + timedelta(minutes=5)
    assert cache.split(["a", "b"], later)[1] == ["a", "b"]
    cache.stream({"a"})
    assert list(cache.split(["a", "b"], later)[0]) == ["a"]
    cache.forget({"a"})  # an event named it
    assert cache.split(["a"], later)[1] == ["a"]
    cache.read({"a": _seen(user_id="a")}, cache.sending(later))
    cache.stream(())  # a channel dropped: nothing is vouched for by the stream
    assert cache.split(["a"], later + timedelta(minutes=1))[1] == ["a"]


def test_the_last_look_names_forgotten_and_changed_agents_and_rereads_old_unwatched_ones() -> None:
    cache = ObservedCache(last_look_age=timedelta(seconds=2))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    planned: dict[str, ObservedAgent] = {
        a: _seen(user_id=a) for a in ("old", "watched", "named", "moved", "young")
    }
    cache.read({a: o for a, o in planned.items() if a != "young"}, cache.sending(t0))
    cache.read({"young": planned["young"]}, cache.sending(t0 + timedelta(seconds=4)))
    cache.stream({"watched"})
    cache.forget({"named"})  # an event named it after the plan's read
    interacting = _seen(user_id="moved", routing=RoutingStatus.INTERACTING)
    cache.read({"moved": interacting}, cache.sending(t0 + timedelta(seconds=1)))
    changed, reread = cache.since_planned(planned, t0 + timedelta(seconds=5))
    assert changed == {"named", "moved"}
    assert reread == ["old"]  # "watched": a connected stream would have named it; "young": 1 s old
    changed, reread = cache.since_planned(planned, t0 + timedelta(seconds=2))
    assert (changed, reread) == ({"named", "moved"}, [])


def test_a_read_answered_after_an_event_named_its_agent_is_not_stored() -> None:
    cache = ObservedCache()
    cache.stream({"agent"})
    idle = _seen("on-queue", RoutingStatus.IDLE)
    resync = cache.sending(_at(0.1))  # a background resync read goes out
    writes = cache.sending(_at(0.2))  # the daemon writes Break, confirmed
    cache.written({"agent": _seen("break")}, writes, _at(0.5))
    cache.forget({"agent"})  # a hand change: the agent took an interaction
    cache.read({"agent": idle}, resync)  # the resync's answer arrives only now
    assert cache.split(["agent"], _at(3))[1] == ["agent"]  # unknown: read it, do not trust 0.1
    changed, _ = cache.since_planned({"agent": idle}, _at(3))
    assert changed == {"agent"}  # a write planned on the resync's read is not sent
    cache.read({"agent": _seen("on-queue", RoutingStatus.INTERACTING)}, cache.sending(_at(0.8)))
    assert cache.split(["agent"], _at(3))[0]["agent"].routing_status is RoutingStatus.INTERACTING


def test_a_late_answer_does_not_replace_a_newer_read_or_write() -> None:
    cache = ObservedCache()
    early, late = cache.sending(_at(1)), cache.sending(_at(1.1))
    cache.read({"agent": _seen("meal")}, late)
    cache.read({"agent": _seen("on-queue")}, early)  # sent first, answered last
    assert cache.split(["agent"], _at(2))[0]["agent"].presence_id == "meal"
    cache.written({"agent": _seen("break")}, cache.sending(_at(1.5)), _at(1.6))
    cache.read({"agent": _seen("meal")}, late)  # sent before the write was confirmed
    assert cache.split(["agent"], _at(2))[0]["agent"].presence_id == "break"


def test_an_event_after_the_writes_began_wins_over_the_write() -> None:
    """A confirmed write is not stored for an agent an event named after the cycle's writes began:
    the event may be a hand change made after the write, so the agent is read again."""
    cache = ObservedCache()
    writes = cache.sending(_at(1))
    cache.forget({"agent"})
    cache.written({"agent": _seen("break")}, writes, _at(1.5))
    assert cache.split(["agent"], _at(2))[1] == ["agent"]


# One agent's history, step by step: a read goes out, a pending read's answer arrives (the oldest
# or the newest pending), or an event names the agent.
_steps = st.lists(st.sampled_from(["send", "answer-oldest", "answer-newest", "event"]), max_size=40)


@given(_steps)
def test_the_entry_is_the_newest_read_sent_after_the_last_event(steps: list[str]) -> None:
    cache = ObservedCache()
    cache.stream({"agent"})  # fresh however old: only what the cache stores is tested
    pending: list[tuple[int, Sent]] = []  # reads sent, not answered: (index, stamp)
    answered: list[tuple[int, Sent]] = []  # answered since the last event
    last_event: int | None = None
    for index, step in enumerate(steps):
        if step == "send":
            pending.append((index, cache.sending(_at(index))))
        elif step == "event":
            cache.forget({"agent"})
            last_event, answered = cache.sending(_at(index)).order, []
        elif pending:
            sent_index, sent = pending.pop(0 if step == "answer-oldest" else -1)
            cache.read({"agent": _seen(f"read-{sent_index}")}, sent)
            answered.append((sent_index, sent))
    eligible = [(sent.order, i) for i, sent in answered if last_event is None or sent.order > last_event]
    fresh, _ = cache.split(["agent"], _at(len(steps)))
    if eligible:
        assert fresh["agent"].presence_id == f"read-{max(eligible)[1]}"
    else:
        assert fresh == {}
