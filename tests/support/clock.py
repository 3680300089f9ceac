"""Test time: the pinned test day, and an injected monotonic clock that moves only when the test
(or an injected sleep) moves it, so arithmetic on time is tested without waiting."""

from __future__ import annotations

from datetime import date

# The day every emulator-clock test runs on, pinned so a failing run is reproducible: a winter
# Tuesday (New York on EST, London on GMT) ahead of the wall clock, so time travel only moves the
# emulator clock forward and the agents' initial presence timestamps lie in the past, as in a real
# org; before the example desired/'s override ends (2030-01-01) and away from its holidays.
PINNED_DAY = date(2029, 1, 16)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
