"""What the daemon learned, kept for the status page (shell: thread-safe, fed by the worker).

The worker calls `record(result, state)` after every cycle and the API client calls `on_call`
after every request; the HTTP thread calls `facts(...)`. Per agent the latest cycle that looked
at it wins (a full resync replaces everything), so an event's targeted re-plan shows at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime

from controller.core.planner import Action, Skip
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.timeline import local_date
from controller.engine.reconciler import CycleResult
from controller.model.types import DesiredState
from controller.status.view import AgentFacts, LastWrite, PolicyFacts, StatusFacts

_MINUTE = 60.0


def agent_facts(result: CycleResult) -> dict[str, AgentFacts]:
    """Per agent looked at by `result`, what its plan concluded (pure); an agent whose write was
    confirmed shows the read-back presence, no longer the one planned from."""
    actions: dict[str, Action] = {a.user_id: a for a in result.plan.actions}
    skips: dict[str, Skip] = {s.user_id: s for s in result.plan.skipped}
    confirmed = {w.user_id: w.live for w in result.report.writes if w.ok} if result.report else {}
    out: dict[str, AgentFacts] = {}
    for d in result.plan.decisions:
        if d.user_id not in result.agents:
            continue
        observed, action = result.observed.get(d.user_id), actions.get(d.user_id)
        live = confirmed.get(d.user_id)
        if live is not None and observed is not None:
            observed = replace(
                observed,
                presence_id=live.presence_id,
                system_presence=live.system_presence,
                presence_modified=live.modified,
                # Routing follows presence on the platform: On Queue is IDLE, the rest OFF_QUEUE.
                routing_status=(
                    RoutingStatus.IDLE
                    if live.system_presence is SystemPresence.ON_QUEUE
                    else RoutingStatus.OFF_QUEUE
                ),
            )
            action = None
        out[d.user_id] = AgentFacts(
            result.agents[d.user_id], d.policy, d.decision, observed, action, skips.get(d.user_id)
        )
    return out


def last_writes(result: CycleResult) -> dict[str, LastWrite]:
    """What the cycle did (or recorded) for each agent it acted on (pure)."""
    out: dict[str, LastWrite] = {}
    report = result.report
    labels = {a.user_id: a.to.name for a in result.plan.actions}
    for a in result.plan.actions:
        if a.held or a.mode.value == "observe":
            out[a.user_id] = LastWrite(result.now, a.to.name, "held" if a.held else "observed")
    if report is not None:
        for uid in report.backed_off:
            out[uid] = LastWrite(result.now, labels.get(uid, ""), "backoff")
        for w in report.writes:
            result_text = "ok" if w.ok else f"failed ({w.error_code})"
            out[w.user_id] = LastWrite(result.now, labels.get(w.user_id, ""), result_text, w.latency_seconds)
    return out


class StatusTracker:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._calls: deque[float] = deque()
        self._agents: dict[str, AgentFacts] = {}
        self._writes: dict[str, LastWrite] = {}
        self._last: CycleResult | None = None
        self._changing_at_next = 0
        self._today: dict[str, tuple[date, int, int]] = {}  # policy -> (local day, in, judged)

    def on_call(
        self, method: str, route: str, status: int, seconds: float, retries: int, limited: int
    ) -> None:
        """`ClientStats.add_listener` adapter: counts calls for the budget-use figure."""
        now = self._monotonic()
        with self._lock:
            self._calls.append(now)
            while self._calls and self._calls[0] < now - _MINUTE:
                self._calls.popleft()

    def calls_last_minute(self) -> int:
        now = self._monotonic()
        with self._lock:
            return sum(1 for t in self._calls if t >= now - _MINUTE)

    def record(self, result: CycleResult, state: DesiredState) -> None:
        facts = agent_facts(result)
        writes = last_writes(result)
        with self._lock:
            self._agents = facts if result.full else {**self._agents, **facts}
            self._writes.update(writes)
            self._last = result
            self._changing_at_next = len(result.boundary_agents)
            if result.full:
                self._count_today(result, state)

    def _count_today(self, result: CycleResult, state: DesiredState) -> None:
        zones = {p.name: p.timezone for p in state.policies}
        for row in result.plan.adherence:
            day = local_date(result.now, zones.get(row.policy, "UTC"))
            previous = self._today.get(row.policy)
            good, judged = (previous[1], previous[2]) if previous and previous[0] == day else (0, 0)
            self._today[row.policy] = (
                day,
                good + row.in_desired,
                judged + row.in_desired + row.out_of_desired,
            )

    def facts(
        self,
        state: DesiredState,
        *,
        loaded_at: datetime | None,
        desired_error: str,
        stream_connected: bool,
        held_reason: str,
        role: str = "single",
        audit_tail: tuple[Mapping[str, object], ...] = (),
    ) -> StatusFacts:
        calls = self.calls_last_minute()
        with self._lock:
            last = self._last
            today = {p: (100.0 * g / j if j else None) for p, (_, g, j) in self._today.items()}
            return StatusFacts(
                digest=state.digest,
                loaded_at=loaded_at,
                desired_error=desired_error,
                role=role,
                stream_connected=stream_connected,
                calls_last_minute=calls,
                budget_per_minute=state.config.rate_per_minute,
                last_cycle=last.now if last else None,
                next_boundary=last.next_boundary if last else None,
                changing_at_next=self._changing_at_next,
                held_reason=held_reason,
                policies=tuple(PolicyFacts(p.name, p.mode, p.suspend, p.timezone) for p in state.policies),
                agents=dict(self._agents),
                catalog=last.catalog if last else None,
                last_writes=dict(self._writes),
                adherence_today=today,
                audit_tail=audit_tail,
            )
