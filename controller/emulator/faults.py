"""Injected faults for /api/v2 calls: a 5xx rate, added latency, and 429 bursts.

A 429 burst answers the next `count` matching calls with 429 (with or without Retry-After),
ahead of the random error rate, so tests get an exact number of throttled answers.
Latency applies to every matching call, or to a seeded share of them (`latencyRate`), as a
slow backend node does. Every decision is seeded, so a run is repeatable.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class FaultDecision:
    latency_seconds: float = 0.0
    status: int | None = None  # an error to answer instead of the real handler
    retry_after: int | None = None  # for a 429 burst; None sends no Retry-After header


@dataclass
class Faults:
    error_rate: float = 0.0
    error_status: int = 503
    latency_ms: int = 0
    latency_rate: float = 1.0  # share of matching calls that get `latency_ms`
    path_pattern: re.Pattern[str] | None = None
    burst_left: int = 0
    burst_retry_after: int | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def clear(self) -> None:
        self.error_rate, self.error_status, self.latency_ms, self.latency_rate = 0.0, 503, 0, 1.0
        self.path_pattern, self.burst_left, self.burst_retry_after = None, 0, None

    def configure(self, spec: dict[str, Any]) -> None:
        """Apply a POST /_emulator/faults body; raises ValueError with a readable reason."""
        rate = float(spec.get("errorRate", self.error_rate))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("errorRate must be between 0 and 1")
        status = int(spec.get("errorStatus", self.error_status))
        if not 400 <= status <= 599:
            raise ValueError("errorStatus must be an HTTP error status (400-599)")
        latency = int(spec.get("latencyMs", self.latency_ms))
        if latency < 0:
            raise ValueError("latencyMs must be >= 0")
        latency_rate = float(spec.get("latencyRate", self.latency_rate))
        if not 0.0 <= latency_rate <= 1.0:
            raise ValueError("latencyRate must be between 0 and 1")
        pattern = spec.get("pathPattern")
        compiled = re.compile(pattern) if pattern else None
        burst = spec.get("burst429")
        if burst is not None:
            self.burst_left = int(burst.get("count", 0))
            retry_after = burst.get("retryAfter", 1)
            self.burst_retry_after = None if retry_after is None else int(retry_after)
        self.error_rate, self.error_status, self.latency_ms = rate, status, latency
        self.latency_rate = latency_rate
        if "pathPattern" in spec:
            self.path_pattern = compiled

    def decide(self, path: str) -> FaultDecision:
        if self.path_pattern is not None and not self.path_pattern.search(path):
            return FaultDecision()
        decision = FaultDecision()
        if self.latency_ms and (self.latency_rate >= 1.0 or self.rng.random() < self.latency_rate):
            decision.latency_seconds = self.latency_ms / 1000
        if self.burst_left > 0:
            self.burst_left -= 1
            decision.status, decision.retry_after = 429, self.burst_retry_after
        elif self.error_rate and self.rng.random() < self.error_rate:
            decision.status = self.error_status
        return decision
