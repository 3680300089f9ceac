"""The one place that sends HTTP requests to Genesys Cloud.

Each call: take a token from the shared budget, attach the OAuth token, send, then decide.
- 2xx: return the parsed body.
- 401: drop the token, fetch a fresh one, try once more (a revoked or expired token).
- 429: pause the whole process' budget for Retry-After (or an exponential backoff with full
  jitter when the header is missing), then retry; any method, since a 429 was not processed.
  A download host (a downloadUrl on another host) takes no budget token, so its 429 makes this
  call alone wait its Retry-After.
  A Retry-After above `max_retry_after_seconds` means a daily cap: raise RateLimited at once.
- 5xx / no response: bounded retries with full-jitter backoff, only for idempotent calls
  (GET/HEAD/PUT/DELETE, or a read-only POST the caller marks idempotent).
`abandon_reads()` (shutdown) makes every read (GET/HEAD, a POST marked idempotent) raise
ReadsAbandoned at once: before it is sent, while it waits for the budget or between retries. A
read already on the wire ends with its response. A write is sent whenever it need not wait; one
still waiting (budget, 429 pause, retry backoff) raises WriteAbandoned instead of waiting on.
One structured log line per call carries method, path template, status, latency, retries and
the inin-correlation-id; every HTTP attempt is counted in ClientStats.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from controller.genesys.auth import TokenProvider
from controller.genesys.backoff import DEFAULT_BACKOFF as DEFAULT_BACKOFF  # re-exported
from controller.genesys.backoff import Backoff as Backoff  # re-exported: controller.genesys.transport.Backoff
from controller.genesys.budget import RateBudget, interruptible_sleep
from controller.genesys.config import ClientConfig
from controller.genesys.errors import (
    ConnectionFailed,
    Fenced,
    GenesysError,
    RateLimited,
    ReadsAbandoned,
    WriteAbandoned,
    error_from_response,
)
from controller.genesys.stats import ClientStats

log = logging.getLogger("controller.genesys")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_5XX = frozenset({500, 502, 503, 504})

Params = Mapping[str, str | int | bool | Iterable[str] | None]


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    body: Any  # parsed JSON, or None for an empty body
    correlation_id: str
    headers: Mapping[str, str]


def encode_params(params: Params | None) -> dict[str, str]:
    """Lists are comma-joined, as the SDK sends them (`?id=a,b,c`); None values are dropped."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int):
            out[key] = str(value)
        else:
            out[key] = ",".join(value)
    return out


def fill_route(route: str, path_params: Mapping[str, str] | None) -> str:
    """`/api/v2/users/{userId}` + {"userId": "x"} -> `/api/v2/users/x`, each value percent-encoded."""
    if not path_params:
        return route
    return route.format(**{k: quote(str(v), safe="") for k, v in path_params.items()})


