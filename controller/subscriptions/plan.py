"""Pure planning of Process Automation triggers: desired EventSubscriptions vs live triggers.

Ownership. The trigger API has no labels, so a trigger the daemon owns carries a marker as the
last line of its `description`:

    managed-by: presencectl/<owner> spec:<12 hex>

`<owner>` names the daemon instance (several daemons may share an org); `spec:` is a digest of
the desired fields the daemon last wrote, so a later difference can be told apart: live fields
that no longer match the recorded digest were edited outside presencectl (by hand in the UI),
while a new desired digest means the operator changed the desired state. The trigger `name` is
the subscription's name verbatim (deterministic: derived from desired state only). A trigger is
matched by name plus an owned marker; triggers without our marker are never touched, even when
their name is equal. Removing the marker line by hand hands the trigger over to the user.

Steps: create, update (PUT with the live version), replace (`topicName` cannot be updated: create
the new trigger, then delete the old one), delete (prune: owned triggers whose name is no longer
desired, and extra owned duplicates of a name, keeping the oldest) and unchanged. "Oldest" is the
first in listing order (the API lists triggers oldest first; UNCONFIRMED for a real org, true of
the emulator). In observe mode, and when the blast-radius guard held the presence plan (`held`),
every step is planned the same way but marked `write=False`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from controller.model.types import EventSubscription, MatchCriterion, Mode

MARKER_PREFIX = "managed-by: presencectl/"
DESCRIPTION_MAX = 512  # API limit on Trigger.description (docs/genesys-api.md#process-automation-triggers)
EVENT_TTL_MIN = 10
DELAY_RANGE = (60, 900)
DATA_FORMATS = ("Json", "TopLevelPrimitives")


class TriggerAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class LiveTrigger:
    """One trigger as listed by GET /api/v2/processautomation/triggers."""

    id: str
    name: str
    topic_name: str
    enabled: bool
    workflow_id: str
    data_format: str
    match_criteria: tuple[MatchCriterion, ...]
    event_ttl_seconds: int | None
    delay_by_seconds: int | None
    description: str
    version: int

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> LiveTrigger:
        target = body.get("target") or {}
        settings = target.get("workflowTargetSettings") or {}
        criteria = tuple(
            MatchCriterion(
                json_path=str(c.get("jsonPath", "")),
                operator=str(c.get("operator", "")),
                value=c.get("value"),
                values=tuple(str(v) for v in c["values"]) if c.get("values") is not None else None,
            )
            for c in body.get("matchCriteria") or ()
        )
        return cls(
            id=str(body["id"]),
            name=str(body.get("name", "")),
            topic_name=str(body.get("topicName", "")),
            enabled=bool(body.get("enabled", False)),
            workflow_id=str(target.get("id", "")),
            data_format=str(settings.get("dataFormat", "Json")),
            match_criteria=criteria,
            event_ttl_seconds=body.get("eventTTLSeconds"),
            delay_by_seconds=body.get("delayBySeconds"),
            description=str(body.get("description") or ""),
            version=int(body.get("version", 1)),
        )


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    live: str
    desired: str


@dataclass(frozen=True, slots=True)
class TriggerStep:
    """One planned step. `live` is the trigger acted on (update, replace's old one, delete)."""

    action: TriggerAction
    name: str
    reason: str
    diff: tuple[FieldDiff, ...] = ()
    desired: EventSubscription | None = None
    live: LiveTrigger | None = None
    hand_edited: bool = False  # live fields differ from what the daemon last wrote
    write: bool = True  # False in observe mode: reported, never written


@dataclass(frozen=True, slots=True)
class TriggerPlan:
    steps: tuple[TriggerStep, ...]
    owner: str
    mode: Mode
    errors: tuple[str, ...] = ()  # desired subscriptions that cannot be provisioned as written
    held: str = ""  # why the blast-radius guard held this plan (nothing is written); "" if not held
    invalid: tuple[str, ...] = ()  # names of the desired subscriptions behind `errors`

    def writes(self) -> tuple[TriggerStep, ...]:
        """Steps that change the org, in order (creates before deletes)."""
        return tuple(s for s in self.steps if s.write and s.action is not TriggerAction.UNCHANGED)

    def changes(self) -> tuple[TriggerStep, ...]:
        """Steps that differ from the live org, whether or not the mode writes them."""
        return tuple(s for s in self.steps if s.action is not TriggerAction.UNCHANGED)

    def table(self) -> str:
        """A readable plan table: one row per step, field diffs indented below."""
        rows = [f"{'ACTION':<10} {'TRIGGER':<40} REASON"]
        for s in self.steps:
            label = (
                s.action.value if s.write or s.action is TriggerAction.UNCHANGED else f"({s.action.value})"
            )
            rows.append(f"{label:<10} {s.name:<40} {s.reason}")
            rows.extend(f"{'':<10}   {d.field}: {d.live} -> {d.desired}" for d in s.diff)
        rows.extend(f"error      {e}" for e in self.errors)
        if self.mode is Mode.OBSERVE:
            rows.append("observe mode: steps in parentheses are reported, not written")
        elif self.held:
            rows.append(f"HELD: {self.held}; steps in parentheses are reported, not written")
        return "\n".join(rows)


def _criterion_json(c: MatchCriterion) -> dict[str, Any]:
    out: dict[str, Any] = {"jsonPath": c.json_path, "operator": c.operator}
    if c.value is not None:
        out["value"] = c.value
    if c.values is not None:
        out["values"] = list(c.values)
    return out


def _criteria_key(criteria: Sequence[MatchCriterion]) -> tuple[str, ...]:
    """Order-insensitive canonical form: reordering criteria in the UI is not a change."""
    return tuple(sorted(json.dumps(_criterion_json(c), sort_keys=True) for c in criteria))


def _fields(
    *,
    enabled: bool,
    workflow_id: str,
    data_format: str,
    criteria: Sequence[MatchCriterion],
    ttl: int | None,
    delay: int | None,
    description: str,
) -> dict[str, str]:
    """The compared fields, each rendered as text for the diff table."""
    return {
        "enabled": json.dumps(enabled),
        "target.id": workflow_id,
        "target.workflowTargetSettings.dataFormat": data_format,
        "matchCriteria": "[" + ", ".join(_criteria_key(criteria)) + "]",
        "eventTTLSeconds": json.dumps(ttl),
        "delayBySeconds": json.dumps(delay),
        "description": json.dumps(description),
    }


def _desired_fields(sub: EventSubscription) -> dict[str, str]:
    return _fields(
        enabled=sub.enabled,
        workflow_id=sub.workflow_id,
        data_format=sub.data_format,
        criteria=sub.match_criteria,
        ttl=sub.event_ttl_seconds,
        delay=sub.delay_by_seconds,
        description=sub.description,
    )


def _live_fields(t: LiveTrigger) -> dict[str, str]:
    return _fields(
        enabled=t.enabled,
        workflow_id=t.workflow_id,
        data_format=t.data_format,
        criteria=t.match_criteria,
        ttl=t.event_ttl_seconds,
        delay=t.delay_by_seconds,
        description=split_description(t.description)[0],
    )


def spec_digest(sub: EventSubscription) -> str:
    """12 hex chars identifying the desired fields (topic included)."""
    canon = json.dumps({"topicName": sub.topic_name, **_desired_fields(sub)}, sort_keys=True)
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def _live_digest(t: LiveTrigger) -> str:
    canon = json.dumps({"topicName": t.topic_name, **_live_fields(t)}, sort_keys=True)
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def marker_line(owner: str, digest: str) -> str:
    return f"{MARKER_PREFIX}{owner} spec:{digest}"


def split_description(description: str) -> tuple[str, str | None]:
    """(user text, marker line or None): the marker is the last line when present."""
    head, sep, last = description.rpartition("\n")
    candidate = last if sep else description
    if candidate.startswith(MARKER_PREFIX):
        return (head if sep else ""), candidate
    return description, None


def marker_owner(description: str) -> tuple[str, str] | None:
    """(owner, recorded digest) of an owned trigger's description, or None when unmarked."""
    marker = split_description(description)[1]
    if marker is None:
        return None
    owner, _, spec = marker[len(MARKER_PREFIX) :].partition(" ")
    return owner, spec.removeprefix("spec:")


def is_owned(trigger: LiveTrigger, owner: str) -> bool:
    found = marker_owner(trigger.description)
    return found is not None and found[0] == owner


def trigger_body(sub: EventSubscription, owner: str, version: int | None = None) -> dict[str, Any]:
    """CreateTriggerRequest (or UpdateTriggerRequest when `version` is given) for `sub`."""
    marker = marker_line(owner, spec_digest(sub))
    body: dict[str, Any] = {
        "name": sub.name,
        "topicName": sub.topic_name,
        "enabled": sub.enabled,
        "target": {
            "type": "Workflow",
            "id": sub.workflow_id,
            "workflowTargetSettings": {"dataFormat": sub.data_format},
        },
        "matchCriteria": [_criterion_json(c) for c in sub.match_criteria],
        "description": f"{sub.description}\n{marker}" if sub.description else marker,
    }
    if sub.event_ttl_seconds is not None:
        body["eventTTLSeconds"] = sub.event_ttl_seconds
    if sub.delay_by_seconds is not None:
        body["delayBySeconds"] = sub.delay_by_seconds
    if version is not None:
        body["version"] = version
    return body


def validate_subscription(sub: EventSubscription, owner: str) -> list[str]:
    """What the API would refuse in `sub`, as actionable messages
    (docs/genesys-api.md#process-automation-triggers)."""
    where = f"{sub.location}: subscription {sub.name!r}"
    problems = []
    if not sub.name.strip():
        problems.append(f"{where}: name must not be empty")
    if sub.event_ttl_seconds is not None and sub.delay_by_seconds is not None:
        problems.append(f"{where}: set only one of eventTTLSeconds and delayBySeconds")
    if sub.event_ttl_seconds is not None and sub.event_ttl_seconds < EVENT_TTL_MIN:
        problems.append(f"{where}: eventTTLSeconds must be at least {EVENT_TTL_MIN}")
    low, high = DELAY_RANGE
    if sub.delay_by_seconds is not None and not low <= sub.delay_by_seconds <= high:
        problems.append(f"{where}: delayBySeconds must be between {low} and {high}")
    if sub.data_format not in DATA_FORMATS:
        problems.append(f"{where}: dataFormat must be one of {', '.join(DATA_FORMATS)}")
    room = DESCRIPTION_MAX - len(marker_line(owner, "0" * 12)) - 1
    if len(sub.description) > room:
        problems.append(f"{where}: description is {len(sub.description)} characters; at most {room} fit")
    return problems


def _diff(sub: EventSubscription, live: LiveTrigger) -> tuple[FieldDiff, ...]:
    want, have = _desired_fields(sub), _live_fields(live)
    return tuple(FieldDiff(k, have[k], want[k]) for k in want if want[k] != have[k])


def _plan_one(sub: EventSubscription, owned: list[LiveTrigger]) -> list[TriggerStep]:
    """Steps for one desired subscription given the owned live triggers of the same name."""
    if not owned:
        return [TriggerStep(TriggerAction.CREATE, sub.name, "not in the org", desired=sub)]
    same_topic = [t for t in owned if t.topic_name == sub.topic_name]
    steps: list[TriggerStep] = []
    if same_topic:
        keep, extras = same_topic[0], [t for t in owned if t is not same_topic[0]]
        diff = _diff(sub, keep)
        recorded = (marker_owner(keep.description) or ("", ""))[1]
        hand_edited = bool(diff) and recorded != _live_digest(keep)
        if not diff:
            steps.append(TriggerStep(TriggerAction.UNCHANGED, sub.name, "matches", desired=sub, live=keep))
        else:
            why = "edited outside presencectl; putting it back" if hand_edited else "desired state changed"
            steps.append(TriggerStep(TriggerAction.UPDATE, sub.name, why, diff, sub, keep, hand_edited))
    else:
        keep, extras = owned[0], owned[1:]
        diff = (FieldDiff("topicName", keep.topic_name, sub.topic_name), *_diff(sub, keep))
        why = "topicName cannot be updated: create the new trigger, then delete the old one"
        steps.append(TriggerStep(TriggerAction.REPLACE, sub.name, why, diff, sub, keep))
    steps.extend(
        TriggerStep(TriggerAction.DELETE, sub.name, f"duplicate of {keep.id} (keeping the oldest)", live=t)
        for t in extras
    )
    return steps


def plan_triggers(
    desired: Sequence[EventSubscription],
    live: Sequence[LiveTrigger],
    owner: str,
    mode: Mode = Mode.ENFORCE,
    held: str = "",
) -> TriggerPlan:
    """Plan creates, updates, replaces and prunes of the triggers `owner` manages.

    `live` is the complete listing in API order (oldest first). `held` (the blast-radius guard's
    reason) plans every step like observe mode: reported, never written. Pure: no I/O, no clock.
    Step order: creates/replaces/updates in desired order, then deletes (so a replacement is
    created before its predecessor disappears).
    """
    errors: list[str] = []
    seen: set[str] = set()
    valid: list[EventSubscription] = []
    for sub in desired:
        problems = validate_subscription(sub, owner)
        if sub.name in seen:
            problems.append(f"{sub.location}: subscription name {sub.name!r} is used twice")
        seen.add(sub.name)
        errors.extend(problems)
        if not problems:
            valid.append(sub)
    by_name: dict[str, list[LiveTrigger]] = {}
    for t in live:
        if is_owned(t, owner):
            by_name.setdefault(t.name, []).append(t)
    steps: list[TriggerStep] = []
    for sub in valid:
        steps.extend(_plan_one(sub, by_name.pop(sub.name, [])))
    # A desired subscription that failed validation keeps its live trigger: never prune on a typo.
    invalid_names = {s.name for s in desired} - {s.name for s in valid}
    for name, triggers in by_name.items():
        if name in invalid_names:
            continue
        steps.extend(
            TriggerStep(TriggerAction.DELETE, name, "no longer desired (prune)", live=t) for t in triggers
        )
    steps.sort(key=lambda s: s.action is TriggerAction.DELETE)
    not_written = (
        "observe: reported, not written" if mode is Mode.OBSERVE else "held: not written" if held else ""
    )
    if not_written:
        steps = [
            replace(
                s,
                reason=s.reason if s.action is TriggerAction.UNCHANGED else f"{s.reason} ({not_written})",
                write=False,
            )
            for s in steps
        ]
    return TriggerPlan(tuple(steps), owner, mode, tuple(errors), held, tuple(sorted(invalid_names)))
