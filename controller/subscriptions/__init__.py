"""Process Automation trigger provisioning from EventSubscription kinds.

Pure planning lives in `plan` (`plan_triggers`, `TriggerPlan`, `LiveTrigger`, ownership marker);
the imperative shell that lists, creates, updates and deletes through the Genesys client lives in
`apply` (`apply_triggers`).
"""

from controller.subscriptions.apply import StepOutcome, TriggerApplyResult, apply_triggers
from controller.subscriptions.plan import (
    Action,
    FieldDiff,
    LiveTrigger,
    TriggerPlan,
    TriggerStep,
    is_owned,
    plan_triggers,
    trigger_body,
)

__all__ = [
    "Action",
    "FieldDiff",
    "LiveTrigger",
    "StepOutcome",
    "TriggerApplyResult",
    "TriggerPlan",
    "TriggerStep",
    "apply_triggers",
    "is_owned",
    "plan_triggers",
    "trigger_body",
]