class Transport:
    def __init__(
        self,
        config: ClientConfig,
        *,
        budget: RateBudget,
        session: requests.Session | None = None,
        stats: ClientStats | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.budget = budget
        self.session = session or _new_session()
        self.stats = stats or ClientStats()
        self.auth = TokenProvider(
            config, self.session, clock=clock, sleep=sleep, stats=self.stats, backoff=backoff, rand=rand
        )
        self._backoff = backoff
        self._sleep = sleep
        self._rand = rand
        self._clock = clock
        self._api_host = urlsplit(config.api_base).netloc
        self.reads_abandoned = threading.Event()
        self.write_guard: Callable[[], bool] = lambda: True  # the coordination lease (set_write_guard)

    def abandon_reads(self) -> None:
        """Shutdown: every read from now on (and any waiting) raises ReadsAbandoned at once."""
        self.reads_abandoned.set()

    def check_reads(self, what: str = "") -> None:
        """Raise ReadsAbandoned when reads were abandoned (long waits call it as they go)."""
        if self.reads_abandoned.is_set():
            raise ReadsAbandoned(f"read abandoned: shutting down{what}", code="shutdown")

    def _give_up(self, method: str, route: str, read: bool, maybe_applied: bool) -> GenesysError:
        """The error of a call abandoned while it waited (shutdown)."""
        if read:
            return ReadsAbandoned(f"read abandoned: shutting down ({method} {route})", code="shutdown")
        return WriteAbandoned(
            f"write not sent: shutting down ({method} {route})",
            maybe_applied=maybe_applied,
            code="shutdown-after-attempt" if maybe_applied else "shutdown",
            method=method,
            path=route,
        )

    def request(
        self,
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        fenced: bool = False,
        precondition: Callable[[], None] | None = None,
        url: str | None = None,
    ) -> ApiResponse:
        """Send one logical call; `route` is the path template used in logs and metrics.

        `url` overrides the target (a nextUri or a downloadUrl); the bearer token and the budget
        apply only when it points at the API host. `fenced`: a presence or trigger write, sent
        only while `write_guard()` holds, asked right before each attempt goes on the wire (after
        the budget's wait and any retry pause, either of which can outlast a lease).
        `precondition`: asked right after that, before each attempt; it raises (e.g. Superseded)
        when the write must not be sent any more, and the call ends with that error.
        """
        method = method.upper()
        target = url if url is not None else self.config.api_base + fill_route(route, path_params)
        if target.startswith("/"):
            target = self.config.api_base + target
        on_api_host = urlsplit(target).netloc == self._api_host
        may_retry_5xx = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        # A read-only POST (a search) is marked idempotent by its caller; PUT/PATCH are writes.
        read = method in READ_METHODS or (method == "POST" and bool(idempotent))
        cancel = self.reads_abandoned  # set at shutdown: waits end at once
        maybe_applied = False  # a write attempt got no answer or a 5xx: it may have been applied
        query = encode_params(params)
        retries = 0
        rate_limited = 0
        auth_retried = False
        started = self._clock()
        while True:
            if read:
                self.check_reads(f" ({method} {route})")
            if on_api_host and self.budget.acquire(cancel) < 0:
                raise self._give_up(method, route, read, maybe_applied)
            headers = {"User-Agent": self.config.user_agent, "Accept": "application/json"}
            token = self.auth.token() if on_api_host else None
            if token is not None:
                headers["Authorization"] = token.header
            if fenced and not self.write_guard():
                self._log(method, route, 0, started, retries, "", rate_limited)
                raise Fenced(
                    "not sent: this replica cannot prove it holds the coordination lease",
                    code="fenced",
                    method=method,
                    path=route,
                )
            if precondition is not None:
                try:
                    precondition()
                except GenesysError:
                    self._log(method, route, 0, started, retries, "", rate_limited)
                    raise
            sent = self._clock()
            try:
                resp = self.session.request(
                    method,
                    target,
                    params=query or None,
                    json=json,
                    headers=headers,
                    timeout=self.config.timeout_seconds,
                )
            except requests.RequestException as exc:
                self.stats.record(method, route, 0, self._clock() - sent)
                if may_retry_5xx and retries < self.config.max_retries:
                    retries += 1
                    self._retry("connection", method, route, retries, type(exc).__name__)
                    maybe_applied = maybe_applied or not read
                    if interruptible_sleep(
                        self._sleep, self._backoff.delay(retries - 1, self._rand()), cancel
                    ):
                        raise self._give_up(method, route, read, maybe_applied) from None
                    continue
                self._log(method, route, 0, started, retries, "", rate_limited)
                raise ConnectionFailed(
                    f"no response from {urlsplit(target).netloc} ({type(exc).__name__})",
                    method=method,
                    path=route,
                ) from None
            status = resp.status_code
            self.stats.record(method, route, status, self._clock() - sent)
            correlation = resp.headers.get("inin-correlation-id", "")
            if status < 400:
                if on_api_host:
                    self.budget.observe_headers(resp.headers)
                self._log(method, route, status, started, retries, correlation, rate_limited)
                return ApiResponse(status, _json_or_none(resp), correlation, resp.headers)
            err = error_from_response(status, resp.text, resp.headers, method=method, path=route)
            if status == 401 and token is not None and not auth_retried:
                auth_retried = True
                self.auth.invalidate(token)
                self._retry("401", method, route, retries, err.code)
                continue
            rate_limited += status == 429
            if status == 429 and retries < self.config.max_retries:
                if err.retry_after is not None and err.retry_after > self.config.max_retry_after_seconds:
                    self._log(method, route, status, started, retries, correlation, rate_limited)
                    raise RateLimited(
                        f"{err.message}; Retry-After {err.retry_after:.0f}s exceeds the "
                        f"{self.config.max_retry_after_seconds:.0f}s the client waits (a quota, not a burst)",
                        status=429,
                        code=err.code,
                        context_id=err.context_id,
                        method=method,
                        path=route,
                        retry_after=err.retry_after,
                    )
                retries += 1
                pause = (
                    err.retry_after
                    if err.retry_after is not None
                    else self._backoff.delay(retries - 1, self._rand())
                )
                self._retry("429", method, route, retries, f"pause {pause:.2f}s")
                if on_api_host:
                    self.budget.slow_down(pause)  # the next acquire() waits, in every thread
                else:  # a download host has its own limit, and its calls take no budget token
                    self._sleep(pause)
                continue
            if status in RETRYABLE_5XX and may_retry_5xx and retries < self.config.max_retries:
                retries += 1
                self._retry("5xx", method, route, retries, str(status))
                maybe_applied = maybe_applied or not read
                if interruptible_sleep(
                    self._sleep, err.retry_after or self._backoff.delay(retries - 1, self._rand()), cancel
                ):
                    raise self._give_up(method, route, read, maybe_applied)
                continue
            self._log(method, route, status, started, retries, correlation, rate_limited)
            raise err

    def _retry(self, reason: str, method: str, route: str, retries: int, detail: str) -> None:
        self.stats.record_retry(reason)
        log.warning(
            "genesys call retried",
            extra={"method": method, "route": route, "reason": reason, "retry": retries, "detail": detail},
        )

    def _log(
        self,
        method: str,
        route: str,
        status: int,
        started: float,
        retries: int,
        correlation: str,
        rate_limited: int,
    ) -> None:
        """The end of one logical call: one log line, and the call listeners (metrics)."""
        self.stats.finish(method, route, status, self._clock() - started, retries, rate_limited)
        log.info(
            "genesys call",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "latency_ms": round((self._clock() - started) * 1000, 1),
                "retries": retries,
                "correlation_id": correlation,
            },
        )

    def close(self) -> None:
        self.session.close()


def _json_or_none(resp: requests.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        raise GenesysError(
            f"expected JSON, got {resp.headers.get('Content-Type', 'no content type')}",
            status=resp.status_code,
        ) from None


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
