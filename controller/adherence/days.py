"""The agent-days an adherence query asks for, from the live org and the timeline database:
shared by `presencectl adherence` and the daemon's daily export."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from controller.adherence.report import AgentDay, agent_days
from controller.adherence.store import TimelineStore
from controller.core.selection import select_agents
from controller.core.timeline import day_start
from controller.engine.session import Session
from controller.failures import LocalConfigError
from controller.model.types import PresencePolicy


@dataclass(frozen=True)
class Query:
    first: date
    last: date
    agent: str | None = None
    policy: str | None = None


def compute_days(session: Session, query: Query, database: str, now: datetime) -> list[AgentDay]:
    """The agent-days of the query from the live org and the timeline database."""
    state = session.state
    directory = session.org_reader.directory(now)
    managed = select_agents(state, directory.agents).by_agent
    if query.policy is not None and query.policy not in {p.name for p in state.policies}:
        names = ", ".join(sorted(p.name for p in state.policies))
        raise LocalConfigError(f"--policy {query.policy}: no such PresencePolicy (there are: {names})")
    chosen = {a: p for a, p in managed.items() if query.policy is None or p.name == query.policy}
    if query.agent is not None:
        agent = directory.find(query.agent)
        if agent is None or agent.id not in chosen:
            raise LocalConfigError(
                f"--agent {query.agent}: not an agent managed by {query.policy or 'any policy'}"
            )
        chosen = {agent.id: chosen[agent.id]}
    if not Path(database).exists():
        raise LocalConfigError(
            f"no adherence database at {database}: the daemon (presencectl run) records it"
        )
    start, end = _bounds(chosen.values(), query.first, query.last)
    schedules = session.org_reader.schedules_between(directory, chosen, start - timedelta(days=1), end, now)
    store = TimelineStore(database)
    try:
        spans = store.spans(start, end, chosen)
    finally:
        store.close()
    agents = [directory.by_id[a] for a in chosen]
    catalog = session.client.presence.presence_catalog()
    return agent_days(
        chosen, agents, schedules.by_agent, schedules.codes, catalog, spans, query.first, query.last
    )


def _bounds(policies: Iterable[PresencePolicy], first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC span of the local days [first, last] in every zone involved."""
    zones = {p.timezone for p in policies} or {"UTC"}
    return (
        min(day_start(first, z) for z in zones),
        max(day_start(last + timedelta(days=1), z) for z in zones),
    )
