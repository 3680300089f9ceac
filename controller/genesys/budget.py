"""The one request budget of the process: a thread-safe token bucket shared by every caller.

Genesys allows about 300 requests per minute per OAuth client and counts them over a minute
(docs/genesys-api.md#rate-limits-and-retries). A bucket refilling at r/min with capacity b lets
r + b requests through in any 60 s, so the configured rate is split into a small burst (1/20th) and a
refill of the remainder: any minute then sees at most `rate_per_minute` requests and the server has
no reason to answer 429.

After a 429 the whole process pauses until the server's Retry-After (or the caller's backoff)
and the refill rate halves, recovering linearly to the full rate over `recovery_seconds`:
one rate-limited endpoint slows every part of the daemon instead of each part retrying on its own.
Two lanes share the bucket. Corrections (writes, and the reads that serve them: a boundary's stale
entries, a write's read-back, an event's agent) go first: while one waits, resync reads take no
token. Resync reads (a context set with `resync_lane()`, which follows the call into the client's
pool threads) also draw from a second bucket refilled at `read_share` of the rate: a full resync
of a large org is spread out and never takes more than that share, so corrections never queue
behind it. `inin-ratelimit-*` headers (docs/genesys-api.md#rate-limits-and-retries), when present,
lower the rate to the server's allowance and pause until its window resets when it is spent.

The clock and sleep are injected so the arithmetic is tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

Clock = Callable[[], float]
_EPSILON = 1e-9
Sleep = Callable[[float], None]
READ_SHARE = 0.25  # of the rate, at most, for resync reads

_resync: ContextVar[bool] = ContextVar("presencectl_resync_lane", default=False)


@contextmanager
def resync_lane() -> Iterator[None]:
    """Calls made inside (in this thread, or in pool threads it hands work to) are resync reads."""
    token = _resync.set(True)
    try:
        yield
    finally:
        _resync.reset(token)


def in_resync_lane() -> bool:
    return _resync.get()


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    refill_per_minute: float  # current refill rate, after any post-429 slowdown
    tokens: float
    paused_for: float  # seconds until the post-429 pause ends
    acquired: int
    waited_seconds: float
    slowdowns: int


class RateBudget:
    def __init__(
        self,
        rate_per_minute: int = 300,
        *,
        burst: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        slowdown_factor: float = 0.5,
        recovery_seconds: float = 60.0,
        read_share: float = READ_SHARE,
    ) -> None:
        self._lock = threading.Lock()
        self.read_share = min(1.0, max(0.01, read_share))
        self._configured_rate = rate_per_minute
        self._configure(rate_per_minute, burst)
        self._clock = clock
        self._sleep = sleep
        self._slowdown_factor = slowdown_factor
        self._recovery_seconds = recovery_seconds
        self._tokens = self._burst
        self._read_tokens = self._read_burst
        self._writers_waiting = 0
        self._last = clock()
        self._paused_until = 0.0
        self._last_slowdown: float | None = None
        self._acquired = 0
        self._waited = 0.0
        self._slowdowns = 0

    def _configure(self, rate_per_minute: int, burst: int | None) -> None:
        if rate_per_minute < 1:
            raise ValueError("rate_per_minute must be >= 1")
        self._burst = float(burst if burst is not None else max(1, rate_per_minute // 20))
        # Refill of the remainder keeps refill*60 + burst <= rate_per_minute (for rates >= 2/min).
        self._refill_per_s = max(rate_per_minute - self._burst, 1.0) / 60.0
        self._read_burst = max(1.0, self._burst * self.read_share)
        self.rate_per_minute = rate_per_minute

    def set_rate(self, rate_per_minute: int) -> None:
        """Change the rate in place (a reloaded configuration); waiting callers see it at once."""
        with self._lock:
            self._refill(self._clock())
            self._configured_rate = rate_per_minute
            self._configure(rate_per_minute, None)
            self._tokens = min(self._tokens, self._burst)
            self._read_tokens = min(self._read_tokens, self._read_burst)

    def _multiplier(self, now: float) -> float:
        if self._last_slowdown is None:
            return 1.0
        elapsed = now - max(self._last_slowdown, self._paused_until)
        if elapsed <= 0:
            return self._slowdown_factor
        if elapsed >= self._recovery_seconds:
            return 1.0
        return self._slowdown_factor + (1 - self._slowdown_factor) * elapsed / self._recovery_seconds

    def _refill(self, now: float) -> None:
        if now > self._last:
            start = max(self._last, self._paused_until)
            if now > start:
                # The rate at the end of the interval: slightly conservative while recovering.
                gained = (now - start) * self._refill_per_s * self._multiplier(now)
                self._tokens = min(self._burst, self._tokens + gained)
                self._read_tokens = min(self._read_burst, self._read_tokens + gained * self.read_share)
            self._last = now

    def try_acquire(self, *, resync: bool = False) -> float:
        """Take one token if available and return 0, else return the seconds to wait first. A
        resync read also needs a token of the read share, and yields to any waiting correction."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._paused_until:
                return self._paused_until - now
            per_s = self._refill_per_s * self._multiplier(now)
            if resync:
                if self._writers_waiting:
                    return 1.0 / per_s
                if self._read_tokens < 1.0 - _EPSILON:
                    return (1.0 - self._read_tokens) / (per_s * self.read_share)
            if self._tokens >= 1.0 - _EPSILON:  # float sums of refills land a hair below 1
                self._tokens -= 1.0
                if resync:
                    self._read_tokens -= 1.0
                self._acquired += 1
                return 0.0
            return (1.0 - self._tokens) / per_s

    def acquire(self, cancel: threading.Event | None = None, *, resync: bool | None = None) -> float:
        """Block until a request may be sent; returns the seconds waited. When `cancel` is set
        while it has to wait, it returns -1 at once without a token (the caller gives up).
        `resync` defaults to the calling context's lane (`resync_lane()`)."""
        lane = in_resync_lane() if resync is None else resync
        waited = 0.0
        counted = False
        try:
            while True:
                wait = self.try_acquire(resync=lane)
                if wait <= 0:
                    if waited:
                        with self._lock:
                            self._waited += waited
                    return waited
                if cancel is not None and cancel.is_set():
                    return -1.0
                if not lane and not counted:  # resync reads hold back while a correction waits
                    counted = True
                    with self._lock:
                        self._writers_waiting += 1
                interruptible_sleep(self._sleep, wait, cancel)
                waited += wait
        finally:
            if counted:
                with self._lock:
                    self._writers_waiting -= 1

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """`inin-ratelimit-allowed/-count/-reset` of an answer: a server allowance below the
        configured rate becomes the rate (never above it), and a spent window pauses everyone
        until it resets."""
        try:
            allowed = int(headers["inin-ratelimit-allowed"])
            count = int(headers.get("inin-ratelimit-count", "0"))
            reset = float(headers.get("inin-ratelimit-reset", "0"))
        except (KeyError, ValueError):
            return
        if allowed < 1:
            return
        with self._lock:
            rate = min(allowed, self._configured_rate)
            if rate != self.rate_per_minute:
                now = self._clock()
                self._refill(now)
                self._configure(rate, None)
                self._tokens = min(self._tokens, self._burst)
                self._read_tokens = min(self._read_tokens, self._read_burst)
            if count >= allowed and reset > 0:
                self._paused_until = max(self._paused_until, self._clock() + reset)

    def slow_down(self, pause_seconds: float = 0.0) -> None:
        """A 429 was seen: pause everyone for `pause_seconds`, halve the rate, drop saved burst."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._paused_until = max(self._paused_until, now + max(0.0, pause_seconds))
            self._last_slowdown = now
            self._tokens = min(self._tokens, 0.0)
            self._slowdowns += 1

    def snapshot(self) -> BudgetSnapshot:
        with self._lock:
            now = self._clock()
            self._refill(now)
            return BudgetSnapshot(
                refill_per_minute=self._refill_per_s * 60 * self._multiplier(now),
                tokens=self._tokens,
                paused_for=max(0.0, self._paused_until - now),
                acquired=self._acquired,
                waited_seconds=self._waited,
                slowdowns=self._slowdowns,
            )


def interruptible_sleep(sleep: Sleep, seconds: float, cancel: threading.Event | None = None) -> bool:
    """Sleep `seconds` with `sleep`; True when `cancel` is set by the end. A real sleep
    (`time.sleep`) wakes as soon as `cancel` is set; an injected one (tests) runs as it is."""
    if cancel is None:
        sleep(seconds)
        return False
    if sleep is time.sleep:
        return cancel.wait(seconds)
    sleep(seconds)
    return cancel.is_set()


_shared: dict[tuple[str, str], RateBudget] = {}
_shared_lock = threading.Lock()


def shared_budget(rate_per_minute: int = 300, key: tuple[str, str] = ("", "")) -> RateBudget:
    """The process-wide budget of one OAuth client (Genesys counts requests per client):
    `key` is (api_base, client_id). Every GenesysClient of that client shares it; asking again
    with another rate (a reloaded configuration) changes its rate in place instead of creating a
    second budget that would double the traffic."""
    with _shared_lock:
        budget = _shared.get(key)
        if budget is None:
            budget = _shared[key] = RateBudget(rate_per_minute)
        elif budget._configured_rate != rate_per_minute:
            budget.set_rate(rate_per_minute)
        return budget
