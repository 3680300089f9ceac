"""The core reads no clock: `now` is always a parameter (import-linter keeps I/O modules out;
this catches the calls an import contract cannot see, like datetime.now())."""

from __future__ import annotations

import ast
from pathlib import Path

import controller.core

CORE = Path(controller.core.__file__).parent
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def _clock_calls(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_CALLS
            and isinstance(node.func.value, ast.Name)
        ):
            found.append(f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}")
    return found


def test_no_module_of_the_core_reads_the_clock() -> None:
    offenders = {
        str(path.relative_to(CORE)): calls
        for path in sorted(CORE.rglob("*.py"))
        if (calls := _clock_calls(path.read_text()))
    }
    assert offenders == {}


def test_the_check_sees_a_clock_read() -> None:
    assert _clock_calls("from datetime import datetime\nx = datetime.now()\n") == ["datetime.now() at line 2"]
