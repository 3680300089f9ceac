"""Executor: turns a Plan into presence writes, confirms them, and records every one.

Public API:
- `Executor(client, audit, metrics, clock, *, backoff=None, workers=4, monotonic=time.monotonic)`
- `Executor.execute(plan, cycle_id, boundary=None, *, digest="", agents=None, observed=None,
  catalog=None, last_look=None) -> ExecutionReport` (thread-safe; returns once writes are
  confirmed and audited)
- `Executor.backoff` (`AgentBackoff`): `due(user_id)`, `snapshot()` so the loop can wake when the
  earliest backed-off agent is due; `Executor.close(timeout=None)` starts no new write and waits
  for the in-flight ones (their outcome records included).
- `Executor.recover() -> int`: resolves write intents a previous run left without an outcome
  (read the agents back, record what they show); the reconciler calls it before each cycle
  until it has succeeded once.
- `backoff_delay(failures, rand) -> float` (pure).

What one `execute` does:
1. A held plan (blast-radius guard) writes nothing: one `held` audit record per action.
2. Observe-mode actions write nothing: one `observed` record each.
3. An agent still in backoff is skipped with error code `backoff` until it is due.
   The last look (the caller's, see engine/observed.py): an agent that changed since the plan
   read it is skipped with error code `changed`, for the caller to re-plan.
4. The rest are written through the client (and so its shared rate budget): agents going to a
   presence without a message in bulk (PUT /users/presences/bulk, chunks of 50) when there are
   at least two, the others one by one (PATCH), on a small thread pool. A failed bulk chunk is
   retried agent by agent so the one bad agent is isolated — unless the failure is one every
   agent would share (401, 403, 429: auth, permission, quota), which fails the chunk as is.
   An accepted bulk chunk is never written again, whatever shape its answer has (an agent whose
   answer entry cannot be matched is confirmed by the read-back alone): one write per agent.
5. The written agents are read back in bulk (GET …/presences/purecloud/bulk); a write counts as
   ok only once the read-back shows the target. Write -> confirmed latency goes to the audit and
   `presencectl_write_to_event_seconds`; boundary -> write to `presencectl_boundary_to_write_seconds`.
6. Failures put the agent in exponential backoff (5 s doubling to 15 min, ±20 % jitter); a
   confirmed write clears it.

Audit, write-ahead: before a chunk (or a single write) is sent, one `intent` record per agent is
fsync'd; the chunk is sent only once that returned. The `outcome` records and the cycle's other
records follow in one fsync'd batch at the end. When the audit cannot be written, nothing more
is sent (fail closed): the remaining writes are skipped with `audit-unavailable`, outcome
records that could not be written are kept and written first by the next execute, and the
report carries `audit_error`. After `close()`, chunks not yet started are skipped (`shutdown`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from controller.audit import (
    AuditMode,
    AuditRecord,
    AuditResult,
    AuditUnavailable,
    AuditWriter,
    Outcome,
    OutcomeBacklog,
    Phase,
    PresenceRef,
    pending_intents,
)
from controller.core.batches import write_batches
from controller.core.domain import Agent, ObservedAgent, PresenceCatalog
from controller.core.planner import Action, Plan
from controller.core.presence import SystemPresence
from controller.genesys import (
    Backoff,
    Fenced,
    GenesysClient,
    GenesysError,
    PresenceUpdate,
    Superseded,
    UserPresence,
    WriteAbandoned,
)
from controller.metrics import Metrics
from controller.model.types import NOWHERE, Mode

_log = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 15 * 60.0
# The client's one backoff formula, kept within ±20 % of nominal: a failed agent waits 5 s doubling
# to 15 min, never retried at once by an unlucky draw.
WRITE_BACKOFF = Backoff(base_seconds=5.0, cap_seconds=BACKOFF_CAP_SECONDS, low=0.8, high=1.2)


def fenced() -> GenesysError:
    """A write refused because the coordination lease could not be proven (never sent)."""
    return Fenced("not written: this replica cannot prove it holds the coordination lease", code=FENCED)


# Failures every agent of a bulk chunk would share: retrying one by one only burns the budget.
_SHARED_FAILURES = frozenset({401, 403, 429})
AUDIT_DOWN = AuditUnavailable.code  # a write not sent because its intent could not be recorded
SHUTDOWN = "shutdown"  # error code of a write not sent because the executor was closing
FENCED = "fenced"  # error code of a write not sent: this replica could not prove its lease
CHANGED = "changed"  # error code of a write not sent: the agent changed after the plan read it
# The last look before sending: of these agents, the ones that changed since the plan read them.
LastLook = Callable[[Sequence[str]], set[str]]


def backoff_delay(failures: int, rand: float) -> float:
    """Seconds to wait after the `failures`-th consecutive failure (>= 1); `rand` in [0, 1)."""
    return WRITE_BACKOFF.delay(failures - 1, rand)


class AgentBackoff:
    """Per-agent failure count and due time; thread-safe."""

    def __init__(self, rand: Callable[[], float] = random.random) -> None:
        self._rand = rand
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, datetime]] = {}  # user id -> (failures, due)

    def failed(self, user_id: str, now: datetime) -> datetime:
        with self._lock:
            failures = self._state.get(user_id, (0, now))[0] + 1
            due = now + timedelta(seconds=backoff_delay(failures, self._rand()))
            self._state[user_id] = (failures, due)
            return due

    def succeeded(self, user_id: str) -> None:
        with self._lock:
            self._state.pop(user_id, None)

    def due(self, user_id: str) -> datetime | None:
        with self._lock:
            entry = self._state.get(user_id)
            return entry[1] if entry else None

    def failures(self, user_id: str) -> int:
        with self._lock:
            return self._state.get(user_id, (0, None))[0]

    def ready(self, user_id: str, now: datetime) -> bool:
        due = self.due(user_id)
        return due is None or due <= now

    def snapshot(self) -> Mapping[str, datetime]:
        """User id -> when the agent may be written again."""
        with self._lock:
            return MappingProxyType({uid: due for uid, (_, due) in self._state.items()})


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """One attempted write, after confirmation."""

    user_id: str
    ok: bool
    via: str  # "bulk" | "single"
    error_code: str | None = None
    correlation_id: str | None = None
    latency_seconds: float | None = None  # write -> confirmed by read-back
    live: UserPresence | None = None  # what the read-back showed (None: not read)
    sent: bool = True  # False: never sent (shutdown, audit unavailable); error_code says why


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    cycle_id: str
    held: bool
    writes: tuple[WriteOutcome, ...] = ()
    observed: tuple[str, ...] = ()  # observe-mode agents: drift recorded, not written
    backed_off: tuple[str, ...] = ()  # skipped: still in backoff
    held_actions: tuple[str, ...] = ()  # agents of a held plan
    audit_error: str | None = None  # the audit could not be written: writes stopped (fail closed)
    fenced: tuple[str, ...] = ()  # not written: this replica could not prove its lease (standby)
    changed: tuple[str, ...] = ()  # not written: the agent changed after the plan read it (last look)

    @property
    def ok(self) -> tuple[str, ...]:
        return tuple(w.user_id for w in self.writes if w.ok)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(w.user_id for w in self.writes if not w.ok)


@dataclass(slots=True)
class _Attempt:
    action: Action
    via: str
    started: float = 0.0  # monotonic, write sent
    written_at: datetime | None = None  # wall clock, write answered
    answer: UserPresence | None = None
    error: GenesysError | None = None
    correlation_id: str = ""  # of the write call (also when its answer could not be matched)
    write_id: str | None = None  # joins the intent and outcome records
    not_sent: str | None = None  # why it was never sent (AUDIT_DOWN, SHUTDOWN)


@dataclass(frozen=True, slots=True)
class _Context:
    cycle_id: str
    digest: str
    agents: Mapping[str, Agent]
    observed: Mapping[str, ObservedAgent]
    catalog: PresenceCatalog | None
    extra_reason: str = ""
    last_look: LastLook | None = None
    records: list[AuditRecord] = field(default_factory=list)
    audit_down: threading.Event = field(default_factory=threading.Event)  # stop sending


def _still_as_planned(ctx: _Context, agents: list[str]) -> Callable[[], None] | None:
    """The client asks this before each attempt of a write (after a budget wait, a 429 pause or a
    5xx retry, any of which can last seconds to minutes): the last look again, so a write planned
    on a state that changed meanwhile is not sent. A chunk goes whole or not at all."""
    look = ctx.last_look
    if look is None:
        return None

    def check() -> None:
        changed = look(agents)
        if changed:
            raise Superseded(f"{len(changed)} agent(s) changed after they were read: not sent", code=CHANGED)

    return check


def _error_code(error: GenesysError) -> str:
    if error.code:
        return error.code
    return f"http.{error.status}" if error.status else "no-response"


def _outcome(attempt: _Attempt, outcome: WriteOutcome) -> Outcome:
    error = attempt.error
    if isinstance(error, WriteAbandoned):  # shutdown while it waited to be sent (again)
        return Outcome.UNKNOWN if error.maybe_applied else Outcome.FAILED
    if error is not None:  # a 4xx is a refusal; no answer or a 5xx may still have applied it
        return Outcome.FAILED if 400 <= error.status < 500 else Outcome.UNKNOWN
    if outcome.ok and outcome.latency_seconds is not None:
        return Outcome.CONFIRMED  # the read-back shows it
    return Outcome.UNKNOWN  # accepted, then not seen: read-back failed, abandoned or differed


class ExecutorClosed(RuntimeError):
    """execute() after close()."""


class Executor:
    def __init__(
        self,
        client: GenesysClient,
        audit: AuditWriter,
        metrics: Metrics,
        clock: Callable[[], datetime],
        *,
        backoff: AgentBackoff | None = None,
        workers: int = 4,
        monotonic: Callable[[], float] = time.monotonic,
        fence: Callable[[], bool] = lambda: True,
    ) -> None:
        self._client = client
        self._fence = fence  # proof of the coordination lease, asked before every write batch
        self._audit = audit
        self._metrics = metrics
        self._clock = clock
        self._monotonic = monotonic
        self.backoff = backoff or AgentBackoff()
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="executor")
        self._cond = threading.Condition()
        self._inflight = 0
        self._closed = False
        self._halt = threading.Event()  # set by close(): start no new write
        self._unwritten: OutcomeBacklog[AuditRecord] = OutcomeBacklog()
        self._recovery_due = True

    # ---- lifecycle ----

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new executes, wait for in-flight ones (their writes, read-backs and audit
        batch) to finish; True when nothing was left running."""
        self._halt.set()
        with self._cond:
            self._closed = True
            drained = self._cond.wait_for(lambda: self._inflight == 0, timeout)
        self._pool.shutdown(wait=drained)
        return drained

    def _enter(self) -> None:
        with self._cond:
            if self._closed:
                raise ExecutorClosed("the executor is closed (shutting down); nothing was written")
            self._inflight += 1

    def _leave(self) -> None:
        with self._cond:
            self._inflight -= 1
            self._cond.notify_all()

    # ---- execute ----

    def execute(
        self,
        plan: Plan,
        cycle_id: str,
        boundary: datetime | None = None,
        *,
        digest: str = "",
        agents: Mapping[str, Agent] | None = None,
        observed: Mapping[str, ObservedAgent] | None = None,
        catalog: PresenceCatalog | None = None,
        last_look: LastLook | None = None,
    ) -> ExecutionReport:
        """Apply `plan` (see the module docstring). `agents` adds emails to the audit, `observed`
        the routing status before, `catalog` the labels and system presences of targets.
        `last_look`, given the agents about to be written, names those that changed since the plan
        read them: they are skipped (audited as `changed`) for the caller to re-plan."""
        self._enter()
        try:
            ctx = _Context(cycle_id, digest, agents or {}, observed or {}, catalog, last_look=last_look)
            if self._unwritten and not self._save_unwritten([]):
                ctx.audit_down.set()  # still failing: write nothing this time either
            report = self._execute(plan, ctx, boundary)
            self._save_unwritten(ctx.records)
            return replace(report, audit_error=self._audit.error)
        finally:
            self._leave()

    # ---- the audit, write-ahead ----

    def _save(self, records: Sequence[AuditRecord]) -> None:
        """Write `records` durably (AuditUnavailable when it cannot), keeping the metrics."""
        try:
            self._audit.write_batch(records)
        except AuditUnavailable:
            self._metrics.audit_write_failures_total.inc()
            self._metrics.audit_writable.set(0)
            raise
        self._metrics.audit_writable.set(1)

    def _save_unwritten(self, records: Sequence[AuditRecord]) -> bool:
        """Write earlier refused outcome records and then `records`; on failure keep the outcome
        records (their intents are on disk; drift and held records may go) for the next try."""
        try:
            self._unwritten.write(self._save, records)
        except AuditUnavailable:
            return False
        return True

    def audit_ok(self) -> bool:
        """True when the audit can be written: at once when nothing failed, else it retries the
        outcome records it kept, or probes the disk when there are none."""
        if self._audit.error is None and not self._unwritten:
            return True
        ok = self._save_unwritten([]) if self._unwritten else self._audit.probe()
        self._metrics.audit_writable.set(1 if ok else 0)
        return ok

    def _announce(self, ctx: _Context, actions: Sequence[Action]) -> dict[str, str] | str:
        """Put one intent per action on disk before anything is sent: their write ids, or why
        nothing may be sent (closing, or the audit cannot be written)."""
        if self._halt.is_set():
            return SHUTDOWN
        if ctx.audit_down.is_set():
            return AUDIT_DOWN
        if not self._fence():  # the coordination lease was lost mid-apply: nothing more is sent
            return FENCED
        ids = {a.user_id: uuid.uuid4().hex[:16] for a in actions}
        intents = [
            self._record(
                ctx, a, AuditMode.ENFORCED, AuditResult.PENDING, phase=Phase.INTENT, write_id=ids[a.user_id]
            )
            for a in actions
        ]
        try:
            self._save(intents)
        except AuditUnavailable:
            ctx.audit_down.set()
            return AUDIT_DOWN
        return ids

    def recover(self) -> int:
        """Resolve the intents a dead process left without an outcome: read those agents back
        and record what they show (confirmed, or unknown). Returns how many were resolved; on a
        read or audit failure nothing is recorded and the next call tries again."""
        if not self._recovery_due:
            return 0
        pending = pending_intents(self._audit.path)
        if pending:
            try:
                live = self._client.presence.get_presences({i.agent_id for i in pending})
                self._save([self._resolved(intent, live.get(intent.agent_id)) for intent in pending])
            except (GenesysError, AuditUnavailable) as error:
                _log.warning("write intents of a previous run stay unresolved", extra={"error": str(error)})
                return 0
            _log.warning(
                "resolved write intents a previous run left without an outcome",
                extra={"intents": len(pending), "agents": sorted({i.agent_id for i in pending})[:20]},
            )
        self._recovery_due = False
        return len(pending)

    def _resolved(self, intent: AuditRecord, live: UserPresence | None) -> AuditRecord:
        target = intent.desired.id if intent.desired else None
        seen = live is not None and live.presence_id == target
        after = None
        if live is not None:
            found = self._cached_catalog()
            definition = found.by_id(live.presence_id) if found else None
            after = PresenceRef(definition.label if definition else live.presence_id, live.presence_id)
        return replace(
            intent,
            time=self._clock(),
            phase=Phase.OUTCOME,
            result=AuditResult.OK if seen else AuditResult.FAILED,
            outcome=Outcome.CONFIRMED if seen else Outcome.UNKNOWN,
            error_code="recovered" if seen else "recovered-not-seen",
            after=after,
        )

    def _execute(self, plan: Plan, ctx: _Context, boundary: datetime | None) -> ExecutionReport:
        if plan.actions and not self._fence():  # a standby (or fenced leader) records nothing
            return ExecutionReport(ctx.cycle_id, held=False, fenced=tuple(a.user_id for a in plan.actions))
        if plan.held:
            self._metrics.plans_held_total.inc()
            held_ctx = replace(ctx, extra_reason=plan.held_reason)
            for action in plan.actions:
                ctx.records.append(
                    self._record(held_ctx, action, AuditMode.HELD, AuditResult.SKIPPED, error_code="held")
                )
            return ExecutionReport(
                ctx.cycle_id, held=True, held_actions=tuple(a.user_id for a in plan.actions)
            )
        now = self._clock()
        observed: list[str] = []
        backed_off: list[str] = []
        to_write: list[Action] = []
        for action in plan.actions:
            if action.mode is Mode.OBSERVE:
                observed.append(action.user_id)
                ctx.records.append(self._record(ctx, action, AuditMode.OBSERVED, AuditResult.SKIPPED))
            elif not action.writable:  # held per action without the plan flag: never written
                ctx.records.append(
                    self._record(ctx, action, AuditMode.HELD, AuditResult.SKIPPED, error_code="held")
                )
            elif not self.backoff.ready(action.user_id, now):
                backed_off.append(action.user_id)
                self._metrics.observe_correction(self._system_presence(ctx, action), "skipped")
                ctx.records.append(
                    self._record(ctx, action, AuditMode.ENFORCED, AuditResult.SKIPPED, error_code="backoff")
                )
            else:
                to_write.append(action)
        look = ctx.last_look
        changed = look([a.user_id for a in to_write]) if look is not None and to_write else set()
        for action in (a for a in to_write if a.user_id in changed):
            self._metrics.observe_correction(self._system_presence(ctx, action), "skipped")
            ctx.records.append(
                self._record(ctx, action, AuditMode.ENFORCED, AuditResult.SKIPPED, error_code=CHANGED)
            )
        attempts = self._write(ctx, [a for a in to_write if a.user_id not in changed])
        outcomes = self._confirm(attempts)
        for attempt, outcome in zip(attempts, outcomes, strict=True):
            self._finish(ctx, attempt, outcome, boundary)
        return ExecutionReport(
            ctx.cycle_id,
            held=False,
            writes=tuple(outcomes),
            observed=tuple(observed),
            backed_off=tuple(backed_off),
            changed=tuple(sorted(changed)),
        )

    # ---- writing ----

    def _write(self, ctx: _Context, actions: Sequence[Action]) -> list[_Attempt]:
        chunks, singles = write_batches(actions)
        futures = [self._pool.submit(self._write_chunk, ctx, chunk) for chunk in chunks]
        futures += [self._pool.submit(self._write_single, ctx, a) for a in singles]
        return [attempt for future in futures for attempt in future.result()]

    def _write_single(self, ctx: _Context, action: Action) -> list[_Attempt]:
        ids = self._announce(ctx, [action])
        if isinstance(ids, str):
            return [_Attempt(action, "single", not_sent=ids)]
        return [self._write_one(ctx, action, "single", ids[action.user_id])]

    def _write_one(self, ctx: _Context, action: Action, via: str, write_id: str) -> _Attempt:
        attempt = _Attempt(action, via, started=self._monotonic(), write_id=write_id)
        target = action.to.definition_id
        assert target is not None, "the planner only emits resolved targets"
        try:
            if not self._fence():
                raise fenced()
            attempt.answer = self._client.presence.set_presence(
                action.user_id, target, action.message or None, _still_as_planned(ctx, [action.user_id])
            )
        except GenesysError as error:
            attempt.error = error
        attempt.written_at = self._clock()
        return attempt

    def _write_chunk(self, ctx: _Context, chunk: list[Action]) -> list[_Attempt]:
        ids = self._announce(ctx, chunk)
        if isinstance(ids, str):
            return [_Attempt(a, "bulk", not_sent=ids) for a in chunk]
        started = self._monotonic()
        updates = [PresenceUpdate(a.user_id, a.to.definition_id or "") for a in chunk]
        try:
            answers = self._client.presence.set_presences(
                updates, _still_as_planned(ctx, [a.user_id for a in chunk])
            )
        except GenesysError as error:
            if error.status in _SHARED_FAILURES or isinstance(error, (WriteAbandoned, Fenced, Superseded)):
                return [
                    _Attempt(a, "bulk", started, self._clock(), None, error, write_id=ids[a.user_id])
                    for a in chunk
                ]
            _log.warning(
                "bulk presence write failed; writing agent by agent to isolate the failure",
                extra={"agents": len(chunk), "error": str(error), "correlation_id": error.context_id},
            )
            return [self._write_one(ctx, a, "single", ids[a.user_id]) for a in chunk]
        written_at = self._clock()
        # An agent whose answer entry cannot be matched (the echo's `id` need not be the user id,
        # docs/genesys-api.md#bulk-presence) was still written: the read-back confirms it. Writing
        # it again would double every write on an org whose echo we cannot match.
        return [
            _Attempt(
                a,
                "bulk",
                started,
                written_at,
                answers.echoes.get(a.user_id),
                correlation_id=answers.correlation_ids.get(a.user_id, ""),
                write_id=ids[a.user_id],
            )
            for a in chunk
        ]

    # ---- confirming ----

    def _confirm(self, attempts: Sequence[_Attempt]) -> list[WriteOutcome]:
        written = [a.action.user_id for a in attempts if a.error is None and a.not_sent is None]
        live: dict[str, UserPresence] = {}
        readback_error: GenesysError | None = None
        if written:
            try:
                live = self._client.presence.get_presences(written)
            except GenesysError as error:
                readback_error = error
                _log.warning(
                    "presence read-back failed; writes stay unconfirmed", extra={"error": str(error)}
                )
        confirmed_at = self._monotonic()
        outcomes: list[WriteOutcome] = []
        for attempt in attempts:
            action = attempt.action
            if attempt.not_sent is not None:
                outcomes.append(
                    WriteOutcome(action.user_id, False, attempt.via, attempt.not_sent, sent=False)
                )
                continue
            if attempt.error is not None:
                outcomes.append(
                    WriteOutcome(
                        action.user_id,
                        ok=False,
                        via=attempt.via,
                        error_code=_error_code(attempt.error),
                        correlation_id=attempt.error.context_id or None,
                    )
                )
                continue
            correlation = attempt.answer.correlation_id if attempt.answer else attempt.correlation_id
            now_live = live.get(action.user_id)
            if readback_error is not None:  # accepted by the API; we just could not look
                outcomes.append(WriteOutcome(action.user_id, True, attempt.via, None, correlation or None))
            elif now_live is not None and now_live.presence_id == action.to.definition_id:
                latency = confirmed_at - attempt.started
                outcomes.append(
                    WriteOutcome(
                        action.user_id, True, attempt.via, None, correlation or None, latency, now_live
                    )
                )
            else:
                outcomes.append(
                    WriteOutcome(
                        action.user_id, False, attempt.via, "unconfirmed", correlation or None, None, now_live
                    )
                )
        return outcomes

    def _finish(
        self, ctx: _Context, attempt: _Attempt, outcome: WriteOutcome, boundary: datetime | None
    ) -> None:
        action = attempt.action
        now = self._clock()
        if not outcome.sent:  # nothing happened to the agent: no backoff, no intent to complete
            self._metrics.observe_correction(self._system_presence(ctx, action), "skipped")
            ctx.records.append(
                self._record(
                    ctx, action, AuditMode.ENFORCED, AuditResult.SKIPPED, error_code=outcome.error_code
                )
            )
            return
        if outcome.ok:
            self.backoff.succeeded(action.user_id)
            if outcome.latency_seconds is not None:
                self._metrics.write_to_event_seconds.observe(outcome.latency_seconds)
            if boundary is not None and attempt.written_at is not None:
                self._metrics.boundary_to_write_seconds.observe(
                    max(0.0, (attempt.written_at - boundary).total_seconds())
                )
        else:
            due = self.backoff.failed(action.user_id, now)
            _log.warning(
                "presence write failed; agent backs off",
                extra={
                    "agent": action.user_id,
                    "error_code": outcome.error_code,
                    "correlation_id": outcome.correlation_id,
                    "retry_at": due.isoformat(),
                    "failures": self.backoff.failures(action.user_id),
                },
            )
        self._metrics.observe_correction(self._system_presence(ctx, action), "ok" if outcome.ok else "failed")
        after = None
        if outcome.live is not None:
            after = PresenceRef(self._label(ctx, outcome.live.presence_id, action), outcome.live.presence_id)
        elif outcome.ok:  # confirmed by the write's answer only (read-back failed)
            after = PresenceRef(action.to.name, action.to.definition_id)
        ctx.records.append(
            self._record(
                ctx,
                action,
                AuditMode.ENFORCED,
                AuditResult.OK if outcome.ok else AuditResult.FAILED,
                error_code=outcome.error_code,
                after=after,
                correlation_id=outcome.correlation_id,
                latency_ms=None if outcome.latency_seconds is None else outcome.latency_seconds * 1000,
                time=attempt.written_at or now,
                phase=Phase.OUTCOME,
                write_id=attempt.write_id,
                outcome=_outcome(attempt, outcome),
            )
        )

    # ---- audit helpers ----

    def _system_presence(self, ctx: _Context, action: Action) -> SystemPresence | None:
        catalog = ctx.catalog or self._cached_catalog()
        found = catalog.by_id(action.to.definition_id or "") if catalog else None
        return found.system_presence if found else None

    def _cached_catalog(self) -> PresenceCatalog | None:
        try:
            return self._client.presence.presence_catalog()  # cached by the client; the loop keeps it warm
        except GenesysError:
            return None

    def _label(self, ctx: _Context, presence_id: str, action: Action) -> str:
        if presence_id == action.to.definition_id:
            return action.to.name
        found = ctx.catalog.by_id(presence_id) if ctx.catalog else None
        return found.label if found else presence_id

    def _record(
        self,
        ctx: _Context,
        action: Action,
        mode: AuditMode,
        result: AuditResult,
        *,
        error_code: str | None = None,
        after: PresenceRef | None = None,
        correlation_id: str | None = None,
        latency_ms: float | None = None,
        time: datetime | None = None,
        phase: Phase | None = None,
        write_id: str | None = None,
        outcome: Outcome | None = None,
    ) -> AuditRecord:
        agent = ctx.agents.get(action.user_id)
        live = ctx.observed.get(action.user_id)
        reason = action.reason
        text = reason.detail + (f" [held: {ctx.extra_reason}]" if ctx.extra_reason else "")
        return AuditRecord(
            time=time or self._clock(),
            agent_id=action.user_id,
            agent_email=agent.email if agent else None,
            policy=action.policy,
            mode=mode,
            result=result,
            reason=text,
            reason_kind=str(reason.kind),
            reason_source=None if reason.location == NOWHERE else str(reason.location),
            cycle_id=ctx.cycle_id,
            desired=PresenceRef(action.to.name, action.to.definition_id),
            before=PresenceRef(
                action.from_label, action.from_presence_id, str(live.routing_status) if live else None
            ),
            after=after,
            error_code=error_code,
            correlation_id=correlation_id,
            latency_ms=latency_ms,
            digest=ctx.digest,
            phase=phase,
            write_id=write_id,
            outcome=outcome,
        )
