"""`presencectl plan`, `apply` and `run`: thin handlers over the session, reconciler and executor.

Exit codes follow `flux diff` / `terraform plan -detailed-exitcode`, so `plan` works as a
pull-request check: 0 no changes, 1 changes (or, for apply, something not written), 2 error.

`apply` on a terminal shows the plan and asks before writing (unless `--yes`), then applies
exactly what it showed; `plan --out FILE` saves a plan and `apply FILE` applies exactly it. Both
refuse when the org moved since (controller/commands/saved_plan.py says what "moved" means).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from controller.audit import AuditWriter
from controller.commands.connection import open_session_from_args
from controller.commands.progress import Progress
from controller.commands.saved_plan import (
    PlanRefused,
    SavedPlan,
    from_plan_json,
    load,
    refuse_if_moved,
    saved_json,
    trigger_changes,
)
from controller.core.selection import select_agents
from controller.engine.executor import Executor
from controller.engine.preflight import check_local
from controller.engine.reconciler import CycleResult, Reconciler
from controller.engine.render import Style, agent_label, plan_json, plan_markdown, plan_table
from controller.engine.session import Session, trigger_owner, utc_now
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


def policy_agents(session: Session, name: str | None) -> list[str] | None:
    """`--policy NAME`: the agents that policy manages (None: every policy); LocalConfigError
    naming the policies there are when desired/ has none of that name."""
    if name is None:
        return None
    names = sorted(p.name for p in session.state.policies)
    if name not in names:
        raise LocalConfigError(
            f"--policy {name!r}: desired/ has no PresencePolicy of that name (there are: {', '.join(names)})"
        )
    selection = select_agents(session.state, session.org_reader.directory(utc_now()).agents)
    return sorted(uid for uid, policy in selection.by_agent.items() if policy.name == name)


def _progress(args: argparse.Namespace, command: str) -> Progress:
    return Progress(command, enabled=bool(args.progress) or sys.stderr.isatty())


def _open(args: argparse.Namespace, progress: Progress, *, apply: bool) -> Session:
    progress.phase("loading desired/ and reading the org")
    check = (lambda offline: check_local(offline.config, daemon=False)) if apply else None
    return open_session_from_args(args, check=check, on_call=progress.on_call)


def run_plan(args: argparse.Namespace) -> int:
    radius = blast_radius_override(args.allow_blast_radius)  # a bad flag fails before any call
    with _progress(args, "plan") as progress:
        session = _open(args, progress, apply=False)
        warn_expired(session.state)
        state = _allowing(session.state, radius)
        only = policy_agents(session, args.policy)
        progress.phase("reading presences and schedules, planning")
        reconciler = Reconciler(session.client, session.org_reader, Metrics(), utc_now)
        result = reconciler.cycle(state, write=False, only=only)
        triggers = None if args.policy else _trigger_plan(session, result.plan.held_reason)
    steps = triggers.steps if triggers is not None else ()
    errors = triggers.errors if triggers is not None else ()
    body = _plan_body(result, triggers)
    if args.out:
        saved = _saved(args, session, result, triggers, body)
        Path(args.out).write_text(json.dumps(saved_json(body, saved), indent=2) + "\n", "utf-8")
    if args.output == "json":
        print(json.dumps(body, indent=2))
    elif args.output == "markdown":
        print(plan_markdown(result, steps), end="")
        for error in errors:
            print(f"\nTrigger error: {error}")
    else:
        print(_text(result, triggers, Style.for_stream(sys.stdout), args.policy))
    if args.out:
        print(f"plan saved to {args.out}: `presencectl apply {args.out}` applies exactly it", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    return EXIT_CHANGES if result.plan.actions or (triggers is not None and triggers.changes()) else EXIT_OK


def _plan_body(result: CycleResult, triggers: TriggerPlan | None) -> dict[str, Any]:
    body: dict[str, Any] = plan_json(result)
    steps = triggers.steps if triggers is not None else ()
    body["triggers"] = [{"action": s.action.value, "name": s.name, "reason": s.reason} for s in steps]
    body["triggerErrors"] = list(triggers.errors) if triggers is not None else []
    return body


def _saved(
    args: argparse.Namespace,
    session: Session,
    result: CycleResult,
    triggers: TriggerPlan | None,
    body: dict[str, Any],
) -> SavedPlan:
    return from_plan_json(
        body,
        str(Path(args.directory).resolve()),
        session.state.digest,
        policy=args.policy,
        allow_blast_radius=args.allow_blast_radius,
        triggers=None if triggers is None else trigger_changes(triggers.steps),
    )


def _text(result: CycleResult, triggers: TriggerPlan | None, style: Style, policy: str | None) -> str:
    changes = trigger_changes(triggers.steps) if triggers is not None else ()
    also = (
        [f"triggers: {len(changes)} change(s): " + ", ".join(f"{a} {n}" for a, n in changes)]
        if changes
        else []
    )
    lines = [plan_table(result, style, also)]
    if triggers is not None and (triggers.steps or triggers.errors):
        lines += ["", triggers.table()]
    if policy is not None:
        lines += ["", f"--policy {policy}: only its agents; event subscriptions are left to a run without it"]
    return "\n".join(lines)


def apply_summary(
    result: CycleResult, triggers: TriggerApplyResult | None, style: Style, *, show_plan: bool = True
) -> tuple[str, bool]:
    report = result.report
    lines = [plan_table(result, style)] if show_plan else []
    clean = not result.plan.held
    if report is not None:
        for w in report.writes:
            status = "ok" if w.ok else f"FAILED ({w.error_code})"
            latency = (
                f" confirmed in {w.latency_seconds * 1000:.0f} ms" if w.latency_seconds is not None else ""
            )
            lines.append(f"wrote {agent_label(result, w.user_id)} via {w.via}: {status}{latency}")
        for user_id in report.changed:
            who = agent_label(result, user_id)
            lines.append(f"skipped {who}: changed after it was read; run apply again")
        clean = clean and not report.failed and not report.backed_off and not report.changed
        counts = (
            f"{len(report.ok)} written",
            f"{len(report.failed)} failed",
            f"{len(report.changed)} changed meanwhile",
            f"{len(report.observed)} observed only",
            f"{len(report.held_actions)} held",
        )
        lines.append(", ".join(counts))
    if triggers is not None:
        for o in triggers.outcomes:
            lines.append(f"trigger {o.step.action.value} {o.step.name}: {o.status} {o.detail}".rstrip())
        if triggers.plan.held and triggers.plan.changes():
            lines.append(triggers.plan.table())
        clean = clean and triggers.ok
    return "\n".join(lines), clean


class _Applier:
    """The writing side of `apply`: audit, executor, reconciler and trigger pass of one run."""

    def __init__(self, session: Session, state: DesiredState) -> None:
        cfg = state.config
        self.session, self.state = session, state
        self.metrics = Metrics()
        session.client.stats.add_listener(self.metrics.api_call_listener)
        self.audit = AuditWriter(cfg.audit_path, cfg.audit_rotate_bytes, cfg.audit_keep)
        self.executor = Executor(session.client, self.audit, self.metrics, utc_now)
        self.reconciler = Reconciler(session.client, session.org_reader, self.metrics, utc_now, self.executor)

    def triggers(self, held: str) -> TriggerApplyResult:
        # Held means nothing at all is written: the trigger plan is reported, not applied.
        trigger_pass = TriggerReconciler(
            self.session.client.triggers, self.audit, self.metrics, utc_now, trigger_owner()
        )
        return trigger_pass.reconcile(self.state, held=held)

    def exactly(self, plan: SavedPlan, progress: Progress) -> tuple[CycleResult, TriggerApplyResult | None]:
        """Apply `plan` and nothing else, after checking the org is still as it was planned."""
        progress.phase("checking the planned agents")
        self.executor.recover()  # a previous run's unfinished writes, before we look at agents
        result = self.reconciler.cycle(self.state, only=plan.agents, write=False)
        live_triggers = _trigger_plan(self.session, "") if plan.triggers is not None else None
        refuse_if_moved(plan, self.state.digest, result, live_triggers.steps if live_triggers else None)
        progress.phase("writing")
        if result.plan.actions:
            report = self.executor.execute(
                result.plan,
                result.cycle_id,
                digest=self.state.digest,
                agents=result.agents,
                observed=result.observed,
                catalog=result.catalog,
            )
            result = replace(result, report=report)
        triggers = self.triggers(result.plan.held_reason) if plan.triggers is not None else None
        return result, triggers

    def close(self) -> None:
        self.executor.close()


def _confirmed(text: str) -> bool:
    print(text)
    print()
    try:
        answer = input("Apply these changes? Only 'yes' is accepted (or run apply --yes): ")
    except EOFError:
        answer = ""
    return answer.strip() == "yes"


def run_apply(args: argparse.Namespace) -> int:
    saved = load(args.directory) if Path(args.directory).is_file() else None
    if saved is not None:
        args.directory, args.policy, args.allow_blast_radius = (
            saved.directory,
            saved.policy,
            saved.allow_blast_radius,
        )
        if saved.held:
            print(
                f"apply refused: the saved plan is held by the blast-radius guard ({saved.held_reason}); "
                "make a new plan, with --allow-blast-radius if you mean it",
                file=sys.stderr,
            )
            return EXIT_CHANGES
    radius = blast_radius_override(args.allow_blast_radius)  # a bad flag fails before any call
    ask = saved is None and not args.yes and sys.stdin.isatty() and sys.stdout.isatty()
    style = Style.for_stream(sys.stdout)
    with _progress(args, "apply") as progress:
        session = _open(args, progress, apply=True)
        warn_expired(session.state)
        state = _allowing(session.state, radius)
        only = policy_agents(session, args.policy) if saved is None else None  # a saved plan names its agents
        applier = _Applier(session, state)
        try:
            if ask:
                progress.phase("reading presences and schedules, planning")
                shown = applier.reconciler.cycle(state, write=False, only=only)
                trigger_plan = None if args.policy else _trigger_plan(session, shown.plan.held_reason)
                body = _plan_body(shown, trigger_plan)
                saved = _saved(args, session, shown, trigger_plan, body)
                if saved.empty():
                    print(_text(shown, trigger_plan, style, args.policy))
                    print("No changes: nothing to apply.")
                    return EXIT_OK
                progress.pause()
                if not shown.plan.held and not _confirmed(_text(shown, trigger_plan, style, args.policy)):
                    print("Apply cancelled: nothing was written.")
                    return EXIT_CHANGES
                progress.resume("checking the planned agents")
            if saved is not None:
                result, triggers = applier.exactly(saved, progress)
            else:
                progress.phase("reading presences and schedules, planning, writing")
                result = applier.reconciler.cycle(state, only=only)
                triggers = None if args.policy else applier.triggers(result.plan.held_reason)
        except PlanRefused as refused:
            print(f"apply refused: {refused}; nothing was written", file=sys.stderr)
            return EXIT_ERROR
        finally:
            applier.close()
    text, clean = apply_summary(result, triggers, style, show_plan=not ask)  # shown before the question
    print(text)
    return EXIT_OK if clean else EXIT_CHANGES


def run_daemon(args: argparse.Namespace) -> int:
    from controller.engine.daemon import run_forever

    session = open_session_from_args(args, check=lambda offline: check_local(offline.config, daemon=True))
    return run_forever(args.directory, session)
