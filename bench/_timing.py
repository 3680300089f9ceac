"""The benches' CPU timer (a helper, not a bench: `python -m bench` lists no `_` module)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def cpu(fn: Callable[[], T], runs: int = 3) -> tuple[float, T]:
    """The best CPU seconds (time.process_time) of `runs` calls of `fn`, and its last result."""
    assert runs >= 1
    best = float("inf")
    for _ in range(runs):
        began = time.process_time()
        result = fn()
        best = min(best, time.process_time() - began)
    return best, result
