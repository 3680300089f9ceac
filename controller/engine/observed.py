"""What the daemon last saw of each agent, with how fresh it is (shell state, not the core).

Fed by every presence read, by every confirmed write and by the Notifications stream: an event
names an agent whose presence or routing changed, so its entry is dropped (the event's targeted
re-plan reads it again). An entry is fresh while its agent is watched by a connected stream (any
change would have dropped it) or, for an agent no stream watches, for `max_age` after the read.
A boundary re-plan plans against fresh entries and reads only the others, in bulk: the boundary
is met without re-reading the org. Full resyncs still read everyone (the safety net).

The last look (`since_planned`): right before a write is sent, an agent an event named since the
plan read it, or that a newer read shows changed, is not written (it is re-planned); one no stream
watches whose read is older than LAST_LOOK_AGE is read again first. A full resync's reads of a
large org take seconds to minutes, and an agent may pick up an interaction meanwhile.

Newer knowledge is never replaced by older. Every read takes a `Sent` stamp right before it goes
out (`sending`), and an event records when it named its agents, both on the cache's own counter
(a step of the clock cannot reorder them). A read's answer for an agent is dropped when an event
named the agent after the read was sent, or when the entry it would replace is from a later read
or a confirmed write: a slow read (a background resync's, late under load) must not put back a
state that an event or a write has since made old.

Entries are (ObservedAgent, Sent) tuples in one dict: about 10,000 agents take a few MB.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from controller.core.domain import ObservedAgent
from controller.core.presence import RoutingStatus, SystemPresence
from controller.genesys import UserPresence

OBSERVED_MAX_AGE = timedelta(seconds=30)  # an unwatched agent's entry, trusted this long after its read
# How old a read of an agent no stream watches may be when a write to it is sent: an older one is
# read again first (the last look). The platform takes no precondition on a presence write, so
# the window left is that read's round trip.
LAST_LOOK_AGE = timedelta(seconds=2)


def same_state(a: ObservedAgent, b: ObservedAgent) -> bool:
    """The facts a plan rests on: presence, routing status (an interaction), Out of Office."""
    return (a.presence_id, a.routing_status, a.out_of_office) == (
        b.presence_id,
        b.routing_status,
        b.out_of_office,
    )


def after_write(before: ObservedAgent, live: UserPresence, at: datetime) -> ObservedAgent:
    """The agent as a confirmed write leaves it: the presence read back, and the routing status it
    implies (only an On Queue agent is routed: On Queue takes an off-queue agent to IDLE, any other
    presence takes it off queue; docs/genesys-api.md#routing-status). The stream's event for the
    write replaces the entry with what the platform says."""
    routing = before.routing_status
    if live.system_presence is SystemPresence.ON_QUEUE:
        if routing is RoutingStatus.OFF_QUEUE:
            routing = RoutingStatus.IDLE
    else:
        routing = RoutingStatus.OFF_QUEUE
    return replace(
        before,
        presence_id=live.presence_id,
        system_presence=live.system_presence,
        message=live.message,
        presence_modified=live.modified or at,
        routing_status=routing,
    )


@dataclass(frozen=True, slots=True)
class Sent:
    """When a read (or a cycle's writes) went out: `order` among the cache's events, from a counter
    so that a step of the clock cannot reorder them, and `at` on the daemon's clock (the age)."""

    order: int
    at: datetime


class ObservedCache:
    def __init__(
        self, max_age: timedelta = OBSERVED_MAX_AGE, last_look_age: timedelta = LAST_LOOK_AGE
    ) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[ObservedAgent, Sent]] = {}
        self._streamed: frozenset[str] = frozenset()
        self._named: dict[str, int] = {}  # the order of the last event that named each agent
        self._order = itertools.count()
        self.max_age = max_age
        self.last_look_age = last_look_age

    def __len__(self) -> int:
        return len(self._entries)

    def stream(self, agents: Collection[str]) -> None:
        """The agents a connected stream watches now (empty while any channel is down)."""
        with self._lock:
            self._streamed = frozenset(agents)

    def sending(self, at: datetime) -> Sent:
        """Take right before sending a read: its answer is stored with it (see `read`)."""
        with self._lock:
            return Sent(next(self._order), at)

    def forget(self, agents: Iterable[str]) -> None:
        """An event named these agents: what we saw of them is no longer what they are, and no
        read sent before now tells what they are."""
        with self._lock:
            order = next(self._order)
            for agent in agents:
                self._entries.pop(agent, None)
                self._named[agent] = order

    def read(self, observed: Mapping[str, ObservedAgent], sent: Sent) -> None:
        """A read's answer. An agent is not stored if an event named it after the read was sent,
        or if its entry is from a read sent later: the answer came late, older than what we know."""
        with self._lock:
            for uid, o in observed.items():
                entry = self._entries.get(uid)
                if self._named.get(uid, -1) < sent.order and (entry is None or entry[1].order < sent.order):
                    self._entries[uid] = (o, sent)

    def written(self, agents: Mapping[str, ObservedAgent], since: Sent, at: datetime) -> None:
        """Confirmed writes (the agent as the write left it, see `after_write`), newer than any read
        sent before now. `since` was taken before the cycle's first write: an agent an event named
        after it is not stored (the event may be a hand change after the write)."""
        with self._lock:
            now = Sent(next(self._order), at)
            for uid, o in agents.items():
                if self._named.get(uid, -1) < since.order:
                    self._entries[uid] = (o, now)

    def since_planned(
        self, planned: Mapping[str, ObservedAgent], now: datetime
    ) -> tuple[set[str], list[str]]:
        """The last look before writing to the agents of `planned` (what the plan saw of them):
        (changed, to read again). Changed: an event forgot the agent's entry since, or a newer read
        shows it otherwise. To read again: unchanged as far as we know, but no connected stream
        watches it and its entry is older than `last_look_age`."""
        changed: set[str] = set()
        stale: list[str] = []
        with self._lock:
            for agent, seen in planned.items():
                entry = self._entries.get(agent)
                if entry is None or not same_state(entry[0], seen):
                    changed.add(agent)
                elif agent not in self._streamed and now - entry[1].at > self.last_look_age:
                    stale.append(agent)
        return changed, stale

    def split(
        self, agents: Iterable[str], now: datetime, since: datetime | None = None
    ) -> tuple[dict[str, ObservedAgent], list[str]]:
        """(fresh entries, agents to read) for `agents` at `now`; entries read at or after `since`
        (a full read that just ended) count as fresh too."""
        fresh: dict[str, ObservedAgent] = {}
        stale: list[str] = []
        oldest = now - self.max_age if since is None else min(since, now - self.max_age)
        with self._lock:
            for agent in agents:
                entry = self._entries.get(agent)
                if entry is not None and (agent in self._streamed or entry[1].at >= oldest):
                    fresh[agent] = entry[0]
                else:
                    stale.append(agent)
        return fresh, stale
