"""Which policy manages which agent: pure, deterministic, conflicts reported rather than guessed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from controller.core.domain import Agent
from controller.model.types import DesiredState, PresencePolicy


@dataclass(frozen=True, slots=True)
class SelectionConflict:
    """An agent matched by several policies; `chosen` (first by name) manages it."""

    user_id: str
    chosen: str
    ignored: tuple[str, ...]

    def __str__(self) -> str:
        others = ", ".join(self.ignored)
        return f"agent {self.user_id} is selected by policies {self.chosen}, {others}; {self.chosen} applies"


@dataclass(frozen=True, slots=True)
class Selection:
    by_agent: Mapping[str, PresencePolicy]  # user id -> the one managing policy
    conflicts: tuple[SelectionConflict, ...]


def select_agents(state: DesiredState, agents: Sequence[Agent]) -> Selection:
    """Agent id -> managing policy. The loader forbids overlaps; should two policies still match
    one agent, the first by policy name wins (independent of file or input order) and the
    conflict is reported. Agents matched by no policy are unmanaged and absent."""
    policies = sorted(state.policies, key=lambda p: p.name)
    by_agent: dict[str, PresencePolicy] = {}
    conflicts: list[SelectionConflict] = []
    for agent in sorted(agents, key=lambda a: a.id):
        matching = [p for p in policies if p.agents.matches(agent)]
        if not matching:
            continue
        by_agent[agent.id] = matching[0]
        if len(matching) > 1:
            conflicts.append(
                SelectionConflict(agent.id, matching[0].name, tuple(p.name for p in matching[1:]))
            )
    return Selection(by_agent, tuple(conflicts))
