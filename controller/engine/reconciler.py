"""One reconcile cycle, read as a story: resolve, read, plan, write, record.

`Reconciler.cycle` is the only place where the pure core (planner, agent_changes) meets the
shell (client, org reader, executor, metrics). The daemon, `plan` and `apply` all call it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from controller.adherence.recorder import NoRecorder, PresenceRecorder
from controller.core.domain import Agent, ObservedAgent, PresenceCatalog
from controller.core.planner import Plan, SkipKind, plan
from controller.core.selection import Selection, select_agents
from controller.engine.executor import ExecutionReport, Executor
from controller.engine.observed import ObservedCache, Sent, after_write
from controller.engine.org_reader import OrgReader
from controller.engine.upcoming import Inputs, UpcomingChanges
from controller.genesys import GenesysClient, GenesysError, RateLimited
from controller.metrics import Metrics
from controller.model.types import DesiredState, Override, PresencePolicy

_log = logging.getLogger(__name__)

UNOBSERVED_WARN_CYCLES = 2  # full resyncs in a row an agent goes unread before a warning names it
UNOBSERVED_NAMED = 10  # agents named in that warning (the count covers the rest)


@dataclass(frozen=True)
class CycleResult:
    cycle_id: str
    now: datetime
    plan: Plan
    report: ExecutionReport | None  # None when nothing was to be written (dry run)
    next_boundary: datetime | None
    observed: Mapping[str, ObservedAgent]
    agents: Mapping[str, Agent]
    catalog: PresenceCatalog
    duration_seconds: float
    full: bool  # a full resync (all managed agents), not a targeted re-plan
    rechecks: Mapping[str, datetime] = field(default_factory=dict)  # agent -> when to look again
    boundary_agents: frozenset[str] = frozenset()  # the agents whose desired presence changes then
    read: int = 0  # agents whose presence this cycle read (the others came from the observed cache)


def recheck_times(
    the_plan: Plan, state: DesiredState, observed: Mapping[str, ObservedAgent]
) -> dict[str, datetime]:
    """When each agent left alone for grace or a tolerated break must be looked at again (pure):
    without this, an agent's own change would stand until the next periodic resync."""
    rules = {p.name: p.rules for p in state.policies}
    due: dict[str, datetime] = {}
    for skip in the_plan.skipped:
        live = observed.get(skip.user_id)
        if live is None or live.presence_modified is None or skip.policy not in rules:
            continue
        r = rules[skip.policy]
        if skip.kind is SkipKind.GRACE:
            due[skip.user_id] = live.presence_modified + timedelta(seconds=r.grace_seconds)
        elif skip.kind is SkipKind.TOLERATED_BREAK and r.max_break_minutes is not None:
            due[skip.user_id] = live.presence_modified + timedelta(minutes=r.max_break_minutes)
    return due


def unobserved_streaks(
    previous: Mapping[str, int], targets: Collection[str], observed: Collection[str], *, full: bool
) -> dict[str, int]:
    """Consecutive full resyncs each agent was asked for and not read (pure). A full resync adds
    one for every target not read and forgets the rest; a targeted re-plan only forgets the
    agents it did read."""
    if full:
        return {a: previous.get(a, 0) + 1 for a in targets if a not in observed}
    return {a: n for a, n in previous.items() if a not in observed}


def with_external_overrides(state: DesiredState, overrides: Collection[Override]) -> DesiredState:
    """Add transient per-agent overrides (external WFM states) to every policy; each applies only
    to the agent it names, and an agent has one managing policy, so the result is exact."""
    if not overrides:
        return state
    extra = tuple(overrides)
    return state.with_policies(tuple(replace(p, overrides=p.overrides + extra) for p in state.policies))


