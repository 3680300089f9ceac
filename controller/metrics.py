"""Every Prometheus metric of presencectl, defined once.

`Metrics()` owns its own `CollectorRegistry`, so tests build fresh instances; the daemon uses
`default_metrics()`. Names are in base units (seconds, ratio) with `_total` on counters; labels
take bounded values only (result words, policy names, system presence names, endpoint path
templates, status classes); there is never a per-agent label.

Public API (besides the metric attributes themselves):
- `Metrics.observe_api_call(endpoint, status, seconds, retries=0, rate_limited=0)`: what the
  Genesys client reports once per logical request (after its retries): `endpoint` is
  "METHOD /path/template" (e.g. "PUT /api/v2/users/presences/bulk", the emulator's
  request_counts() spelling), `status` the final HTTP status (None: no answer), `retries` the
  repeats it took and `rate_limited` the 429 answers among them.
- `Metrics.observe_cycle(result, seconds)`, `Metrics.observe_correction(presence, result)`.
- `Metrics.observe_triggers(states, changes)`: one trigger reconcile: the count per state (every
  TRIGGER_STATES value is set, absent ones to 0) and (action, result) of each trigger change.
- `Metrics.render() -> bytes` and `CONTENT_TYPE` for the /metrics endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from controller.core.planner import SkipKind
from controller.core.presence import SystemPresence

# What `render()` produces; the classic 0.0.4 text type is what every Prometheus version accepts
# (the library's own HTTP handler answers with it too unless the scraper asks for more).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# In the 0.0.4 text format every counter/histogram would also get a `*_created` gauge family,
# doubling the series for no use on our dashboards; the library only offers a process-wide switch.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Latencies we care about span tens of milliseconds (a write) to minutes (a backed-off agent).
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
_API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_CYCLE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

CYCLE_RESULTS = ("ok", "failed", "held", "rate_limited")  # rate_limited: 429s outlasted the retries
TOPIC_STATES = ("permitted", "rejected")  # presencectl_stream_topics{state}
CORRECTION_RESULTS = ("ok", "failed", "skipped")
SKIP_REASONS = tuple(kind.value for kind in SkipKind)
# How the triggers of the desired EventSubscriptions stand after a trigger reconcile.
TRIGGER_STATES = ("in_sync", "missing", "drifted", "extra", "invalid")
# Every answer of the webhook receiver (controller/webhook.py uses these words as its results).
WEBHOOK_RESULTS = (
    "accepted",
    "duplicate",
    "bad_signature",
    "stale",
    "too_large",
    "unsupported_media_type",
    "timeout",
    "malformed",
    "unknown_state",
    "unknown_agent",
    "stale_event",
    "unavailable",
    "internal",
)

# What a desired/ reload came to: a new set in force, the same content (no API call), an invalid
# set (the last good one stays), or a failure reading the org (retried on the next change).
DESIRED_RELOAD_RESULTS = ("applied", "unchanged", "rejected", "failed")


def status_class(status: int | None) -> str:
    """`2xx`..`5xx`, or `error` when no HTTP answer came back (connection reset, timeout)."""
    if status is None or not 100 <= status <= 599:
        return "error"
    return f"{status // 100}xx"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.reconcile_duration_seconds = Histogram(
            "presencectl_reconcile_duration_seconds",
            "Wall time of one reconcile cycle (observe, plan, execute).",
            buckets=_CYCLE_BUCKETS,
            registry=r,
        )
        self.reconcile_cycles_total = Counter(
            "presencectl_reconcile_cycles", "Reconcile cycles by result.", ["result"], registry=r
        )
        self.managed_agents = Gauge(
            "presencectl_managed_agents", "Agents selected by at least one policy.", registry=r
        )
        self.agents_out_of_desired = Gauge(
            "presencectl_agents_out_of_desired",
            "Managed agents whose live presence differs from the desired one, at the last cycle.",
            ["policy"],
            registry=r,
        )
        self.agents_unobserved = Gauge(
            "presencectl_agents_unobserved",
            "Managed agents the presence reads did not return at the last full resync (left alone).",
            ["policy"],
            registry=r,
        )
        self.agents_skipped = Gauge(
            "presencectl_agents_skipped",
            "Managed agents left as they are at the last full resync, by reason (logged-out, ...).",
            ["reason"],
            registry=r,
        )
        self.agents_in_desired = Gauge(
            "presencectl_agents_in_desired",
            "Managed agents whose live presence is the desired one, at the last full resync.",
            ["policy"],
            registry=r,
        )
        self.corrections_total = Counter(
            "presencectl_corrections",
            "Presence writes by target system presence and result.",
            ["presence", "result"],
            registry=r,
        )
        self.plans_held_total = Counter(
            "presencectl_plans_held", "Plans held by the blast-radius guard.", registry=r
        )
        self.api_calls_total = Counter(
            "presencectl_api_calls",
            "Genesys API requests by endpoint (path template) and status class.",
            ["endpoint", "status_class"],
            registry=r,
        )
        self.api_retries_total = Counter(
            "presencectl_api_retries", "Genesys API request retries by endpoint.", ["endpoint"], registry=r
        )
        self.api_rate_limited_total = Counter(
            "presencectl_api_rate_limited", "Genesys API 429 answers by endpoint.", ["endpoint"], registry=r
        )
        self.api_call_duration_seconds = Histogram(
            "presencectl_api_call_duration_seconds",
            "Genesys API request duration including retries, by endpoint.",
            ["endpoint"],
            buckets=_API_BUCKETS,
            registry=r,
        )
        self.event_lag_seconds = Histogram(
            "presencectl_event_lag_seconds",
            "Notification event time to its receipt by the daemon.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.boundary_to_write_seconds = Histogram(
            "presencectl_boundary_to_write_seconds",
            "Desired-presence boundary (schedule or window edge) to the write that enacts it.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.write_to_event_seconds = Histogram(
            "presencectl_write_to_event_seconds",
            "Presence write to its confirmation (read-back or matching event).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.event_to_correction_seconds = Histogram(
            "presencectl_event_to_correction_seconds",
            "Drift event receipt to the corrective write.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.next_boundary_timestamp_seconds = Gauge(
            "presencectl_next_boundary_timestamp_seconds",
            "Unix time of the next instant any managed agent's desired presence changes.",
            registry=r,
        )
        self.last_successful_resync_timestamp_seconds = Gauge(
            "presencectl_last_successful_resync_timestamp_seconds",
            "Unix time of the last full resync that completed without error.",
            registry=r,
        )
        self.webhook_requests_total = Counter(
            "presencectl_webhook_requests", "Inbound webhook requests by result.", ["result"], registry=r
        )
        self.desired_reloads_total = Counter(
            "presencectl_desired_reloads",
            "desired/ reloads by result (unchanged: same content digest, no API call).",
            ["result"],
            registry=r,
        )
        self.adherence_ratio = Gauge(
            "presencectl_adherence_ratio",
            "Today's time-weighted adherence by policy (0..1): seconds in adherence / (scheduled - "
            "unknown) since local midnight in the policy's zone, from the recorded timeline.",
            ["policy"],
            registry=r,
        )
        self.agents_in_desired_ratio = Gauge(
            "presencectl_agents_in_desired_ratio",
            "Share of judged managed agents in their desired presence at the last full resync, by "
            "policy (0..1); the snapshot presencectl_adherence_ratio was before it became time-weighted.",
            ["policy"],
            registry=r,
        )
        self.triggers = Gauge(
            "presencectl_triggers",
            "Triggers of the desired EventSubscriptions by state after the last trigger reconcile: "
            "in_sync, missing, drifted (differs from desired), extra (owned, no longer desired), "
            "invalid (cannot be provisioned as written).",
            ["state"],
            registry=r,
        )
        self.trigger_changes_total = Counter(
            "presencectl_trigger_changes",
            "Trigger changes by action (create, update, replace, delete) and result (ok, failed, "
            "skipped: held or observe mode, or already done).",
            ["action", "result"],
            registry=r,
        )
        self.stream_connected = Gauge(
            "presencectl_stream_connected",
            "1 while the Notifications API WebSocket is connected, else 0.",
            registry=r,
        )
        self.stream_topics = Gauge(
            "presencectl_stream_topics",
            "Notification topics by the platform's answer: permitted (events arrive) or rejected "
            "(refused, e.g. missing permissions: their agents are polled instead).",
            ["state"],
            registry=r,
        )
        self.adherence_export_batches_total = Counter(
            "presencectl_adherence_export_batches_total",
            "Adherence export batches: sent (accepted by the dashboard), failed (a delivery attempt "
            "that gave up; the batch stays spooled), spooled (cut and queued for delivery).",
            ["result"],
            registry=self.registry,
        )
        for result in ("sent", "failed", "spooled"):
            self.adherence_export_batches_total.labels(result=result)
        self.adherence_export_oldest_spooled_seconds = Gauge(
            "presencectl_adherence_export_oldest_spooled_seconds",
            "Age of the oldest adherence export batch not delivered yet (0 when the spool is empty).",
            registry=self.registry,
        )
        self.audit_writable = Gauge(
            "presencectl_audit_writable",
            "1 while the audit log can be written, else 0 (presence writes stop: fail closed).",
            registry=r,
        )
        self.audit_write_failures_total = Counter(
            "presencectl_audit_write_failures",
            "Audit batches that could not be written (disk full, size limit, I/O error).",
            registry=r,
        )
        self.audit_writable.set(1)
        # Configuration and state the alerts compare against (set by the daemon).
        self.desired_state_valid = Gauge(
            "presencectl_desired_state_valid",
            "1 when the last load of desired/ was accepted; 0 while a rejected reload leaves the last "
            "good set in force.",
            registry=r,
        )
        self.resync_interval_seconds = Gauge(
            "presencectl_resync_interval_seconds",
            "Configured interval between periodic full resyncs.",
            registry=r,
        )
        self.rate_budget_per_minute = Gauge(
            "presencectl_rate_budget_per_minute",
            "Configured Genesys API request budget (requests per minute, shared by every call).",
            registry=r,
        )
        self.leader = Gauge(
            "presencectl_leader",
            "1 while this replica holds the coordination lease and may write (always 1 without "
            "coordination), else 0.",
            registry=r,
        )
        self.leader_transitions_total = Counter(
            "presencectl_leader_transitions",
            "Times this replica gained or lost the coordination lease.",
            registry=r,
        )
        self.fenced_writes_total = Counter(
            "presencectl_fenced_writes",
            "Write batches refused because this replica could not prove it holds the lease.",
            registry=r,
        )
        # Known label values exist from the start, so rates and absent-alerts work at zero.
        for result in CYCLE_RESULTS:
            self.reconcile_cycles_total.labels(result=result)
        for result in WEBHOOK_RESULTS:
            self.webhook_requests_total.labels(result=result)
        for state in TOPIC_STATES:
            self.stream_topics.labels(state=state)
        for reason in SKIP_REASONS:
            self.agents_skipped.labels(reason=reason)
        for result in DESIRED_RELOAD_RESULTS:
            self.desired_reloads_total.labels(result=result)

    def observe_api_call(
        self, endpoint: str, status: int | None, seconds: float, retries: int = 0, rate_limited: int = 0
    ) -> None:
        """Record one logical API request: its final status, total time, retries and 429s seen."""
        self.api_calls_total.labels(endpoint=endpoint, status_class=status_class(status)).inc()
        self.api_call_duration_seconds.labels(endpoint=endpoint).observe(seconds)
        if retries:
            self.api_retries_total.labels(endpoint=endpoint).inc(retries)
        if rate_limited:
            self.api_rate_limited_total.labels(endpoint=endpoint).inc(rate_limited)

    def api_call_listener(
        self, method: str, route: str, status: int, seconds: float, retries: int, rate_limited: int
    ) -> None:
        """`ClientStats.add_listener` adapter: status 0 (no answer) is reported as None."""
        self.observe_api_call(f"{method} {route}", status or None, seconds, retries, rate_limited)

    def observe_cycle(self, result: str, seconds: float) -> None:
        if result not in CYCLE_RESULTS:
            raise ValueError(f"cycle result {result!r} not in {CYCLE_RESULTS}")
        self.reconcile_cycles_total.labels(result=result).inc()
        self.reconcile_duration_seconds.observe(seconds)

    def observe_correction(self, presence: SystemPresence | None, result: str) -> None:
        """One presence write (or skipped write); `presence` is the target's system presence
        (None: unknown, e.g. the definition vanished), so the label stays bounded."""
        if result not in CORRECTION_RESULTS:
            raise ValueError(f"correction result {result!r} not in {CORRECTION_RESULTS}")
        label = presence.value if presence is not None else "unknown"
        self.corrections_total.labels(presence=label, result=result).inc()

    def observe_triggers(self, states: Mapping[str, int], changes: Iterable[tuple[str, str]]) -> None:
        unknown = set(states) - set(TRIGGER_STATES)
        if unknown:
            raise ValueError(f"trigger states {sorted(unknown)} not in {TRIGGER_STATES}")
        for state in TRIGGER_STATES:
            self.triggers.labels(state=state).set(states.get(state, 0))
        for action, result in changes:
            if result not in CORRECTION_RESULTS:
                raise ValueError(f"trigger change result {result!r} not in {CORRECTION_RESULTS}")
            self.trigger_changes_total.labels(action=action, result=result).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)


_default: Metrics | None = None


def default_metrics() -> Metrics:
    """The daemon's process-wide instance (created on first use)."""
    global _default
    if _default is None:
        _default = Metrics()
    return _default
