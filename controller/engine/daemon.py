"""The reconcile daemon (`presencectl run`): level-triggered, woken exactly when needed.

Wake-ups (engine/wakeups.py) come from apscheduler (the next boundary, for just the agents
changing at it, planned against the observed cache; a jittered periodic full resync, whose reads
run off the worker in the budget's resync lane so corrections overtake them; a backed-off agent
falling due; bulk polling while the stream is down), from watchdog (desired/ changed), from the
Notifications stream (engine/drift.py) and from the signed webhook receiver. One worker thread
runs cycles one at a time, coalescing whatever queued up meanwhile, so events never race each
other and a burst of events costs one cycle.

The EventSubscription triggers are reconciled by the same worker (engine/triggers.py) on their
own jittered cadence (`triggers.intervalSeconds`), at start and on every desired/ change, after
the presence cycle of that wake: while the last full plan (or any later one) is held by the
blast-radius guard, trigger changes are recorded as held and not written.

A desired/ change is loaded as a whole; when the new set is invalid the last good one stays in
force and the error is logged and shown on /healthz. Only content changes wake it (reads do
not), and the files' digest is compared first: the same content costs no API call and no
cycle. SIGTERM stops intake, abandons reads at
once (a full read of a large org is simply dropped), lets the writes in flight finish with their
audit records, and exits 0 within seconds at any scale.

When the audit log cannot be written (disk full) the executor sends nothing (fail closed);
/healthz then answers 503 with the reason, `presencectl_audit_writable` is 0, and the daemon
retries every AUDIT_RETRY until a batch is written again.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from controller.adherence.daily import export_due, export_trigger, exporter_for, today_ratios
from controller.adherence.recorder import TimelineRecorder
from controller.adherence.store import TimelineStore
from controller.audit import AuditWriter
from controller.coordination import Coordinator, Role, build_coordinator
from controller.engine.desired_watch import DesiredWatch
from controller.engine.drift import DriftWatcher
from controller.engine.executor import Executor
from controller.engine.expiry import expiry_records
from controller.engine.reconciler import CycleResult, Reconciler
from controller.engine.session import Session, load_live, trigger_owner, utc_now
from controller.engine.triggers import TriggerReconciler
from controller.engine.wakeups import Wake, WakeReason, coalesce, triggers_wake
from controller.genesys import GenesysError, resync_lane
from controller.genesys.streaming import MAX_CHANNELS, TOPICS_PER_CHANNEL
from controller.http import HealthStatus, HttpServer
from controller.log import register_secrets
from controller.metrics import Metrics
from controller.model.errors import DesiredStateError, secrets_in
from controller.model.loader import content_digest
from controller.model.types import DesiredState, Override
from controller.status.audit_tail import audit_tail
from controller.status.routes import status_routes
from controller.status.tracker import StatusTracker
from controller.status.view import StatusView, build_status
from controller.webhook import (
    EXTERNAL_STATE_TTL,
    ExternalState,
    RecheckAgent,
    WebhookEvent,
    WebhookReceiver,
    external_override,
    webhook_routes,
)
from controller.webhook import load_secret as load_webhook_secret

_log = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(seconds=30)  # bulk polling while the stream is down or topics are refused
RETRY_AFTER_FAILURE = timedelta(seconds=30)  # a cycle the API refused is retried (in full) after this
WEDGED_AFTER = timedelta(minutes=5)  # /healthz fails when the worker has not looped for this long
AUDIT_RETRY = timedelta(seconds=10)  # while the audit log cannot be written, try again this often
RESYNC_CHUNK = 1000  # agents a background resync read hands to the cache at a time
PREFETCH_LEAD = timedelta(seconds=10)  # before a boundary, read its unstreamed agents (fresh 30 s)
SIGNAL_POLL_SECONDS = 0.2  # how soon the main thread runs a signal handler another thread received
WORKER_GRACE_SECONDS = 2.0  # after the writes drained, how long stop() waits for the worker to end
_TIMED = frozenset({WakeReason.BOUNDARY, WakeReason.RECHECK, WakeReason.BACKOFF})  # `at` = planned instant
_EVENTS = frozenset({WakeReason.EVENT, WakeReason.WEBHOOK})  # `at` = when the event was received


class Daemon:
    def __init__(
        self,
        directory: str,
        session: Session,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utc_now,
        http_bind: str | None = None,
        stream: bool = True,
        on_cycle: Callable[[CycleResult], None] | None = None,
        poll_interval: timedelta = POLL_INTERVAL,
        audit_retry: timedelta = AUDIT_RETRY,
        resync_chunk: int = RESYNC_CHUNK,
        coordinator: Coordinator | None = None,
        stream_limits: tuple[int, int] = (MAX_CHANNELS, TOPICS_PER_CHANNEL),
    ) -> None:
        self.directory = directory
        self.client = session.client
        self.org_reader = session.org_reader
        self.metrics = metrics or Metrics()
        self.client.stats.add_listener(self.metrics.api_call_listener)
        self.status = StatusTracker()  # what /status shows
        self.client.stats.add_listener(self.status.on_call)
        self._clock = clock
        self._state = session.state
        self._placement = session.placement
        cfg = session.state.config
        self.metrics.desired_state_valid.set(1)
        self.metrics.resync_interval_seconds.set(cfg.resync_interval_seconds)
        budget = self.client.budget
        self.metrics.rate_budget_per_minute.set_function(lambda: budget.rate_per_minute)
        self._audit = AuditWriter(cfg.audit_path, cfg.audit_rotate_bytes, cfg.audit_keep)
        self.timeline = TimelineStore(cfg.adherence_database)
        self.recorder = TimelineRecorder(self.timeline, clock)
        self._exporter = exporter_for(cfg, self.timeline, self.metrics, clock)
        # Only the replica that proves its lease writes (controller/coordination; `none`: always).
        self.coordinator = coordinator or build_coordinator(cfg.coordination, self.metrics)
        self.coordinator.on_change = lambda: self.wake(Wake(WakeReason.RESYNC, triggers=True))
        fence = self.coordinator
        self.client.set_write_guard(fence.holds)  # asked again at each write's send instant
        self.executor = Executor(self.client, self._audit, self.metrics, clock, fence=fence.may_write)
        self.reconciler = Reconciler(
            self.client, self.org_reader, self.metrics, clock, self.executor, self.recorder, fence.owns
        )
        self.triggers = TriggerReconciler(
            self.client.triggers, self._audit, self.metrics, clock, trigger_owner(), fence.may_write_cluster
        )
        self.client.budget.read_share = cfg.resync_read_share
        self._resync_chunk = resync_chunk
        self._resync_reader: threading.Thread | None = None
        self._held = ""  # the guard's reason while plans are held: no trigger is written either
        self._on_cycle = on_cycle
        self._audit_retry = audit_retry
        self._queue: queue.Queue[Wake] = queue.Queue()
        self._stop = threading.Event()
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._external: dict[str, Override] = {}
        self._desired_error = ""
        self._loaded_at = clock()
        self._seen_digest: str | None = session.state.digest  # content last loaded or rejected
        self._expired_audited: set[tuple[str, str, datetime]] = set()
        self._last_loop = time.monotonic()
        self._last_cycle: datetime | None = None
        self._ready = False
        self._streaming = stream
        self._stream_limits = stream_limits  # (channels, topics a channel) one OAuth client may hold
        self._stream_up = True
        self._poll_interval = poll_interval
        self._unwatched: frozenset[str] = frozenset()  # managed agents whose topics were refused
        self._watched: frozenset[str] = frozenset()
        self._rechecks: dict[str, datetime] = {}
        self._last_full: CycleResult | None = None  # what the adherence export reports
        self._drift: DriftWatcher | None = None
        self._receiver = self._webhook_receiver()
        routes = webhook_routes(self._receiver) if self._receiver is not None else []
        routes += status_routes(self.status_view)
        self._http = HttpServer(http_bind or cfg.http_bind, self.metrics, self.health, routes)
        self._files = DesiredWatch(directory, lambda: self.wake(Wake(WakeReason.DESIRED, triggers=True)))
        self._worker = threading.Thread(target=self._work, name="reconcile", daemon=True)
        self.http_port: int | None = None

    def now(self) -> datetime:
        """The daemon's clock (wall clock in production; the emulator's in time-travel tests)."""
        return self._clock()

    @property
    def desired(self) -> DesiredState:
        """The desired state in force (the last good one when a reload was rejected)."""
        return self._state

    def wait_streaming(self, timeout: float) -> bool:
        """Block until every notification channel is connected and subscribed (True), or the
        timeout passes (False); True at once when the daemon runs without the stream."""
        return self._drift is None or self._drift.wait_connected(timeout)

    # ---- intake (any thread) ----

    def wake(self, wake: Wake) -> None:
        if not self._stop.is_set():
            self._queue.put(wake)

    def _on_agents(self, agents: set[str], source: str) -> None:
        self.reconciler.observed.forget(agents)  # what we saw of them is not what they are now
        self.wake(Wake(WakeReason.EVENT, frozenset(agents), self._clock()))

    def _on_connection(self, up: bool) -> None:
        self._stream_up = up
        self._streamed()
        self.metrics.stream_connected.set(1 if up else 0)
        if not up:  # events may have been missed: look at everyone now, then poll until it is back
            self.wake(Wake(WakeReason.POLL))

    def _on_unwatched(self, agents: frozenset[str]) -> None:
        """The platform refused these agents' topics: no event will name them, so poll them (only
        them) on the poll interval, starting now for the newly refused."""
        newly = agents - self._unwatched
        self._unwatched = agents
        self._streamed()
        if newly:
            self.wake(Wake(WakeReason.POLL, newly))

    def _on_webhook(self, event: WebhookEvent) -> None:
        received = self._clock()  # one clock for every wake-up (the daemon's)
        if isinstance(event, RecheckAgent):
            self.reconciler.observed.forget({event.user_id})
            self.wake(Wake(WakeReason.WEBHOOK, frozenset({event.user_id}), received))
        elif isinstance(event, ExternalState):
            # The state holds from its receipt on the daemon's own clock: a sender's clock may be
            # skewed (or, in time-travel tests, the daemon follows the emulator's clock).
            # It began `age` before it was sent (the receiver refused it when older than the TTL).
            held_from = replace(event, time=self._clock() - event.age)
            self._external[event.agent] = external_override(held_from, event.mapping, EXTERNAL_STATE_TTL)
            self.wake(Wake(WakeReason.WEBHOOK, frozenset({event.agent}), received))

    def _webhook_receiver(self) -> WebhookReceiver | None:
        ref = self._state.config.webhook_secret
        if ref is None:
            return None
        secret = load_webhook_secret(ref)

        def lookup(key: str) -> str | None:
            agent = self.org_reader.directory(self._clock(), refresh=False).find(key)
            return agent.id if agent is not None else None

        return WebhookReceiver(
            secret,
            self._on_webhook,
            self._state.mappings,
            lookup,
            self.metrics,
            max_event_age=EXTERNAL_STATE_TTL,
        )

    # ---- health ----

    def health(self) -> HealthStatus:
        wedged = timedelta(seconds=time.monotonic() - self._last_loop) > WEDGED_AFTER
        audit_error = self._audit.error
        reason = "reconcile worker stalled" if wedged else ""
        if audit_error:  # fail closed: no presence write until the audit log can be written
            reason = f"{audit_error}; presence writes stopped until it can be written"
        if not self._ready:
            reason = reason or "waiting for the first full resync"
        role = self.coordinator.status()
        fenced = role.role is Role.FENCED
        reason = reason or role.reason
        details: dict[str, Any] = {
            "role": role.role.value,
            "identity": role.identity,
            "desired_digest": self._state.digest,
            "stream_connected": self._stream_up,
            "stream_unwatched_agents": len(self._unwatched),
            # beyond one client's streaming capacity: read by the resync, within its budget share
            "stream_overflow_agents": len(self._drift.overflow) if self._drift is not None else 0,
        }
        if self._desired_error:
            details["desired_error"] = self._desired_error
        if role.members:
            details["members"] = list(role.members)
        return HealthStatus(
            alive=self._worker.is_alive() and not wedged and not audit_error,
            ready=self._ready and not wedged and not audit_error and not fenced,
            reason=reason,
            last_cycle=self._last_cycle,
            details=details,
        )

    def status_view(self) -> StatusView:
        """What /status shows now (called on the HTTP thread)."""
        facts = self.status.facts(
            self._state,
            loaded_at=self._loaded_at,
            desired_error=self._desired_error,
            stream_connected=self._streaming and self._stream_up,
            held_reason=self._held,
            audit_tail=audit_tail(self._state.config.audit_path),
        )
        return build_status(facts, self._clock())

    # ---- lifecycle ----

    def start(self) -> None:
        cfg = self._state.config
        self.http_port = self._http.start()
        self._scheduler.add_job(
            self._adherence_today, IntervalTrigger(seconds=cfg.resync_interval_seconds), id="adherence-today"
        )
        self._scheduler.add_job(
            self.resync,
            IntervalTrigger(
                seconds=cfg.resync_interval_seconds, jitter=cfg.resync_interval_seconds * cfg.resync_jitter
            ),
            id="resync",
        )
        self._scheduler.add_job(
            lambda: self.wake(triggers_wake()),
            IntervalTrigger(
                seconds=cfg.trigger_interval_seconds, jitter=cfg.trigger_interval_seconds * cfg.resync_jitter
            ),
            id="triggers",
        )
        self._scheduler.add_job(
            self._prune_timeline, IntervalTrigger(hours=24), next_run_time=datetime.now(UTC)
        )
        self._scheduler.add_job(self._poll, IntervalTrigger(seconds=self._poll_interval.total_seconds()))
        if self._exporter is not None:
            self._scheduler.add_job(self._export_adherence, export_trigger(cfg), id="adherence-export")
            # the spool, oldest first, at start (a previous run's) and every minute until empty
            self._scheduler.add_job(
                self._exporter.deliver, IntervalTrigger(seconds=60), next_run_time=datetime.now(UTC)
            )
        self._scheduler.start()
        self._files.start()
        self.coordinator.start()
        if self._streaming:
            self._drift = DriftWatcher(
                self.client,
                self._on_agents,
                self._on_connection,
                self.metrics,
                on_unwatched=self._on_unwatched,
                recorder=self.recorder,
                channels=self._stream_limits[0],
                topics_per_channel=self._stream_limits[1],
            )
        self._worker.start()
        self.wake(Wake(WakeReason.START, triggers=True))
        _log.info("daemon started", extra={"http_port": self.http_port, "directory": self.directory})

    def stop(self, timeout: float = 30.0) -> None:
        """Stop intake, drop reads at once, let the writes in flight finish and be recorded
        (at most `timeout`), release everything."""
        self._stop.set()
        self._queue.put(Wake(WakeReason.RESYNC))  # unblock the worker's wait; it sees _stop and ends
        self.client.abandon_reads()
        self.executor.close(timeout)
        # What the worker may still do is a read (abandoned, or one already on the wire: dropped
        # with the process, since reads change nothing) or pure planning: no need to wait long.
        self._worker.join(WORKER_GRACE_SECONDS)
        if self._resync_reader is not None:  # its reads were abandoned: it ends at once
            self._resync_reader.join(WORKER_GRACE_SECONDS)
        self._files.stop()
        self._scheduler.shutdown(wait=False)
        if self._drift is not None:
            self._drift.stop()
        if self._exporter is not None:
            self._exporter.close()
        self.recorder.close()
        self.timeline.close()
        self.coordinator.stop()  # after the last write: the next leader takes over at once
        self._http.stop()
        self.client.close()
        _log.info("daemon stopped")

    def resync(self) -> None:
        """The periodic full resync. Its reads (the directory and schedules when due, then every
        managed agent's presence) run off the worker, in the budget's resync lane
        (at most its read share, behind any correction), feeding the observed cache; then the
        worker plans everyone against them. Boundaries and events keep being served meanwhile. A
        read still running when the next one is due is left to finish (the resync is spread)."""
        if self._stop.is_set():
            return
        last = self._last_full
        if last is None:  # nothing planned yet: the first full cycle reads everyone itself
            self.wake(Wake(WakeReason.RESYNC))
            return
        if self.resync_reading:
            return
        agents = sorted(d.user_id for d in last.plan.decisions)
        self._resync_reader = threading.Thread(
            target=self._read_for_resync, args=(agents,), name="resync-read", daemon=True
        )
        self._resync_reader.start()

    @property
    def resync_reading(self) -> bool:
        """A background resync read is under way."""
        reader = self._resync_reader
        return reader is not None and reader.is_alive()

    def _read_for_resync(self, agents: list[str]) -> None:
        started = self._clock()
        try:
            with resync_lane():
                # The directory and schedules first, when due: read here, in the lane, and not by
                # the worker, whose boundaries never wait for the org to be read again.
                self.org_reader.schedules(self.org_reader.directory(started), agents, started)
                for i in range(0, len(agents), self._resync_chunk):
                    if self._stop.is_set():
                        return
                    chunk = agents[i : i + self._resync_chunk]
                    sent = self.reconciler.observed.sending(self._clock())
                    self.reconciler.observed.read(self.client.presence.observe(chunk), sent)
        except GenesysError as exc:  # abandoned at shutdown, or failed: the worker reads the rest
            if self._stop.is_set():
                return
            _log.warning(
                "background resync read failed; the resync reads the rest", extra={"error": str(exc)}
            )
        self.wake(Wake(WakeReason.RESYNC, read_since=started))

    def _export_adherence(self) -> None:
        if self._exporter is None:
            return
        session = Session(self.client, self.org_reader, self._state)
        try:
            export_due(self._exporter, session, self.timeline, self._state.config, self._clock())
        except Exception:  # the next run retries; the spool keeps what was cut
            _log.exception("adherence export failed")

    def _adherence_today(self) -> None:
        """presencectl_adherence_ratio{policy}: today's time-weighted figure from the timeline."""
        session = Session(self.client, self.org_reader, self._state)
        try:
            ratios = today_ratios(session, self._state.config.adherence_database, self._clock())
        except Exception:  # the next run retries
            _log.exception("adherence figure of today not computed")
            return
        for policy, ratio in ratios.items():
            self.metrics.adherence_ratio.labels(policy=policy).set(ratio)

    def _prune_timeline(self) -> None:
        removed = self.timeline.prune(self._clock(), self._state.config.adherence_retention_days)
        if removed:
            _log.info("adherence timeline pruned", extra={"changes_removed": removed})

    def _poll(self) -> None:
        """Everyone while the stream is down (events may be missed); else the unwatched agents."""
        if not self._streaming:
            return
        if not self._stream_up:
            self.wake(Wake(WakeReason.POLL))
        elif self._unwatched:
            self.wake(Wake(WakeReason.POLL, self._unwatched))

    # ---- the worker ----

    def _next(self) -> list[Wake]:
        """Every wake queued now (waiting up to 1 s for the first); empty when none came."""
        try:
            pending = [self._queue.get(timeout=1.0)]
        except queue.Empty:
            return []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                return pending

    def _work(self) -> None:
        while not self._stop.is_set():
            self._last_loop = time.monotonic()
            pending = self._next()
            if self._stop.is_set():
                continue
            # A resync looks at desired/ too (a missed file event, a reload that failed): it costs
            # one digest of the files, and an API call only when their content changed.
            reloads = any(w.reason in (WakeReason.DESIRED, WakeReason.RESYNC) for w in pending)
            if reloads and not self._reload_guarded():
                # Nothing new in force: file events cost no cycle (and no API call).
                pending = [w for w in pending if w.reason is not WakeReason.DESIRED]
            if not pending:
                continue
            wake = coalesce(pending)
            try:
                self._handle(wake)
            except Exception as exc:  # one bad cycle must not end the daemon; the next wake retries
                if self._stop.is_set():  # reads abandoned or executor closed: we are stopping
                    _log.info("reconcile cycle abandoned: shutting down", extra={"wake": wake.reason.value})
                elif isinstance(exc, GenesysError):  # the API said no (429s outlasted the retries, 5xx)
                    self._cycle_failed(wake, exc)
                else:
                    _log.exception("reconcile cycle failed", extra={"wake": wake.reason.value})

    def _cycle_failed(self, wake: Wake, exc: GenesysError) -> None:
        """One structured line (no traceback: nothing here is a bug), and a full resync once the
        API had time to recover; other wakes meanwhile still run."""
        retry = max(RETRY_AFTER_FAILURE, timedelta(seconds=exc.retry_after or 0))
        _log.error(
            "reconcile cycle failed",
            extra={
                "wake": wake.reason.value,
                "error": str(exc),
                "status": exc.status,
                "code": exc.code,
                "correlation_id": exc.context_id,
                "retry_in_seconds": retry.total_seconds(),
            },
        )
        self._at("retry", self._clock() + retry, Wake(WakeReason.RESYNC))

    def _handle(self, wake: Wake) -> None:
        try:
            if wake.plans_presence:
                self._cycle(wake)
        finally:  # a failed presence cycle must not cost the triggers their pass
            if wake.triggers:
                self._reconcile_triggers()

    def _reconcile_triggers(self) -> None:
        if self.coordinator.status().role not in (Role.SINGLE, Role.LEADER):
            return  # cluster-wide work belongs to the elected replica
        try:
            self.triggers.reconcile(self._state, held=self._held)
        except GenesysError as exc:  # the next cadence retries
            _log.warning("trigger reconcile failed", extra={"error": str(exc)})

    def _cycle(self, wake: Wake) -> None:
        if wake.reason in _TIMED and wake.at is not None:
            early = (wake.at - self._clock()).total_seconds()
            if early > 0 and self._stop.wait(early):  # timers may fire a hair early; plan at the instant
                return
        now = self._clock()
        self._external = {k: o for k, o in self._external.items() if o.until > now}
        boundary = wake.at if wake.reason is WakeReason.BOUNDARY else None
        result = self.reconciler.cycle(
            self._state,
            only=wake.agents,
            boundary=boundary,
            external=tuple(self._external.values()),
            cached=boundary is not None,  # plan the changing agents against what we know of them
            read_since=wake.read_since,
        )
        self._last_cycle = result.now
        self.recorder.flush()  # the cycle's observations and the session's heartbeat, one batch
        self.status.record(result, self._state)
        if wake.full or result.plan.held:  # held until a full plan is back under the limit
            self._held = result.plan.held_reason
        if wake.full:
            self._ready = True
            self._last_full = result
            self._audit_expired(result)
            self._watch(result)
        self._schedule_boundary(result.next_boundary, result.boundary_agents)
        if wake.reason in _EVENTS and wake.at is not None and result.report is not None and result.report.ok:
            lag = (self._clock() - wake.at).total_seconds()
            self.metrics.event_to_correction_seconds.observe(max(0.0, lag))
        skipped = result.report is not None and result.report.audit_error is not None
        # Fail closed until the audit log can be written, then once more for the skipped writes.
        if not self.executor.audit_ok() or skipped:
            self._at("audit-retry", self._clock() + self._audit_retry, Wake(WakeReason.RESYNC))
        self._schedule_backoff()
        self._schedule_rechecks(result)
        if self._on_cycle is not None:
            self._on_cycle(result)

    def _audit_expired(self, result: CycleResult) -> None:
        """Each override whose `until` has passed is audited once; the planner ignores it."""
        due = [e for e in self._state.expired_overrides(result.now) if e.key not in self._expired_audited]
        if due:
            directory = self.org_reader.directory(result.now)
            self._audit.write_batch(
                expiry_records(due, directory, result.now, result.cycle_id, self._state.digest)
            )
            self._expired_audited.update(e.key for e in due)

    def _reload_guarded(self) -> bool:
        try:
            return self._reload()
        except Exception as exc:  # e.g. the org unreachable: the next change or resync retries
            self.metrics.desired_reloads_total.labels(result="failed").inc()
            _log.error("desired state reload failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return False

    def _reload(self) -> bool:
        """Load desired/ again when its content changed; True when a new state is in force.
        The digest of the files comes first, so unchanged content costs no API call."""
        try:
            digest: str | None = content_digest(self.directory)
        except DesiredStateError:
            digest = None  # unreadable or empty: the load below says why
        if digest == self._state.digest:
            self._desired_error = ""  # back to the set in force (e.g. a broken edit reverted)
            self.metrics.desired_state_valid.set(1)
            self._seen_digest = digest
        if digest is not None and digest == self._seen_digest:
            self.metrics.desired_reloads_total.labels(result="unchanged").inc()
            return False
        try:
            state = load_live(self.directory, self.client, self.org_reader, self._clock())
        except DesiredStateError as exc:
            register_secrets(secrets_in(exc.diagnostics))  # before anything logs the rejection
            self._seen_digest = digest
            self._desired_error = str(exc)
            self.metrics.desired_state_valid.set(0)
            self.metrics.desired_reloads_total.labels(result="rejected").inc()
            _log.error(
                "desired state rejected; the last good state stays in force",
                extra={"problems": [str(d) for d in exc.diagnostics], "digest": self._state.digest},
            )
            return False
        self._seen_digest = state.digest
        self._desired_error = ""
        self.metrics.desired_state_valid.set(1)
        self._loaded_at = self._clock()
        self._state = self._adopt(state)
        self.metrics.desired_reloads_total.labels(result="applied").inc()
        _log.info("desired state reloaded", extra={"digest": state.digest})
        return True

    def _adopt(self, state: DesiredState) -> DesiredState:
        state = self._placement.apply(state)  # flags and environment outrank a reload too
        if self._receiver is not None:
            self._receiver.mappings = state.mappings
        return state

    def _at(self, job_id: str, at: datetime, wake: Wake) -> None:
        """Wake with `wake` at `at` on the daemon's clock."""
        self._at_call(job_id, at, lambda: self.wake(wake))

    def _at_call(self, job_id: str, at: datetime, call: Callable[[], None]) -> None:
        """Call `call` (on the scheduler's thread) at `at` on the daemon's clock (which may run
        ahead of the wall clock, e.g. following the emulator's time travel); apscheduler itself
        counts wall-clock time."""
        wall = at - (self._clock() - datetime.now(UTC))
        self._scheduler.add_job(
            call,
            DateTrigger(run_date=max(wall, datetime.now(UTC))),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _schedule_boundary(self, at: datetime | None, agents: frozenset[str]) -> None:
        """Wake at the next boundary for just the agents changing at it (every cycle keeps it),
        and PREFETCH_LEAD before it read those no stream watches (above one client's streaming
        capacity), off the worker, so the boundary writes without reading first."""
        if at is not None and agents:  # again each time: the daemon's clock may have jumped
            self._at("boundary", at, Wake(WakeReason.BOUNDARY, agents, at))
            if at - PREFETCH_LEAD > self._clock():
                self._at_call("prefetch", at - PREFETCH_LEAD, lambda: self._prefetch(agents))

    def _prefetch(self, agents: frozenset[str]) -> None:
        if self._stop.is_set():
            return
        try:
            self.reconciler.prefetch(agents)
        except GenesysError as exc:  # the boundary reads them itself
            if self._stop.is_set():
                return
            _log.warning("prefetch before a boundary failed", extra={"error": str(exc)})

    def _schedule_earliest(self, reason: WakeReason, due: Mapping[str, datetime]) -> None:
        """One timer for the earliest due agent, waking it together with those due within 1 s."""
        if due:
            at = min(due.values())
            agents = frozenset(a for a, t in due.items() if t <= at + timedelta(seconds=1))
            self._at(reason.value, at, Wake(reason, agents, at))

    def _schedule_backoff(self) -> None:
        self._schedule_earliest(WakeReason.BACKOFF, self.executor.backoff.snapshot())

    def _schedule_rechecks(self, result: CycleResult) -> None:
        looked_at = {d.user_id for d in result.plan.decisions}
        self._rechecks = {a: t for a, t in self._rechecks.items() if a not in looked_at}
        self._rechecks.update(result.rechecks)
        self._schedule_earliest(WakeReason.RECHECK, self._rechecks)

    def _watch(self, result: CycleResult) -> None:
        managed = frozenset(d.user_id for d in result.plan.decisions)
        if self._drift is not None and managed != self._watched:
            self._watched = managed
            self._drift.watch(managed)
            self._streamed()

    def _streamed(self) -> None:
        """Tell the observed cache which agents a connected stream watches: their entries stay
        fresh until an event names them."""
        drift = self._drift
        up = drift is not None and self._stream_up
        streamed = self._watched - self._unwatched - (drift.overflow if drift is not None else frozenset())
        self.reconciler.observed.stream(streamed if up else ())

    def run_until_stopped(self, stop: threading.Event) -> None:
        self.start()
        try:
            wait_in_main_thread(stop)
        finally:
            self.stop()


def wait_in_main_thread(stop: threading.Event) -> None:
    """Wait for `stop`, waking every SIGNAL_POLL_SECONDS: Python runs a signal's handler in the
    main thread only, and a signal the kernel delivers to another thread does not interrupt the
    main thread's wait, so `stop.wait()` alone could sleep through SIGTERM for ever."""
    while not stop.wait(SIGNAL_POLL_SECONDS):
        pass


def run_forever(directory: str, session: Session) -> int:
    """`presencectl run`: the daemon until SIGTERM or SIGINT, after which it finishes in-flight
    writes and exits 0."""
    daemon = Daemon(directory, session)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        _log.info("signal received; finishing in-flight work", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon.run_until_stopped(stop)
    return 0
