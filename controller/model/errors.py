"""Diagnostics: what is wrong in desired state, where, and what to do about it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from controller.model.types import SourceLocation

ERROR = "error"
WARNING = "warning"  # not a failure unless `validate --strict`: e.g. an expired override
NOTE = "note"  # not a failure: e.g. a secondary presence that could not be checked offline
SEVERITY_ORDER = (ERROR, WARNING, NOTE)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    location: SourceLocation
    message: str
    hint: str = ""
    value: Any = None  # the offending value as written (JSON-compatible), None when not useful
    severity: str = ERROR
    # A secret value this diagnostic is about (an inline secret): never shown, but the command
    # that reports it registers it with the log scrubber (`secrets_in`), so no log echoes it.
    secret: str | None = field(default=None, repr=False, compare=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.message)

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location}: {self.severity}: {self.message}{hint}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "value": self.value,
        }


def secrets_in(diagnostics: Iterable[Diagnostic]) -> set[str]:
    """The secret values the diagnostics are about: the caller registers them for scrubbing
    (validation itself has no side effect on the process's logging)."""
    return {d.secret for d in diagnostics if d.secret}


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


class DesiredStateError(Exception):
    """The desired state was rejected as a whole; `diagnostics` says every reason, sorted by place."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted_diagnostics(diagnostics)
        count = len(self.diagnostics)
        first = str(self.diagnostics[0]) if self.diagnostics else "no diagnostics"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(f"invalid desired state: {first}{more}")
