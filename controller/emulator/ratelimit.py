"""Per-client request budget: a fixed 60-second window on the emulator clock.

A fixed window (not a sliding log) because it is what `inin-ratelimit-reset` describes: seconds
until the count starts again. Advancing the emulator clock past the window clears it, which
lets tests skip waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(seconds=60)


@dataclass(slots=True)
class Budget:
    window_start: datetime
    count: int


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    count: int
    reset_seconds: int  # seconds until the window restarts (Retry-After when refused)


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._budgets: dict[str, Budget] = {}

    def used(self, client_id: str) -> int:
        """Calls `client_id` made in its current window (a call counts on arrival)."""
        budget = self._budgets.get(client_id)
        return 0 if budget is None else budget.count

    def take(self, client_id: str, now: datetime) -> RateDecision:
        budget = self._budgets.get(client_id)
        if budget is None or not budget.window_start <= now < budget.window_start + WINDOW:
            budget = self._budgets[client_id] = Budget(now, 0)
        reset = max(1, math.ceil((budget.window_start + WINDOW - now).total_seconds()))
        if budget.count >= self.per_minute:
            return RateDecision(False, self.per_minute, budget.count, reset)
        budget.count += 1
        return RateDecision(True, self.per_minute, budget.count, reset)
