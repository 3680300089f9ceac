"""A plan saved by `plan --out FILE`, and the check before `apply FILE` applies exactly it.

The file is the JSON of `plan --output json` plus what applying it needs: the desired/ directory
and its digest, the `--policy` and `--allow-blast-radius` it was made with, and the trigger
changes. `apply FILE` refuses, with one line and nothing written, when the world moved "too
much" since the plan was made, which means any of:

- desired/ changed (its content digest differs);
- any planned agent is no longer as the plan saw it: another presence or routing status, not
  readable, or planned differently now (another target, no change needed, a safety rule or
  grace now leaving it alone, held by the guard);
- the trigger changes differ from the saved ones.

Agents the plan did not name are never written by `apply FILE`, whatever they need now: the next
plan shows them. The same check guards the confirmation of `apply` on a terminal, since a person
may take a while to answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.engine.reconciler import CycleResult
from controller.engine.render import PLAN_FORMAT_VERSION
from controller.failures import LocalConfigError
from controller.subscriptions.plan import TriggerStep

SAVED_KIND = "presencectl-plan"


class PlanRefused(Exception):
    """`apply FILE` (or a confirmed `apply`) found the world moved since the plan: nothing written."""


@dataclass(frozen=True)
class PlannedChange:
    user_id: str
    agent: str  # email, for messages
    live_id: str
    live: str
    routing_status: str
    desired_id: str
    desired: str
    mode: str  # enforce | observe | held


@dataclass(frozen=True)
class SavedPlan:
    directory: str
    digest: str
    policy: str | None
    allow_blast_radius: str | None
    changes: tuple[PlannedChange, ...]
    triggers: tuple[tuple[str, str], ...] | None  # (action, name) of changes; None: --policy, no triggers
    held: bool = False
    held_reason: str = ""

    @property
    def agents(self) -> list[str]:
        return [c.user_id for c in self.changes]

    def empty(self) -> bool:
        return not self.changes and not self.triggers


def trigger_changes(steps: Sequence[TriggerStep]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((s.action.value, s.name) for s in steps if s.action.value != "unchanged"))


def from_plan_json(body: dict[str, Any], directory: str, digest: str, **options: Any) -> SavedPlan:
    changes = tuple(
        PlannedChange(
            c["userId"],
            c["agent"],
            c["liveId"],
            c["live"],
            c["routingStatus"],
            c["desiredId"],
            c["desired"],
            c["mode"],
        )
        for c in body["changes"]
    )
    triggers = options.get("triggers")
    return SavedPlan(
        directory,
        digest,
        options.get("policy"),
        options.get("allow_blast_radius"),
        changes,
        None if triggers is None else tuple(triggers),
        bool(body["held"]),
        str(body.get("heldReason") or ""),
    )


def saved_json(body: dict[str, Any], plan: SavedPlan) -> dict[str, Any]:
    """`body` (the plan's JSON) with what `apply FILE` needs."""
    return {
        "kind": SAVED_KIND,
        **body,
        "directory": plan.directory,
        "digest": plan.digest,
        "policy": plan.policy,
        "allowBlastRadius": plan.allow_blast_radius,
        "triggerChanges": None if plan.triggers is None else [list(t) for t in plan.triggers],
    }


def load(path: str | Path) -> SavedPlan:
    """The saved plan at `path`; LocalConfigError (one line) when it is not one."""
    try:
        body = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise LocalConfigError(f"{path}: not a plan saved by `presencectl plan --out` ({exc})") from None
    if not isinstance(body, dict) or body.get("kind") != SAVED_KIND:
        raise LocalConfigError(f"{path}: not a plan saved by `presencectl plan --out`")
    if body.get("version") != PLAN_FORMAT_VERSION:
        raise LocalConfigError(
            f"{path}: plan format version {body.get('version')!r}, this presencectl reads "
            f"{PLAN_FORMAT_VERSION}: make the plan again with this version"
        )
    try:
        triggers = body["triggerChanges"]
        return from_plan_json(
            body,
            body["directory"],
            body["digest"],
            policy=body["policy"],
            allow_blast_radius=body["allowBlastRadius"],
            triggers=None if triggers is None else [tuple(t) for t in triggers],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LocalConfigError(f"{path}: a saved plan with a missing or bad field ({exc})") from None


def _difference(change: PlannedChange, result: CycleResult) -> str:
    """How `change`'s agent differs now from when it was planned ('' when it does not)."""
    live = result.observed.get(change.user_id)
    if live is None:
        return f"{change.agent} could not be read"
    label = result.catalog.by_id(live.presence_id)
    now = f"{label.label if label is not None else live.presence_id} ({live.routing_status.value})"
    if live.presence_id != change.live_id or live.routing_status.value != change.routing_status:
        return f"{change.agent} is now {now}, planned from {change.live} ({change.routing_status})"
    action = next((a for a in result.plan.actions if a.user_id == change.user_id), None)
    if action is None:
        return f"{change.agent} needs no change now"
    mode = "held" if action.held else action.mode.value
    if action.to.definition_id != change.desired_id or mode != change.mode:
        now_planned = f"{action.to.name} ({mode})"
        return f"{change.agent} is now planned to {now_planned}, saved: {change.desired} ({change.mode})"
    return ""


def refuse_if_moved(
    plan: SavedPlan, digest: str, result: CycleResult, triggers: Sequence[TriggerStep] | None
) -> None:
    """PlanRefused (one line) when the world moved too much since `plan` (module docstring)."""
    again = "make a new plan (presencectl plan --out FILE)"
    if digest != plan.digest:
        digests = f"digest {plan.digest[:12]}, now {digest[:12]}"
        raise PlanRefused(f"desired/ changed since the plan was made ({digests}): {again}")
    moved = [d for d in (_difference(c, result) for c in plan.changes) if d]
    if moved:
        more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
        raise PlanRefused(
            f"the org changed since the plan was made: {len(moved)} of {len(plan.changes)} planned agent(s) "
            f"differ ({'; '.join(moved[:3])}{more}): {again}"
        )
    if plan.triggers is not None and triggers is not None and trigger_changes(triggers) != plan.triggers:
        now = ", ".join(f"{a} {n}" for a, n in trigger_changes(triggers)) or "none"
        saved = ", ".join(f"{a} {n}" for a, n in plan.triggers) or "none"
        raise PlanRefused(
            f"the trigger changes differ since the plan was made (saved: {saved}; now: {now}): {again}"
        )
