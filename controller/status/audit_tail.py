"""The last records of the audit log, read from the end of the current file (shell).

The status page asks for them on every load, so this reads at most `window` bytes, not the
whole (up to rotateBytes) file; a line cut by the window's start or torn by a crash is skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

WINDOW = 256 * 1024


def audit_tail(
    path: str | os.PathLike[str], count: int = 50, window: int = WINDOW
) -> tuple[dict[str, Any], ...]:
    """Up to `count` records, oldest first, from the end of `path` (empty when absent)."""
    try:
        with Path(path).open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - window)
            f.seek(start)
            data = f.read()
    except FileNotFoundError:
        return ()
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # begins mid-line
    records: list[dict[str, Any]] = []
    for raw in reversed(lines):
        if len(records) >= count:
            break
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        # A write's intent is followed by its outcome: show the outcome, as `presencectl audit` does.
        if isinstance(record, dict) and record.get("phase") != "intent":
            records.append(record)
    return tuple(reversed(records))
