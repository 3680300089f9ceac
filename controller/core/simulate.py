"""A day of the desired state, boundary by boundary, without touching the org (pure).

`simulate_day` runs the planner at every boundary of [start, end) as the daemon would wake for
it, assuming every agent takes each presence it is told to (writes succeed, nobody drifts, no
interaction or login changes): the observed org after a boundary is the one before it with
the written agents in their new presence. Agents a policy leaves alone sit in Available (what
logging on shows) until a policy first gives them a presence. At day start every agent with a
desired presence is taken to be in it, written there by the daemon (yesterday's last boundary).

Per boundary it counts what the daemon would do: writes, bulk and single write calls
(controller.core.batches), the read-back of the written agents (bulk GET, BULK_CHUNK a call),
agents the blast-radius guard would hold. At a boundary the daemon plans the changing agents
against its observed cache, fresh while the stream is up (controller/engine/observed.py), so it
reads no presence there; full resyncs (which read everyone), directory and schedule refreshes
run on their own cadence and are not counted per boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from controller.core.batches import BULK_CHUNK, write_batches
from controller.core.domain import ActivityCode, Agent, AgentSchedule, ObservedAgent, PresenceCatalog
from controller.core.planner import plan
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.selection import select_agents
from controller.core.timeline import agent_changes, desired_at, target_key
from controller.model.types import DesiredState, PresencePolicy

_NO_OPINION = "-"


@dataclass(frozen=True, slots=True)
class OrgSnapshot:
    """The org as simulate sees it: agents, their schedules and activity codes, presences."""

    agents: Sequence[Agent]
    schedules: Mapping[str, AgentSchedule]
    codes: Mapping[str, ActivityCode]
    catalog: PresenceCatalog


@dataclass(frozen=True, slots=True)
class BoundaryStep:
    at: datetime
    changing: int  # agents whose desired presence changes here
    writes: int  # agents written
    bulk_calls: int
    single_calls: int
    read_calls: int  # read-backs of the writes
    held: int  # agents of a plan the blast-radius guard holds (nothing written)
    desired: Mapping[str, str]  # agent -> desired presence label from here on ("-": none)

    @property
    def write_calls(self) -> int:
        return self.bulk_calls + self.single_calls

    @property
    def api_calls(self) -> int:
        return self.write_calls + self.read_calls


@dataclass(frozen=True, slots=True)
class Day:
    start: datetime
    end: datetime
    managed: int
    rate_per_minute: int
    steps: tuple[BoundaryStep, ...]
    initial: Mapping[str, str]  # agent -> desired presence label at start

    def desired_at(self, t: datetime) -> Mapping[str, str]:
        """Agent -> desired presence label at `t` (from the last boundary at or before it)."""
        current = self.initial
        for step in self.steps:
            if step.at > t:
                break
            current = step.desired
        return current


def _label(catalog: PresenceCatalog, key: str | None, name: str) -> str:
    if key is None:
        return _NO_OPINION
    found = catalog.by_id(key)
    return found.label if found is not None else name


def desired_labels(
    managed: Mapping[str, PresencePolicy], org: OrgSnapshot, at: datetime
) -> dict[str, tuple[str | None, str]]:
    """Agent -> (target key, label) of its desired presence at `at` (suspended: none)."""
    out: dict[str, tuple[str | None, str]] = {}
    for agent in org.agents:
        policy = managed.get(agent.id)
        if policy is None:
            continue
        if policy.suspend:
            out[agent.id] = (None, _NO_OPINION)
            continue
        schedule = org.schedules.get(agent.id) if policy.schedule is not None else None
        target = desired_at(policy, agent, schedule, org.codes, org.catalog, at).target
        key = target_key(target)
        out[agent.id] = (key, _label(org.catalog, key, target.name if target else _NO_OPINION))
    return out


def _observed(user_id: str, presence_id: str, catalog: PresenceCatalog, at: datetime) -> ObservedAgent:
    found = catalog.by_id(presence_id)
    system = found.system_presence if found is not None else SystemPresence.AVAILABLE
    routing = RoutingStatus.IDLE if system is SystemPresence.ON_QUEUE else RoutingStatus.OFF_QUEUE
    return ObservedAgent(user_id, presence_id, system, routing, at)


def _calls(count: int, per_call: int) -> int:
    return -(-count // per_call)


def simulate_day(state: DesiredState, org: OrgSnapshot, start: datetime, end: datetime) -> Day:
    """The boundaries of [start, end) and what the daemon would do at each (see module doc).

    As the daemon does, each boundary plans only the agents whose desired presence changes there
    (the blast-radius guard still weighs every managed agent), and each agent's next change is
    walked again only once it has passed."""
    managed = select_agents(state, org.agents).by_agent
    available = org.catalog.system(SystemPresence.AVAILABLE)
    idle_id = available.id if available is not None else ""
    initial = desired_labels(managed, org, start)
    observed = {
        uid: _observed(uid, key if key is not None else idle_id, org.catalog, start)
        for uid, (key, _) in initial.items()
    }
    by_id = {a.id: a for a in org.agents}
    w = org

    def changes_after(agents: Iterable[Agent], t: datetime) -> dict[str, datetime]:
        return agent_changes(managed, agents, w.schedules, w.codes, t, catalog=w.catalog, until=end)

    upcoming = changes_after(org.agents, start)
    # Yesterday's boundaries put them there: the daemon's own writes, so a presence it set (e.g. a
    # scheduled Break running over midnight) is never taken for the agent's own tolerated break.
    written: dict[str, datetime] = {uid: start for uid, (key, _) in initial.items() if key is not None}
    current = dict(initial)
    steps: list[BoundaryStep] = []
    while upcoming:
        t = min(upcoming.values())
        changing = sorted(uid for uid, at in upcoming.items() if at == t)
        the_plan = plan(
            state, w.agents, observed, w.schedules, w.codes, w.catalog, t, last_written=written, only=changing
        )
        writable = the_plan.writable
        chunks, singles = write_batches(writable)
        for action in writable:
            target = action.to.definition_id or ""
            observed[action.user_id] = _observed(action.user_id, target, org.catalog, t)
            written[action.user_id] = t
        movers = [by_id[uid] for uid in changing]
        current.update(desired_labels(managed, replace(org, agents=movers), t))
        for uid in changing:
            del upcoming[uid]
        upcoming.update(changes_after(movers, t))
        steps.append(
            BoundaryStep(
                at=t,
                changing=len(changing),
                writes=len(writable),
                bulk_calls=len(chunks),
                single_calls=len(singles),
                read_calls=_calls(len(writable), BULK_CHUNK),
                held=len(the_plan.actions) if the_plan.held else 0,
                desired={uid: label for uid, (_, label) in current.items()},
            )
        )
    labels = {uid: label for uid, (_, label) in initial.items()}
    return Day(start, end, len(managed), state.config.rate_per_minute, tuple(steps), labels)
