"""Presence errors (ErrorBody 400 bad.request / 404 not.found)."""

from __future__ import annotations

from controller.emulator.core.exceptions import BadRequest, NotFound


class PresenceRefused(BadRequest):
    """A presence, routing-status or interaction change the platform refuses (unknown or
    deactivated definition, a routing status only the system sets, ...)."""


class DefinitionNotFound(NotFound):
    def __init__(self, definition_id: str) -> None:
        super().__init__("Presence definition not found.")
