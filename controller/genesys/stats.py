"""Per-call counters and a latency histogram, as plain thread-safe objects.

Callers read `ClientStats.snapshot()`, or subscribe with `add_listener`: the daemon's
`presencectl_api_*` metrics (controller.metrics) are fed that way, the one metrics path, so the
client itself needs no Prometheus. Routes are path templates (bounded label values), never URLs
with ids.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

# Told of every logical call once it ends (after its retries): method, route template, final
# status (0: no response), seconds in all, retries, and how many 429 answers it met.
CallListener = Callable[[str, str, int, float, int, int], None]

LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    calls: dict[tuple[str, str, int], int]  # (method, route, status) -> HTTP attempts; status 0 = no response
    retries: dict[str, int]  # reason ("429", "5xx", "connection", "401") -> count
    latency_buckets: tuple[float, ...]
    latency_counts: tuple[int, ...]  # per bucket upper bound, last entry = +Inf (not cumulative)
    latency_sum: float

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def count(self, status: int | None = None, route: str | None = None, method: str | None = None) -> int:
        return sum(
            n
            for (m, r, s), n in self.calls.items()
            if (status is None or s == status)
            and (route is None or r == route)
            and (method is None or m == method)
        )


class ClientStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[CallListener] = []
        self._calls: Counter[tuple[str, str, int]] = Counter()
        self._retries: Counter[str] = Counter()
        self._buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self._sum = 0.0

    def record(self, method: str, route: str, status: int, latency_s: float) -> None:
        with self._lock:
            self._calls[(method, route, status)] += 1
            self._buckets[bisect.bisect_left(LATENCY_BUCKETS, latency_s)] += 1
            self._sum += latency_s

    def add_listener(self, listener: CallListener) -> None:
        """Call `listener` at the end of every logical call (e.g. the daemon's Prometheus metrics)."""
        with self._lock:
            self._listeners.append(listener)

    def finish(
        self, method: str, route: str, status: int, seconds: float, retries: int, rate_limited: int
    ) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(method, route, status, seconds, retries, rate_limited)

    def record_retry(self, reason: str) -> None:
        with self._lock:
            self._retries[reason] += 1

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(
                calls=dict(self._calls),
                retries=dict(self._retries),
                latency_buckets=LATENCY_BUCKETS,
                latency_counts=tuple(self._buckets),
                latency_sum=self._sum,
            )