class Reconciler:
    def __init__(
        self,
        client: GenesysClient,
        org_reader: OrgReader,
        metrics: Metrics,
        clock: Callable[[], datetime],
        executor: Executor | None = None,
        recorder: PresenceRecorder | None = None,
        owns: Callable[[str], bool] = lambda user_id: True,
    ) -> None:
        self._client = client
        self._recorder = recorder or NoRecorder()
        self._owns = owns  # sharded coordination: the agents this replica plans, reads and writes
        self._org_reader = org_reader
        self._metrics = metrics
        self._clock = clock
        self._executor = executor
        self._written: dict[str, tuple[datetime, str]] = {}  # agent -> (when, definition id we wrote)
        self._unobserved: dict[str, int] = {}  # agent -> full resyncs in a row it was not read
        self.observed = ObservedCache()
        self._selection: tuple[tuple[object, ...], Sequence[Agent], Selection] | None = None
        self._upcoming = UpcomingChanges()

    def cycle(
        self,
        state: DesiredState,
        *,
        only: Collection[str] | None = None,
        boundary: datetime | None = None,
        write: bool = True,
        external: Collection[Override] = (),
        cached: bool = False,
        read_since: datetime | None = None,
    ) -> CycleResult:
        """Plan (and, when `write`, apply) for all managed agents or just the `only` ones.

        `state` must be resolved against the live catalog (the loader does it); `boundary` is the
        instant this cycle was woken for, so boundary -> write latency can be measured. `cached`
        (a targeted re-plan only) plans against the fresh entries of the observed cache and reads
        just the others: a boundary is met without re-reading the org. `read_since` (a full
        resync whose reads were made off the worker from that instant, into the cache) plans
        everyone against those entries and reads only the agents they missed.
        """
        started = time.monotonic()
        now = self._clock()
        cycle_id = uuid.uuid4().hex[:12]
        try:
            result = self._cycle(state, cycle_id, now, only, boundary, write, external, cached, read_since)
        except RateLimited:
            self._metrics.observe_cycle("rate_limited", time.monotonic() - started)
            raise
        except Exception:
            self._metrics.observe_cycle("failed", time.monotonic() - started)
            raise
        duration = time.monotonic() - started
        self._metrics.observe_cycle("held" if result.plan.held else "ok", duration)
        return replace(result, duration_seconds=duration)

    def _cycle(
        self,
        state: DesiredState,
        cycle_id: str,
        now: datetime,
        only: Collection[str] | None,
        boundary: datetime | None,
        write: bool,
        external: Collection[Override],
        cached: bool,
        read_since: datetime | None,
    ) -> CycleResult:
        catalog = self._client.presence.presence_catalog()
        if write and self._executor is not None:
            self._executor.recover()  # a previous run's unfinished writes, before we look at agents
        # A targeted re-plan (boundary, event, poll) plans a few agents now: it never waits for a
        # re-read of the whole org's directory or schedules (the full resyncs refresh them).
        refresh = only is None
        directory = self._org_reader.directory(now, refresh=refresh)
        effective = with_external_overrides(state, external)
        selection = self._select(effective, (state.digest, tuple(external)), directory.agents)
        managed = selection.by_agent
        owned = {a for a in managed if self._owns(a)}
        targets = sorted(owned if only is None else set(only) & owned)
        schedules = self._org_reader.schedules(directory, owned, now, refresh=refresh)
        observed, read = self._observe(targets, now, cached and only is not None, read_since)
        agents = directory.by_id
        self._track_unobserved(effective, managed, targets, observed, agents, full=only is None)
        # The whole directory, so the blast-radius guard weighs a targeted re-plan against the
        # managed population; `only` narrows what is planned.
        the_plan = plan(
            effective,
            directory.agents,
            observed,
            schedules.by_agent,
            schedules.codes,
            catalog,
            now,
            last_written=self._own_writes(observed),
            only=targets,
            selection=selection,
        )
        report = None
        if write and self._executor is not None and the_plan.actions:
            writing_from = self.observed.sending(self._clock())  # no write of this cycle was sent before
            report = self._executor.execute(
                the_plan,
                cycle_id,
                boundary,
                digest=state.digest,
                agents=agents,
                observed=observed,
                catalog=catalog,
                last_look=lambda agents: self._last_look({a: observed[a] for a in agents}),
            )
            self._remember_writes(the_plan, report, observed, writing_from)
        changed = report.changed if report is not None else ()  # re-planned at once (a recheck)
        mine = {a: p for a, p in managed.items() if a in owned}  # boundaries of this replica's agents
        inputs = Inputs(
            state.digest, tuple(external), mine, agents, schedules.by_agent, schedules.codes, catalog
        )
        self._upcoming.refresh(inputs, now, targets)
        upcoming, changing = self._upcoming.next()
        self._record(the_plan, upcoming, full=only is None, now=now)
        return CycleResult(
            cycle_id,
            now,
            the_plan,
            report,
            upcoming,
            observed,
            agents,
            catalog,
            0.0,
            only is None,
            recheck_times(the_plan, effective, observed) | dict.fromkeys(changed, now),
            changing,
            read,
        )

    def prefetch(self, agents: Collection[str]) -> int:
        """Read, in bulk, the agents of a coming boundary whose cache entries will not be fresh
        then (no stream watches them): the boundary's re-plan then writes at once instead of
        reading first. Returns how many were read."""
        now = self._clock()
        _, stale = self.observed.split(sorted(a for a in agents if self._owns(a)), now)
        self._read(stale)
        return len(stale)

    def _read(self, agents: Sequence[str]) -> dict[str, ObservedAgent]:
        """Read `agents` in bulk, into the cache (stamped at sending: see engine/observed.py) and
        the adherence timeline."""
        if not agents:
            return {}
        sent = self.observed.sending(self._clock())
        read = self._client.presence.observe(agents)
        self.observed.read(read, sent)
        self._recorder.observe(read.values(), "read")
        return read

    def _select(self, state: DesiredState, key: tuple[object, ...], agents: Sequence[Agent]) -> Selection:
        """select_agents, kept while the desired state, external states and directory are the
        same (a boundary or an event re-plan then skips matching every agent of the org)."""
        cached = self._selection
        if cached is None or cached[0] != key or cached[1] is not agents:
            cached = self._selection = (key, agents, select_agents(state, agents))
        return cached[2]

    def _observe(
        self, targets: list[str], now: datetime, cached: bool, read_since: datetime | None
    ) -> tuple[dict[str, ObservedAgent], int]:
        """(what the targets look like, how many were read): all read, or only the stale ones."""
        use_cache = cached or read_since is not None
        fresh, stale = self.observed.split(targets, now, read_since) if use_cache else ({}, targets)
        return fresh | self._read(stale), len(stale)

    def _last_look(self, planned: Mapping[str, ObservedAgent]) -> set[str]:
        """Of the agents about to be written, those that changed since the plan read them (see
        engine/observed.py): stale reads are read again, in bulk, first. A failed read counts as
        changed: nothing is written on a state we could not confirm."""
        now = self._clock()
        changed, stale = self.observed.since_planned(planned, now)
        if stale:
            try:
                live = self._read(stale)
            except GenesysError as error:
                _log.warning(
                    "the last look before writing failed; those agents are re-planned",
                    extra={"agents": len(stale), "error": str(error), "correlation_id": error.context_id},
                )
                live = {}
            # Changed in the answer, missing from it, or named by an event while it was on its way.
            again, _ = self.observed.since_planned({a: planned[a] for a in stale}, now)
            changed.update(again, (a for a in stale if a not in live))
        if changed:
            _log.info(
                "agents changed since they were read: not written, re-planned",
                extra={"agents": len(changed), "sample": sorted(changed)[:UNOBSERVED_NAMED]},
            )
        return changed

    def _remember_writes(
        self,
        the_plan: Plan,
        report: ExecutionReport,
        observed: Mapping[str, ObservedAgent],
        writing_from: Sent,
    ) -> None:
        written_at = self._clock()
        targets_by_agent = {a.user_id: a.to.definition_id for a in the_plan.writable}
        confirmed: dict[str, ObservedAgent] = {}
        # A write sent and not confirmed left the agent in a state we do not know: read it next time.
        self.observed.forget(w.user_id for w in report.writes if w.sent and not w.ok)
        for outcome in report.writes:
            definition_id = targets_by_agent.get(outcome.user_id)
            if not outcome.ok or definition_id is None:
                continue
            self._written[outcome.user_id] = (written_at, definition_id)
            before = observed.get(outcome.user_id)
            if before is not None and outcome.live is not None:
                confirmed[outcome.user_id] = after_write(before, outcome.live, written_at)
        self.observed.written(confirmed, writing_from, written_at)
        self._recorder.observe(confirmed.values(), "write")

    def _track_unobserved(
        self,
        state: DesiredState,
        managed: Mapping[str, PresencePolicy],
        targets: Collection[str],
        observed: Mapping[str, ObservedAgent],
        agents: Mapping[str, Agent],
        *,
        full: bool,
    ) -> None:
        """An agent the presence reads did not return is left alone (never "no presence"); count
        them per policy, and name those unread for UNOBSERVED_WARN_CYCLES resyncs in a row."""
        self._unobserved = unobserved_streaks(self._unobserved, targets, observed, full=full)
        if not full:
            return
        per_policy = dict.fromkeys((p.name for p in state.policies), 0)
        for user_id in self._unobserved:
            name = managed[user_id].name
            per_policy[name] = per_policy.get(name, 0) + 1
        for policy, count in per_policy.items():
            self._metrics.agents_unobserved.labels(policy=policy).set(count)
        stuck = sorted(a for a, n in self._unobserved.items() if n >= UNOBSERVED_WARN_CYCLES)
        if stuck:
            named = [agents[a].email or a if a in agents else a for a in stuck[:UNOBSERVED_NAMED]]
            _log.warning(
                f"{len(stuck)} managed agent(s) unread by the presence reads for "
                f"{UNOBSERVED_WARN_CYCLES}+ resyncs, left alone: {', '.join(named)}"
                + (f" and {len(stuck) - len(named)} more" if len(stuck) > len(named) else "")
                + "; check that users/activity and GET /api/v2/users?expand=presence return them",
                extra={"agents": named, "count": len(stuck)},
            )

    def _own_writes(self, observed: Mapping[str, ObservedAgent]) -> dict[str, datetime]:
        """When we last wrote each agent that still shows what we wrote: a presence the agent
        chose after our write is theirs, however soon after it came (grace applies to it)."""
        return {
            user_id: at
            for user_id, (at, definition_id) in self._written.items()
            if user_id in observed and observed[user_id].presence_id == definition_id
        }

    def _record(self, the_plan: Plan, upcoming: datetime | None, *, full: bool, now: datetime) -> None:
        m = self._metrics
        if full:
            m.managed_agents.set(the_plan.managed)
            m.last_successful_resync_timestamp_seconds.set(now.timestamp())
            skipped = Counter(s.kind for s in the_plan.skipped)
            for kind in SkipKind:
                m.agents_skipped.labels(reason=kind.value).set(skipped[kind])
            for a in the_plan.adherence:
                m.agents_out_of_desired.labels(policy=a.policy).set(a.out_of_desired)
                m.agents_in_desired.labels(policy=a.policy).set(a.in_desired)
                if a.percent is not None:
                    m.agents_in_desired_ratio.labels(policy=a.policy).set(a.percent / 100.0)
        if upcoming is not None:
            m.next_boundary_timestamp_seconds.set(upcoming.timestamp())
        _log.info(
            "reconcile cycle",
            extra={
                "full": full,
                "managed": the_plan.managed,
                "actions": len(the_plan.actions),
                "writable": len(the_plan.writable),
                "held": the_plan.held,
                "next_boundary": upcoming.isoformat() if upcoming else None,
            },
        )
