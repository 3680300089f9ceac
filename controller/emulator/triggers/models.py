"""Trigger state and rules: typed triggers, creation order, optimistic versions, an immutable
topic, and cursor paging that never shifts when triggers are deleted.

A cursor is a trigger's creation sequence number (the responses encode it). Names may repeat (the
doc implies the server does not key on name).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from controller.emulator.triggers.exceptions import TopicNameImmutable, TriggerNotFound, VersionConflict


@dataclass(frozen=True, slots=True)
class MatchCriterion:
    json_path: str
    operator: str
    value: Any = None
    values: Any = None
    given: tuple[str, ...] = ()  # which of "value" / "values" the request carried


@dataclass(frozen=True, slots=True)
class TriggerTarget:
    id: str
    data_format: str | None = None  # workflowTargetSettings.dataFormat: Json | TopLevelPrimitives


@dataclass(frozen=True, slots=True)
class TriggerFields:
    """What a create or update request sets (everything but id and version)."""

    name: str
    topic_name: str
    target: TriggerTarget
    enabled: bool
    match_criteria: tuple[MatchCriterion, ...] | None = None
    event_ttl_seconds: int | None = None
    delay_by_seconds: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    id: str
    fields: TriggerFields
    version: int
    seq: int  # creation order: the paging cursor


@dataclass(frozen=True, slots=True)
class TriggerPage:
    triggers: list[Trigger]
    more_before: bool
    more_after: bool


class TriggerStore:
    def __init__(self) -> None:
        self._triggers: dict[str, Trigger] = {}

    def all(self) -> list[Trigger]:
        return list(self._triggers.values())

    def get(self, trigger_id: str) -> Trigger:
        found = self._triggers.get(trigger_id)
        if found is None:
            raise TriggerNotFound(trigger_id)
        return found

    def create(self, fields: TriggerFields) -> Trigger:
        seq = max((t.seq for t in self._triggers.values()), default=0) + 1
        trigger = Trigger(str(uuid.uuid4()), fields, 1, seq)
        self._triggers[trigger.id] = trigger
        return trigger

    @staticmethod
    def check_topic_unchanged(current: Trigger, topic_name: object) -> None:
        if topic_name != current.fields.topic_name:
            raise TopicNameImmutable()

    def update(self, current: Trigger, version: int, fields: TriggerFields) -> Trigger:
        """Replace the fields when `version` is the current one (optimistic concurrency)."""
        if version != current.version:
            raise VersionConflict(version, current.version)
        updated = replace(current, fields=fields, version=current.version + 1)
        self._triggers[current.id] = updated
        return updated

    def delete(self, trigger_id: str) -> None:
        self._triggers.pop(self.get(trigger_id).id)

    def clear(self) -> None:
        self._triggers.clear()

    def page(
        self,
        wanted: Iterable[Trigger],
        size: int,
        *,
        after: int | None = None,
        before: int | None = None,
    ) -> TriggerPage:
        """A page of `wanted` in creation order, after or before a cursor (else the first)."""
        chosen = sorted(wanted, key=lambda t: t.seq)
        if after is not None:
            rest = [t for t in chosen if t.seq > after]
            return TriggerPage(rest[:size], len(rest) < len(chosen), len(rest) > size)
        if before is not None:
            head = [t for t in chosen if t.seq < before]
            return TriggerPage(head[-size:], len(head) > size, len(head) < len(chosen))
        return TriggerPage(chosen[:size], False, len(chosen) > size)

    def matching(self, topics: set[str], enabled: bool | None, has_delay: bool | None) -> list[Trigger]:
        return [
            t
            for t in self._triggers.values()
            if (not topics or t.fields.topic_name in topics)
            and (enabled is None or t.fields.enabled == enabled)
            and (has_delay is None or (t.fields.delay_by_seconds is not None) == has_delay)
        ]
