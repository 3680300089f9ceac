"""Trigger errors (ErrorBody)."""

from __future__ import annotations

from controller.emulator.core.exceptions import BadRequest, Conflict, InvalidValue, NotFound


class InvalidTrigger(InvalidValue):
    """A CreateTriggerRequest / UpdateTriggerRequest field the platform refuses."""


class TriggerNotFound(NotFound):
    def __init__(self, trigger_id: str) -> None:
        super().__init__(f"Trigger {trigger_id} not found.")


class TopicNameImmutable(BadRequest):
    def __init__(self) -> None:
        super().__init__("topicName cannot be updated, a new trigger must be created to use a new topicName.")


class VersionConflict(Conflict):
    def __init__(self, given: int, current: int) -> None:
        super().__init__(f"Version {given} does not match the current version {current}.")
