"""Apply a trigger plan through the Genesys client, idempotently.

`apply_triggers(client, desired, owner, mode)` lists every trigger (all pages), plans with
`plan_triggers`, then executes the plan's writes in order:

- create: list again with a `topicName` filter right before creating and create only when no
  owned trigger of that name and topic exists, so a crash between create and record (or another
  replica racing) still leaves exactly one trigger; extra owned duplicates are deleted by the
  next plan (the oldest is kept);
- update: PUT with the listed version; on 409 (someone edited it meanwhile) re-read the trigger,
  re-plan it and retry once with the fresh version;
- replace: create the trigger on the new topic, then delete the old one;
- delete: a 404 counts as done (already gone).

A failing step never stops the others; each outcome is reported. Observe mode, and a plan held
by the blast-radius guard, write nothing. `before_write(step)`, when given, runs before each
step is sent (the daemon records its write-ahead audit intent there); if it raises OSError the
step and every later one fail with `audit-unavailable`, unsent (fail closed, as presence writes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from controller.audit import AuditUnavailable
from controller.genesys import Trigger, TriggerSpec
from controller.genesys.errors import Conflict, GenesysError, NotFound
from controller.model.types import EventSubscription, Mode
from controller.subscriptions.plan import (
    LiveTrigger,
    TriggerAction,
    TriggerPlan,
    TriggerStep,
    is_owned,
    plan_triggers,
    trigger_body,
)

log = logging.getLogger(__name__)


class TriggerClient(Protocol):
    """The part of controller.genesys.GenesysClient this module uses."""

    def list_triggers(self, topic_names: Sequence[str] = ()) -> list[Trigger]: ...
    def get_trigger(self, trigger_id: str) -> Trigger: ...
    def create_trigger(self, spec: TriggerSpec) -> Trigger: ...
    def update_trigger(self, trigger_id: str, spec: TriggerSpec, version: int) -> Trigger: ...
    def delete_trigger(self, trigger_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class StepOutcome:
    step: TriggerStep
    status: str  # "done" | "skipped" (nothing left to do) | "failed"
    detail: str = ""
    trigger_id: str | None = None  # the trigger created or updated
    error_code: str | None = None  # of a failed step: the API's code, else http.<status>
    correlation_id: str | None = None  # of a failed step's answer


@dataclass(frozen=True, slots=True)
class TriggerApplyResult:
    plan: TriggerPlan
    outcomes: tuple[StepOutcome, ...]

    @property
    def ok(self) -> bool:
        return not self.plan.errors and all(o.status != "failed" for o in self.outcomes)

    def failed(self) -> tuple[StepOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    def outcome(self, step: TriggerStep) -> StepOutcome | None:
        """What became of `step` (None: not written: unchanged, observe mode or held)."""
        return next((o for o in self.outcomes if o.step is step), None)

    def states(self) -> dict[str, int]:
        """How the owned triggers stand after this pass (the presencectl_triggers{state} values):
        in_sync, missing (a create not done), drifted (an update or replace not done), extra (a
        prune not done) and invalid (desired subscriptions that cannot be provisioned)."""
        counts = {"in_sync": 0, "missing": 0, "drifted": 0, "extra": 0, "invalid": len(self.plan.invalid)}
        for step in self.plan.steps:
            done = self.outcome(step)
            if step.action is TriggerAction.UNCHANGED or (done is not None and done.status != "failed"):
                if step.action is not TriggerAction.DELETE:
                    counts["in_sync"] += 1
            elif step.action is TriggerAction.CREATE:
                counts["missing"] += 1
            elif step.action is TriggerAction.DELETE:
                counts["extra"] += 1
            else:
                counts["drifted"] += 1
        return counts


def live_trigger(t: Trigger) -> LiveTrigger:
    return LiveTrigger.from_api({**t.spec.to_json(), "id": t.id, "version": t.version})


def trigger_spec(sub: EventSubscription, owner: str) -> TriggerSpec:
    body = trigger_body(sub, owner)
    return TriggerSpec(
        name=sub.name,
        topic_name=sub.topic_name,
        workflow_id=sub.workflow_id,
        enabled=sub.enabled,
        match_criteria=tuple(body["matchCriteria"]),
        event_ttl_seconds=sub.event_ttl_seconds,
        delay_by_seconds=sub.delay_by_seconds,
        description=body["description"],
        data_format=sub.data_format,
    )


def _create(client: TriggerClient, sub: EventSubscription, owner: str, step: TriggerStep) -> StepOutcome:
    for t in client.list_triggers([sub.topic_name]):
        live = live_trigger(t)
        if live.name == sub.name and is_owned(live, owner):
            return StepOutcome(step, "skipped", f"already exists as {live.id}", live.id)
    created = client.create_trigger(trigger_spec(sub, owner))
    return StepOutcome(step, "done", f"created {created.id}", created.id)


def _update(
    client: TriggerClient, sub: EventSubscription, live: LiveTrigger, owner: str, step: TriggerStep
) -> StepOutcome:
    try:
        updated = client.update_trigger(live.id, trigger_spec(sub, owner), live.version)
    except NotFound:
        return _create(client, sub, owner, step)
    except Conflict:
        fresh = live_trigger(client.get_trigger(live.id))
        (again, *_) = plan_triggers([sub], [fresh], owner).steps
        if again.action is TriggerAction.UNCHANGED:
            return StepOutcome(step, "skipped", "already matches after a concurrent edit", fresh.id)
        if again.action is not TriggerAction.UPDATE:
            detail = f"changed concurrently; the next run will {again.action.value} it"
            return StepOutcome(step, "failed", detail)
        updated = client.update_trigger(fresh.id, trigger_spec(sub, owner), fresh.version)
        return StepOutcome(step, "done", f"updated to version {updated.version} after a 409", updated.id)
    return StepOutcome(step, "done", f"updated to version {updated.version}", updated.id)


def _delete(client: TriggerClient, live: LiveTrigger, step: TriggerStep) -> StepOutcome:
    try:
        client.delete_trigger(live.id)
    except NotFound:
        return StepOutcome(step, "skipped", f"{live.id} already gone")
    return StepOutcome(step, "done", f"deleted {live.id}")


def _execute(client: TriggerClient, owner: str, step: TriggerStep) -> StepOutcome:
    if step.action is TriggerAction.CREATE and step.desired is not None:
        return _create(client, step.desired, owner, step)
    if step.action is TriggerAction.UPDATE and step.desired is not None and step.live is not None:
        return _update(client, step.desired, step.live, owner, step)
    if step.action is TriggerAction.REPLACE and step.desired is not None and step.live is not None:
        created = _create(client, step.desired, owner, step)
        gone = _delete(client, step.live, step)
        return StepOutcome(step, "done", f"{created.detail}; {gone.detail}", created.trigger_id)
    if step.action is TriggerAction.DELETE and step.live is not None:
        return _delete(client, step.live, step)
    return StepOutcome(step, "skipped", "nothing to do")


def apply_triggers(
    client: TriggerClient,
    desired: Sequence[EventSubscription],
    owner: str,
    mode: Mode = Mode.ENFORCE,
    held: str = "",
    before_write: Callable[[TriggerStep], None] | None = None,
) -> TriggerApplyResult:
    """List, plan and (in enforce mode, unless `held`) execute; one outcome per written step."""
    live = [live_trigger(t) for t in client.list_triggers()]
    plan = plan_triggers(desired, live, owner, mode, held)
    outcomes: list[StepOutcome] = []
    unrecorded: str | None = None  # why the audit refused an intent: nothing more is sent
    for step in plan.writes():
        if before_write is not None and unrecorded is None:
            try:
                before_write(step)
            except OSError as exc:
                unrecorded = str(exc)
        if unrecorded is not None:
            detail = f"not sent: its audit intent could not be recorded ({unrecorded})"
            outcomes.append(StepOutcome(step, "failed", detail, error_code=AuditUnavailable.code))
            continue
        try:
            outcome = _execute(client, owner, step)
        except GenesysError as exc:
            code = exc.code or (f"http.{exc.status}" if exc.status else "no-response")
            outcome = StepOutcome(
                step, "failed", str(exc), error_code=code, correlation_id=exc.context_id or None
            )
        level = logging.WARNING if outcome.status == "failed" else logging.INFO
        log.log(
            level,
            "trigger %s %s: %s",
            step.action.value,
            step.name,
            outcome.detail,
            extra={"trigger": step.name, "action": step.action.value, "status": outcome.status},
        )
        outcomes.append(outcome)
    return TriggerApplyResult(plan, tuple(outcomes))
