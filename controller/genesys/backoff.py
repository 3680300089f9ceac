"""Exponential backoff, the one formula of the client (transport, token fetch, stream) and the
executor's per-agent write backoff."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_DOUBLINGS = 62  # 2**62 × any base is past every cap; the exponent never overflows a float


@dataclass(frozen=True, slots=True)
class Backoff:
    """Sleep base·2^attempt capped at `cap_seconds`, scaled by a uniform draw in [low, high].

    The default (low 0, high 1) is full jitter (AWS architecture blog): U(0, min(cap, base·2^n)).
    A spread like (0.8, 1.2) keeps every retry near its nominal delay; the result never exceeds
    the cap."""

    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    low: float = 0.0
    high: float = 1.0

    def delay(self, attempt: int, rand: float) -> float:
        """`attempt` counts from 0 (the first retry); `rand` is uniform in [0, 1)."""
        nominal = min(self.cap_seconds, self.base_seconds * 2.0 ** min(max(0, attempt), _MAX_DOUBLINGS))
        return float(min(self.cap_seconds, nominal * (self.low + (self.high - self.low) * rand)))


DEFAULT_BACKOFF = Backoff()
