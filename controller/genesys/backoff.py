"""Exponential backoff with full jitter, shared by the transport, the token fetch and the stream."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter (AWS architecture blog): sleep U(0, min(cap, base*2^n))."""

    base_seconds: float = 0.5
    cap_seconds: float = 30.0

    def delay(self, attempt: int, rand: float) -> float:
        return float(rand * min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt)))


DEFAULT_BACKOFF = Backoff()
