"""OAuth client credentials (docs/genesys-api.md#oauth): one cached token, refreshed before it expires.

Only one thread refreshes at a time; the others wait for its result instead of each asking for
a token (single flight). `invalidate(token)` is what a 401 calls: it drops that token only if it
is still the current one, so N concurrent 401s cause one refresh, not N.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from controller.genesys.backoff import DEFAULT_BACKOFF, Backoff
from controller.genesys.config import ClientConfig
from controller.genesys.errors import ConnectionFailed, GenesysError, Unauthorized, error_from_response
from controller.genesys.stats import ClientStats
from controller.log import register_secret

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    token_type: str
    expires_at: float  # on the provider's clock
    refresh_at: float

    @property
    def header(self) -> str:
        return f"{self.token_type} {self.value}"


def refresh_margin(expires_in: float) -> float:
    """Refresh this long before expiry: 60 s, but at most a fifth of a short lifetime."""
    return min(60.0, expires_in / 5)


class TokenProvider:
    def __init__(
        self,
        config: ClientConfig,
        session: requests.Session,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stats: ClientStats | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._backoff = backoff
        self._rand = rand
        self._config = config
        self._stats = stats
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.fetches = 0  # tokens obtained, for tests and metrics
        basic = base64.b64encode(f"{config.client_id}:{config.client_secret}".encode()).decode()
        register_secret(basic)
        self._basic = f"Basic {basic}"

    def token(self) -> AccessToken:
        current = self._token
        if current is not None and self._clock() < current.refresh_at:
            return current
        with self._lock:
            current = self._token
            if current is not None and self._clock() < current.refresh_at:
                return current  # another thread refreshed while we waited
            self._token = self._fetch()
            return self._token

    def invalidate(self, token: AccessToken) -> None:
        with self._lock:
            if self._token is token:
                self._token = None

    def _record(self, status: int, started: float) -> None:
        if self._stats is not None:
            self._stats.record("POST", TOKEN_PATH, status, self._clock() - started)

    def _fetch(self) -> AccessToken:
        url = self._config.login_base + TOKEN_PATH
        attempts = 0
        while True:
            attempts += 1
            started = self._clock()
            try:
                resp = self._session.post(
                    url,
                    data={"grant_type": "client_credentials"},
                    headers={"Authorization": self._basic, "User-Agent": self._config.user_agent},
                    timeout=self._config.timeout_seconds,
                )
            except requests.RequestException as exc:
                self._record(0, started)
                if attempts <= self._config.max_retries:
                    self._sleep(self._backoff.delay(attempts - 1, self._rand()))
                    continue
                raise ConnectionFailed(
                    f"cannot reach the login host {self._config.login_base}: {type(exc).__name__}",
                    method="POST",
                    path=TOKEN_PATH,
                ) from None
            self._record(resp.status_code, started)
            if resp.status_code == 200:
                break
            if (resp.status_code == 429 or resp.status_code >= 500) and attempts <= self._config.max_retries:
                err = error_from_response(
                    resp.status_code, resp.text, resp.headers, method="POST", path=TOKEN_PATH
                )
                wait = (
                    err.retry_after
                    if err.retry_after is not None
                    else self._backoff.delay(attempts - 1, self._rand())
                )
                self._sleep(min(self._config.max_retry_after_seconds, wait))
                continue
            err = error_from_response(
                resp.status_code, resp.text, resp.headers, method="POST", path=TOKEN_PATH
            )
            if resp.status_code in (400, 401, 403):
                raise Unauthorized(
                    f"the login host {self._config.login_base} refused the OAuth client credentials "
                    f"of client id {self._config.client_id!r} ({err.message})",
                    status=resp.status_code,
                    code=err.code,
                    context_id=err.context_id,
                    method="POST",
                    path=TOKEN_PATH,
                )
            raise err
        try:
            body = resp.json()
            value = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 86400)
        except (ValueError, KeyError, TypeError):
            raise GenesysError(
                "the token endpoint answered 200 without an access_token",
                status=200,
                method="POST",
                path=TOKEN_PATH,
            ) from None
        register_secret(value)
        self.fetches += 1
        log.info(
            "oauth token obtained",
            extra={"expires_in": expires_in, "latency_ms": round((self._clock() - started) * 1000, 1)},
        )
        return AccessToken(
            value=value,
            token_type=str(body.get("token_type") or "bearer").capitalize(),
            expires_at=started + expires_in,
            refresh_at=started + expires_in - refresh_margin(expires_in),
        )
