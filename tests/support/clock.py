"""An injected monotonic clock for tests: time moves only when the test (or an injected sleep)
moves it, so arithmetic on time is tested without waiting."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
