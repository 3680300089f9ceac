"""Typed errors carrying what Genesys said: message, code, HTTP status and the correlation id.

`error_from_response` is pure (status, body text, headers -> error) so it is tested without HTTP.
Every text is passed through controller.log.scrub, so a secret echoed back by a server (or put in
a URL by mistake) never reaches str(error), a log line or an audit record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from controller.log import scrub


class GenesysError(Exception):
    """Base of every client error. `status` is 0 when no HTTP response was received."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        context_id: str = "",
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
        details: tuple[str, ...] = (),
    ) -> None:
        self.message = scrub(message)
        self.status = status
        self.code = code
        self.context_id = context_id
        self.method = method
        self.path = path  # the path template, never a URL with query values
        self.retry_after = retry_after
        self.details = tuple(scrub(d) for d in details)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        status = f"HTTP {self.status} " if self.status else ""
        code = f"[{self.code}] " if self.code else ""
        extra = f" ({'; '.join(self.details)})" if self.details else ""
        ctx = f" (correlation id {self.context_id})" if self.context_id else ""
        return scrub(f"{where}{status}{code}{self.message}{extra}{ctx}")


class BadRequest(GenesysError):
    """400/422: the request was malformed or refused by validation; retrying will not help."""


class Unauthorized(GenesysError):
    """401 even with a fresh token, or the token endpoint rejected the client credentials."""


class Forbidden(GenesysError):
    """403: the OAuth client's role lacks a permission (see `message` for which)."""


class NotFound(GenesysError):
    """404: no such entity (or channel expired)."""


class Conflict(GenesysError):
    """409: a version mismatch or duplicate; re-read and retry the edit."""


class RateLimited(GenesysError):
    """429 after all retries, or a Retry-After too long to wait for."""


class ServerError(GenesysError):
    """5xx after all retries (or on the first try of a non-idempotent call)."""


class ConnectionFailed(GenesysError):
    """No HTTP response at all: DNS, refused connection, timeout."""


class ReadsAbandoned(GenesysError):
    """The client is shutting down: reads are dropped at once (writes in flight still finish)."""


class ScheduleSearchPending(GenesysError):
    """The schedule search answered Processing and no notification arrived within the wait."""


class Fenced(GenesysError):
    """A write not sent: the write guard (the coordination lease, checked at the instant of each
    send, after any wait for the budget or a retry) no longer holds. Never retried."""


class Superseded(GenesysError):
    """A write not sent (again): what it was planned on changed before this attempt (the caller's
    precondition, asked right before each attempt: a budget wait, a 429 pause or a 5xx retry can
    last seconds to minutes, and an agent can pick up an interaction meanwhile). Never retried."""


class WriteAbandoned(GenesysError):
    """The client is shutting down and this write was still waiting (for the rate budget, a 429
    pause or a retry): it is not sent (again). `maybe_applied`: an earlier attempt got no answer
    or a 5xx, so the platform may have applied it anyway."""

    def __init__(self, message: str, *, maybe_applied: bool, **kw: Any) -> None:
        self.maybe_applied = maybe_applied
        super().__init__(message, **kw)


_BY_STATUS: dict[int, type[GenesysError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: Conflict,
    422: BadRequest,
    429: RateLimited,
}

_HINTS: dict[type[GenesysError], str] = {
    Unauthorized: "check the OAuth client id/secret and that the client is active",
    Forbidden: "grant the OAuth client's role the missing permission",
}


def error_class(status: int) -> type[GenesysError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, GenesysError)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; Genesys never sends the date form)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def error_from_response(
    status: int, body: str, headers: Mapping[str, str], *, method: str = "", path: str = ""
) -> GenesysError:
    """Build the typed error from an ErrorBody (`message`, `code`, `status`, `contextId`, `details`)."""
    data: Any = None
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    message, code, context_id = "", "", ""
    details: list[str] = []
    if isinstance(data, dict):
        message = str(data.get("message") or data.get("error_description") or data.get("error") or "")
        code = str(data.get("code") or (data.get("error") if "error_description" in data else "") or "")
        context_id = str(data.get("contextId") or "")
        for d in data.get("details") or []:
            if isinstance(d, dict) and (d.get("errorCode") or d.get("fieldName")):
                details.append(f"{d.get('fieldName') or ''} {d.get('errorCode') or ''}".strip())
    if not message:
        message = body.strip()[:200] if body and data is None else f"HTTP {status}"
    lower = {k.lower(): v for k, v in headers.items()}
    context_id = context_id or lower.get("inin-correlation-id", "")
    cls = error_class(status)
    hint = _HINTS.get(cls)
    if hint:
        message = f"{message}; {hint}"
    return cls(
        message,
        status=status,
        code=code,
        context_id=context_id,
        method=method,
        path=path,
        retry_after=parse_retry_after(lower.get("retry-after")),
        details=tuple(details),
    )
