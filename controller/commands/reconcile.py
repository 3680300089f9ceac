"""`presencectl plan`, `apply` and `run`: thin handlers over the session, reconciler and executor.

Exit codes follow `flux diff` / `terraform plan -detailed-exitcode`, so `plan` works as a
pull-request check: 0 no changes, 1 changes (or, for apply, something not written), 2 error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import replace
from typing import Any

from controller.audit import AuditWriter
from controller.engine.executor import Executor
from controller.engine.preflight import check_local
from controller.engine.reconciler import CycleResult, Reconciler
from controller.engine.render import plan_json, plan_markdown, plan_table
from controller.engine.session import Session, open_session, trigger_owner, utc_now
from controller.engine.triggers import TriggerReconciler
from controller.failures import LocalConfigError
from controller.metrics import Metrics
from controller.model.loader import expiry_warning
from controller.model.types import BlastRadius, DesiredState
from controller.subscriptions.apply import TriggerApplyResult, live_trigger
from controller.subscriptions.plan import TriggerPlan, plan_triggers

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
# Errors (desired state, configuration, API) propagate to controller.cli, which prints one line
# each and exits 2 (controller/failures.py).


_OVERRIDE = re.compile(r"^\s*(?:(?P<percent>\d+(?:\.\d+)?)\s*%|(?P<count>\d+))\s*$")


def blast_radius_override(text: str | None) -> BlastRadius | None:
    """`--allow-blast-radius` of plan/apply: "40%" of the managed agents or "120" agents, for this
    run only (None: the configured guard); LocalConfigError says what to write."""
    if text is None:
        return None
    found = _OVERRIDE.match(text)
    if found is not None and found["count"] is not None and int(found["count"]) > 0:
        return BlastRadius(0.0, int(found["count"]))
    if found is not None and found["percent"] is not None and 0 < float(found["percent"]) <= 100:
        return BlastRadius(float(found["percent"]), 1)
    raise LocalConfigError(
        f"--allow-blast-radius {text!r}: give a percentage of the managed agents (e.g. 40%) "
        "or a number of agents (e.g. 120)"
    )


def _allowing(state: DesiredState, radius: BlastRadius | None) -> DesiredState:
    """`state` with this run's blast-radius override (if any) in place of the configured guard."""
    if radius is None:
        return state
    print(f"blast-radius override for this run: {radius} (configured: {state.config.blast_radius})")
    return replace(state, config=replace(state.config, blast_radius=radius))


def _trigger_plan(session: Session, held: str) -> TriggerPlan:
    live = [live_trigger(t) for t in session.client.triggers.list_triggers()]
    return plan_triggers(session.state.subscriptions, live, trigger_owner(), held=held)


def warn_expired(state: DesiredState) -> None:
    """An expired override is ignored, not an error: say so, as validate does."""
    now = utc_now()
    for expired in state.expired_overrides(now):
        print(expiry_warning(expired, now), file=sys.stderr)


def run_plan(args: argparse.Namespace) -> int:
    radius = blast_radius_override(args.allow_blast_radius)  # a bad flag fails before any call
    session = open_session(args)
    warn_expired(session.state)
    state = _allowing(session.state, radius)
    reconciler = Reconciler(session.client, session.world, Metrics(), utc_now)
    result = reconciler.cycle(state, write=False)
    triggers = _trigger_plan(session, result.plan.held_reason)
    if args.output == "json":
        body: dict[str, Any] = plan_json(result)
        body["triggers"] = [
            {"action": s.action.value, "name": s.name, "reason": s.reason} for s in triggers.steps
        ]
        body["triggerErrors"] = list(triggers.errors)
        print(json.dumps(body, indent=2))
    elif args.output == "markdown":
        print(plan_markdown(result, triggers.steps), end="")
        for error in triggers.errors:
            print(f"\nTrigger error: {error}")
    else:
        print(plan_table(result))
        if triggers.steps or triggers.errors:
            print()
            print(triggers.table())
    if triggers.errors:
        return EXIT_ERROR
    return EXIT_CHANGES if result.plan.actions or triggers.changes() else EXIT_OK


def _apply_summary(result: CycleResult, triggers: TriggerApplyResult) -> tuple[str, bool]:
    report = result.report
    lines = [plan_table(result)]
    clean = not result.plan.held
    if report is not None:
        for w in report.writes:
            agent = result.agents.get(w.user_id)
            who = agent.email if agent is not None else w.user_id
            status = "ok" if w.ok else f"FAILED ({w.error_code})"
            latency = (
                f" confirmed in {w.latency_seconds * 1000:.0f} ms" if w.latency_seconds is not None else ""
            )
            lines.append(f"wrote {who} via {w.via}: {status}{latency}")
        clean = clean and not report.failed and not report.backed_off
        lines.append(
            f"{len(report.ok)} written, {len(report.failed)} failed, {len(report.observed)} observed only, "
            f"{len(report.held_actions)} held"
        )
    for o in triggers.outcomes:
        lines.append(f"trigger {o.step.action.value} {o.step.name}: {o.status} {o.detail}".rstrip())
    if triggers.plan.held and triggers.plan.changes():
        lines.append(triggers.plan.table())
    clean = clean and triggers.ok
    return "\n".join(lines), clean


def run_apply(args: argparse.Namespace) -> int:
    radius = blast_radius_override(args.allow_blast_radius)  # a bad flag fails before any call
    session = open_session(args, check=lambda offline: check_local(offline.config, daemon=False))
    warn_expired(session.state)
    state = _allowing(session.state, radius)
    cfg = state.config
    metrics = Metrics()
    session.client.stats.add_listener(metrics.api_call_listener)
    audit = AuditWriter(cfg.audit_path, cfg.audit_rotate_bytes, cfg.audit_keep)
    executor = Executor(session.client, audit, metrics, utc_now)
    try:
        reconciler = Reconciler(session.client, session.world, metrics, utc_now, executor)
        result = reconciler.cycle(state)
        # Held means nothing at all is written: the trigger plan is reported, not applied.
        trigger_pass = TriggerReconciler(session.client.triggers, audit, metrics, utc_now, trigger_owner())
        triggers = trigger_pass.reconcile(state, held=result.plan.held_reason)
    finally:
        executor.close()
    text, clean = _apply_summary(result, triggers)
    print(text)
    return EXIT_OK if clean else EXIT_CHANGES


def run_daemon(args: argparse.Namespace) -> int:
    from controller.engine.daemon import run_forever

    return run_forever(args)
