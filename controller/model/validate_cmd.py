"""`presencectl validate DIR`: exit 0 when the desired state is valid, 2 when not (or unreadable)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from controller.model.errors import ERROR, DesiredStateError, Diagnostic
from controller.model.loader import check_files, desired_files
from controller.model.types import DesiredState

VALID, INVALID = 0, 2


def run(args: argparse.Namespace) -> int:
    return validate(args.directory, output=args.output, out=sys.stdout)


def validate(directory: str, *, output: str = "text", out: TextIO = sys.stdout) -> int:
    """Offline validation against the real clock; prints diagnostics, returns the exit code."""
    try:
        files = desired_files(directory)
    except DesiredStateError as exc:
        return report(exc.diagnostics, None, output, out)
    state, diagnostics = check_files(files, now=datetime.now(UTC))
    return report(diagnostics, state, output, out, len(files))


def report(
    diagnostics: Sequence[Diagnostic],
    state: DesiredState | None,
    output: str,
    out: TextIO,
    files: int = 0,
) -> int:
    if output == "json":
        json.dump([d.to_json() for d in diagnostics], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        # Errors first: they are what stops the set; notes (unchecked names) follow.
        for diagnostic in sorted(diagnostics, key=lambda d: d.severity != ERROR):
            out.write(f"{diagnostic}\n")
        out.write(_summary(diagnostics, state, files) + "\n")
    return VALID if state is not None else INVALID


def _summary(diagnostics: Sequence[Diagnostic], state: DesiredState | None, files: int) -> str:
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    notes = len(diagnostics) - errors
    noted = f", {notes} note(s)" if notes else ""
    if state is None:
        failing = len({d.location.file for d in diagnostics if d.severity == ERROR})
        return f"invalid: {errors} error(s) in {failing} file(s){noted}; nothing will be applied"
    return (
        f"valid: {files} file(s), {len(state.policies)} PresencePolicy, "
        f"{len(state.mappings)} PresenceMapping, {len(state.subscriptions)} EventSubscription"
        f"{noted}; digest {state.digest[:12]}"
    )
