"""The one way a test waits: on a condition, never on a fixed sleep or a wall-clock limit.

`wait_for` polls until the condition holds. It fails early only when `give_up` names a reason
the wait is hopeless (a process died, a count went past the point of no return); a wait that
never ends is a hang, which pytest-timeout turns into a failure, so no test carries a deadline
that a busy machine could miss.
"""

from __future__ import annotations

import time
from collections.abc import Callable

FIRST_POLL_SECONDS = 0.005  # the condition is looked at again after this, then ever less often,
POLL_SECONDS = 0.1  # up to this (polls are not synchronisation delays: no test waits them out)

GiveUp = Callable[[], str | None]


def never() -> str | None:
    return None


def wait_for(
    condition: Callable[[], bool],
    what: str,
    give_up: GiveUp = never,
    *,
    every: float = POLL_SECONDS,
    first: float = FIRST_POLL_SECONDS,
) -> float:
    """Poll `condition` until true (`first` seconds apart, doubling up to `every`) and return the
    seconds it took (benches print them); raise as soon as `give_up()` returns a reason."""
    started = time.monotonic()
    pause = min(first, every)
    while not condition():
        reason = give_up()
        if reason:
            raise AssertionError(f"gave up waiting for {what}: {reason}")
        time.sleep(pause)
        pause = min(pause * 2, every)
    return time.monotonic() - started


def after(seconds: float) -> GiveUp:
    """A give-up after `seconds` of wall time, for benches only (tests rely on pytest-timeout)."""
    deadline = time.monotonic() + seconds

    def expired() -> str | None:
        return f"not within {seconds:g}s" if time.monotonic() > deadline else None

    return expired
