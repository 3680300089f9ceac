"""presencectl_triggers{state} after a pass: what was done, what failed, what cannot be provisioned."""

from __future__ import annotations

import dataclasses

from controller.subscriptions.apply import StepOutcome, TriggerApplyResult
from controller.subscriptions.plan import TriggerAction, plan_triggers
from tests.subscriptions.builders import OWNER, live_of, sub


def test_states_count_what_stands_after_the_pass() -> None:
    kept, edited, gone = sub("kept"), sub("edited"), sub("gone")
    live = [live_of(kept), live_of(edited, enabled=False), live_of(gone), live_of(sub("pruned"))]
    broken = dataclasses.replace(sub("broken"), event_ttl_seconds=1)
    desired = [kept, edited, sub("new"), sub("new-too"), broken]
    plan = plan_triggers(desired, live, OWNER)
    by_name = {s.name: s for s in plan.steps}
    assert by_name["gone"].action is TriggerAction.DELETE and by_name["edited"].action is TriggerAction.UPDATE
    done = [
        StepOutcome(by_name["edited"], "failed", "HTTP 503"),
        StepOutcome(by_name["new"], "done", "created t-1", "t-1"),
        StepOutcome(by_name["new-too"], "failed", "HTTP 503"),
        StepOutcome(by_name["gone"], "skipped", "already gone"),
        StepOutcome(by_name["pruned"], "failed", "HTTP 503"),
    ]
    result = TriggerApplyResult(plan, tuple(done))
    assert result.states() == {"in_sync": 2, "missing": 1, "drifted": 1, "extra": 1, "invalid": 1}
    held = TriggerApplyResult(plan_triggers(desired, live, OWNER, held="too many"), ())
    assert held.states() == {"in_sync": 1, "missing": 2, "drifted": 1, "extra": 2, "invalid": 1}
