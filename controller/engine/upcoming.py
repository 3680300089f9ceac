"""The next boundary and who changes at it, kept incrementally (shell state over a pure walk).

Each managed agent's next change of desired presence (boundary.agent_changes) sits in a heap of
instants, each instant with its agents. After a cycle only the agents whose change has passed are
walked again; everything is walked again when the inputs change (desired state, external states,
directory, schedules, catalog) or the horizon runs short. An agent whose change passed without it
being planned (a cycle ran at or after the instant before the boundary wake did) is overdue: it is
reported as changing at once, so a boundary is never lost to a reschedule.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.core.domain import ActivityCode, Agent, AgentSchedule, PresenceCatalog
from controller.core.timeline import agent_changes
from controller.model.types import Override, PresencePolicy

HORIZON = timedelta(hours=24)  # walk each timeline this far; walked again at half of it


@dataclass(frozen=True)
class Inputs:
    """What the agents' timelines depend on, as one cycle saw it."""

    digest: str
    external: tuple[Override, ...]
    managed: Mapping[str, PresencePolicy]
    agents: Mapping[str, Agent]
    schedules: Mapping[str, AgentSchedule]
    codes: Mapping[str, ActivityCode]
    catalog: PresenceCatalog

    def same_as(self, other: Inputs) -> bool:
        """Identity for the big maps (cached objects of the org reader), value for the rest."""
        return (
            self.digest == other.digest
            and self.external == other.external
            and self.agents is other.agents
            and self.schedules is other.schedules
            and self.catalog == other.catalog
        )


class UpcomingChanges:
    def __init__(self, horizon: timedelta = HORIZON) -> None:
        self._horizon = horizon
        self._inputs: Inputs | None = None
        self._until: datetime | None = None
        self._heap: list[datetime] = []
        self._at: dict[datetime, set[str]] = {}
        self._overdue: set[str] = set()
        self._overdue_since: datetime | None = None
        self.walked = 0  # agents walked by the last refresh (bench and tests)

    def refresh(self, inputs: Inputs, now: datetime, planned: Collection[str]) -> None:
        """Bring the heap to `now`, after a cycle that planned `planned` at `now`."""
        due: set[str] = set()
        while self._heap and self._heap[0] <= now:
            at = heapq.heappop(self._heap)
            agents = self._at.pop(at, set())
            if agents and self._overdue_since is None:
                self._overdue_since = at
            due |= agents
        self._overdue |= due
        previous, until = self._inputs, self._until
        if (
            previous is None
            or until is None
            or not inputs.same_as(previous)
            or now >= until - self._horizon / 2
        ):
            self._rebuild(inputs, now)
        else:
            self._inputs = inputs
            self._add(inputs, due, now, until)
        self._overdue -= set(planned)
        if not self._overdue:
            self._overdue_since = None

    def next(self) -> tuple[datetime | None, frozenset[str]]:
        """(the next boundary, the agents changing at it); overdue agents come first, at once."""
        if self._overdue:
            return self._overdue_since, frozenset(self._overdue)
        if not self._heap:
            return None, frozenset()
        at = self._heap[0]
        return at, frozenset(self._at[at])

    def _rebuild(self, inputs: Inputs, now: datetime) -> None:
        self._inputs, self._until = inputs, now + self._horizon
        self._heap, self._at = [], {}
        self._add(inputs, inputs.managed.keys(), now, self._until)

    def _add(self, inputs: Inputs, agent_ids: Collection[str], now: datetime, until: datetime) -> None:
        agents = [inputs.agents[a] for a in sorted(agent_ids) if a in inputs.agents]
        self.walked = len(agents)
        changes = agent_changes(
            inputs.managed, agents, inputs.schedules, inputs.codes, now, catalog=inputs.catalog, until=until
        )
        for agent_id, at in changes.items():
            bucket = self._at.get(at)
            if bucket is None:
                bucket = self._at[at] = set()
                heapq.heappush(self._heap, at)
            bucket.add(agent_id)
