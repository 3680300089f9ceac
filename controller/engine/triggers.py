"""Trigger reconciliation for `apply` and the daemon: one pass lists, plans and writes the
EventSubscription triggers (`controller.subscriptions`: ownership, idempotency, prune, observe),
then records each trigger change in the audit log and `presencectl_triggers{state}`.

Written changes are audited write-ahead, as presence writes are: an `intent` record is on disk
before each step is sent (none is sent when it cannot be), an `outcome` record follows. Intents a
dead process left without an outcome are resolved by the first pass after a start: `confirmed`
when that pass finds the trigger as the step left it, `unknown` when it does not (the pass then
re-plans it like any other drift).

A pass given the blast-radius guard's `held` reason plans and records but writes nothing: held
means no presence and no trigger. The daemon runs a pass on its trigger cadence, at start and on
every desired/ change; `apply` runs one after its presence cycle.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from controller.audit import (
    AuditMode,
    AuditResult,
    AuditWriter,
    Outcome,
    OutcomeBacklog,
    Phase,
    TriggerAuditRecord,
    pending_trigger_intents,
)
from controller.engine.executor import fenced
from controller.genesys import Trigger, TriggerSpec
from controller.metrics import Metrics
from controller.model.types import NOWHERE, DesiredState, Mode
from controller.subscriptions.apply import StepOutcome, TriggerApplyResult, TriggerClient, apply_triggers
from controller.subscriptions.plan import TriggerAction, TriggerStep

_log = logging.getLogger(__name__)

_RESULTS = {"done": AuditResult.OK, "failed": AuditResult.FAILED, "skipped": AuditResult.SKIPPED}


def _reason_kind(step: TriggerStep) -> str:
    if step.hand_edited:
        return "hand-edited"
    return {
        TriggerAction.CREATE: "missing",
        TriggerAction.UPDATE: "desired-changed",
        TriggerAction.REPLACE: "topic-changed",
        TriggerAction.DELETE: "not-desired",
    }.get(step.action, "")


def _record(
    step: TriggerStep,
    done: StepOutcome | None,
    held_reason: str,
    cycle_id: str,
    digest: str,
    now: datetime,
    write_id: str | None = None,
) -> TriggerAuditRecord:
    if done is not None:
        mode, status = AuditMode.ENFORCED, _RESULTS.get(done.status, AuditResult.FAILED)
    else:  # planned, not written
        mode = AuditMode.HELD if held_reason else AuditMode.OBSERVED
        status = AuditResult.SKIPPED
    held = f" [held: {held_reason}]" if mode is AuditMode.HELD else ""
    location = step.desired.location if step.desired is not None else NOWHERE
    live_id = step.live.id if step.live is not None else None
    return TriggerAuditRecord(
        time=now,
        trigger=step.name,
        action=step.action.value,
        mode=mode,
        result=status,
        reason=step.reason + (f": {done.detail}" if done is not None and done.detail else "") + held,
        cycle_id=cycle_id,
        trigger_id=(done.trigger_id if done is not None else None) or live_id,
        changes=tuple((d.field, d.live, d.desired) for d in step.diff),
        reason_kind=_reason_kind(step),
        reason_source=None if location == NOWHERE else str(location),
        error_code="held" if mode is AuditMode.HELD else done.error_code if done is not None else None,
        correlation_id=done.correlation_id if done is not None else None,
        digest=digest,
        phase=Phase.OUTCOME if write_id is not None else None,
        write_id=write_id,
        outcome=None if write_id is None or done is None else _OUTCOMES[done.status == "failed"],
    )


_AFTER_RESTART = {True: "in effect", False: "not in effect, re-planned"}
_OUTCOMES = {False: Outcome.CONFIRMED, True: Outcome.FAILED}  # an API answer is the confirmation


def intent_record(
    step: TriggerStep, cycle_id: str, digest: str, now: datetime, write_id: str
) -> TriggerAuditRecord:
    """The record on disk before `step` is sent."""
    planned = _record(step, None, "", cycle_id, digest, now)
    return replace(
        planned, mode=AuditMode.ENFORCED, result=AuditResult.PENDING, phase=Phase.INTENT, write_id=write_id
    )


def resolved_intents(
    pending: Sequence[TriggerAuditRecord], result: TriggerApplyResult, now: datetime
) -> list[TriggerAuditRecord]:
    """Outcome records for intents a dead process left, judged by the pass that just listed the
    live triggers (pure): in effect when the trigger is as the step left it."""
    by_name = {s.name: s for s in result.plan.steps}
    out = []
    for intent in pending:
        step = by_name.get(intent.trigger)
        if intent.action == TriggerAction.DELETE.value:
            in_effect = step is None or step.live is None
        else:
            in_effect = step is not None and step.action is TriggerAction.UNCHANGED
        out.append(
            replace(
                intent,
                time=now,
                phase=Phase.OUTCOME,
                outcome=Outcome.CONFIRMED if in_effect else Outcome.UNKNOWN,
                result=AuditResult.OK if in_effect else AuditResult.FAILED,
                reason=intent.reason
                + (
                    " (resolved after a restart: in effect)"
                    if in_effect
                    else " (resolved after a restart: not in effect, re-planned)"
                ),
            )
        )
    return out


def audit_records(
    result: TriggerApplyResult,
    cycle_id: str,
    digest: str,
    now: datetime,
    write_ids: Mapping[int, str] | None = None,
) -> list[TriggerAuditRecord]:
    """One record per trigger change of the pass, written or not (pure); `write_ids` (by
    `id(step)`) marks the outcome records of the steps whose intent was recorded."""
    ids = write_ids or {}
    return [
        _record(s, result.outcome(s), result.plan.held, cycle_id, digest, now, ids.get(id(s)))
        for s in result.plan.changes()
    ]


class FencedTriggers:
    """A TriggerClient whose writes first prove the coordination lease (cluster-wide work is done
    by the elected replica only); a refused write fails its step with code `fenced`."""

    def __init__(self, client: TriggerClient, fence: Callable[[], bool]) -> None:
        self._client, self._fence = client, fence

    def _check(self) -> None:
        if not self._fence():
            raise fenced()

    def list_triggers(self, topic_names: Sequence[str] = ()) -> list[Trigger]:
        return self._client.list_triggers(topic_names)

    def get_trigger(self, trigger_id: str) -> Trigger:
        return self._client.get_trigger(trigger_id)

    def create_trigger(self, spec: TriggerSpec) -> Trigger:
        self._check()
        return self._client.create_trigger(spec)

    def update_trigger(self, trigger_id: str, spec: TriggerSpec, version: int) -> Trigger:
        self._check()
        return self._client.update_trigger(trigger_id, spec, version)

    def delete_trigger(self, trigger_id: str) -> None:
        self._check()
        self._client.delete_trigger(trigger_id)


class TriggerReconciler:
    def __init__(
        self,
        client: TriggerClient,
        audit: AuditWriter,
        metrics: Metrics,
        clock: Callable[[], datetime],
        owner: str,
        fence: Callable[[], bool] | None = None,
    ) -> None:
        self._client = client if fence is None else FencedTriggers(client, fence)
        self._audit = audit
        self._metrics = metrics
        self._clock = clock
        self._owner = owner
        self._recovered = False  # intents of a previous process resolved (first pass)
        self._unwritten: OutcomeBacklog[TriggerAuditRecord] = OutcomeBacklog()

    def reconcile(
        self, state: DesiredState, *, held: str = "", mode: Mode = Mode.ENFORCE
    ) -> TriggerApplyResult:
        """One pass over `state`'s subscriptions; `held`: the guard's reason, nothing is written.
        GenesysError from the listing propagates (nothing was planned, so nothing is recorded)."""
        cycle_id = uuid.uuid4().hex[:12]
        pending = [] if self._recovered else pending_trigger_intents(self._audit.path)
        write_ids: dict[int, str] = {}

        def record_intent(step: TriggerStep) -> None:
            write_id = uuid.uuid4().hex
            self._audit.write_batch([intent_record(step, cycle_id, state.digest, self._clock(), write_id)])
            write_ids[id(step)] = write_id

        result = apply_triggers(self._client, state.subscriptions, self._owner, mode, held, record_intent)
        now = self._clock()
        records = resolved_intents(pending, result, now) + audit_records(
            result, cycle_id, state.digest, now, write_ids
        )
        self._recovered = True
        self._save(records)
        self._metrics.observe_triggers(result.states(), [(r.action, r.result.value) for r in records])
        if records or result.plan.errors:
            _log.info(
                "trigger reconcile",
                extra={
                    "cycle_id": cycle_id,
                    "changes": len(records),
                    "failed": len(result.failed()),
                    "held": bool(result.plan.held),
                    "errors": list(result.plan.errors),
                },
            )
        return result

    def _save(self, records: list[TriggerAuditRecord]) -> None:
        """Earlier refused outcome records, then `records`; on failure the outcome records are
        kept for the next pass (their intents are on disk) and the error propagates."""
        self._unwritten.write(self._audit.write_batch, records)
