"""Process Automation trigger provisioning from EventSubscription kinds.

Pure planning lives in `plan` (`plan_triggers`, `TriggerPlan`, `LiveTrigger`, ownership marker);
the imperative shell that lists, creates, updates and deletes through the Genesys client lives in
`apply` (`apply_triggers`).
"""

from controller.subscriptions.apply import StepOutcome, TriggerApplyResult, apply_triggers
from controller.subscriptions.plan import (
    FieldDiff,
    LiveTrigger,
    TriggerAction,
    TriggerPlan,
    TriggerStep,
    is_owned,
    plan_triggers,
    trigger_body,
)

__all__ = [
    "FieldDiff",
    "LiveTrigger",
    "StepOutcome",
    "TriggerAction",
    "TriggerApplyResult",
    "TriggerPlan",
    "TriggerStep",
    "apply_triggers",
    "is_owned",
    "plan_triggers",
    "trigger_body",
]
