"""Control-surface errors (ErrorBody 400)."""

from __future__ import annotations

from controller.emulator.core.exceptions import BadRequest


class BadControlRequest(BadRequest):
    """A control call whose body the emulator cannot act on."""
