"""Declared subscriptions and the triggers the API lists for them, for the trigger planner tests."""

from __future__ import annotations

import dataclasses
import itertools

from controller.model.types import EventSubscription, MatchCriterion
from controller.subscriptions.plan import LiveTrigger, trigger_body

OWNER = "prod"
_ids = itertools.count(1)


def sub(name: str = "break-watch", **kw: object) -> EventSubscription:
    base: dict[str, object] = {
        "name": name,
        "topic_name": "v2.users.{id}.activity",
        "workflow_id": "wf-1",
        "match_criteria": (MatchCriterion("routingStatus.status", "Equal", "NOT_RESPONDING"),),
        "event_ttl_seconds": 60,
        "description": "notify the WFM team",
    }
    base.update(kw)
    return EventSubscription(**base)  # type: ignore[arg-type]


def live_of(s: EventSubscription, owner: str = OWNER, version: int = 1, **edits: object) -> LiveTrigger:
    """The trigger as the API lists it after presencectl created it, then optionally edited."""
    t = LiveTrigger.from_api({**trigger_body(s, owner), "id": f"t-{next(_ids)}", "version": version})
    return dataclasses.replace(t, **edits)  # type: ignore[arg-type]
