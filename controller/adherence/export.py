"""The adherence export that loses nothing (ControllerConfig.adherenceExport).

An export is the agent-day records of a range (controller.adherence.report.record), cut into
batches of `batchSize`. Each batch is first spooled in the timeline database, then the spool is
delivered oldest first, one batch at a time: POST {range, batch, batches, records} with an
`Idempotency-Key` header (a hash of the range and the batch, so a retried or re-exported batch
has the same key and the dashboard can drop the copy), the auth header read from a secret
reference, and the webhook's HMAC signature headers when a signing secret is set. 5xx, 429
(waiting `Retry-After`) and time-outs are retried with full-jitter backoff; a batch still not
accepted stays spooled, and so does everything after it (order is kept), until the next
delivery (every minute in the daemon, and at start: across restarts).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import requests

from controller.adherence.report import AgentDay, record
from controller.adherence.store import TimelineStore
from controller.genesys import Backoff
from controller.metrics import Metrics
from controller.webhook import sign

_log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
ATTEMPTS = 5  # per batch and delivery; then it waits in the spool for the next delivery
RETRY_BACKOFF = Backoff(base_seconds=1.0, cap_seconds=30.0)
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class ExportSettings:
    url: str
    batch_size: int = 500
    auth_header: tuple[str, str] | None = None  # (name, value read from the secret reference)
    signing_secret: str | None = None  # HMAC like the webhook (X-Presencectl-Timestamp/-Signature)


def batches(days: Sequence[AgentDay], first: date, last: date, size: int) -> list[tuple[str, str]]:
    """(idempotency key, body) of each batch of the range's records, in order (pure)."""
    records = [record(d) for d in days]
    chunks = [records[i : i + size] for i in range(0, len(records), size)] or [[]]
    out = []
    for number, chunk in enumerate(chunks, start=1):
        body = {
            "range": {"from": first.isoformat(), "to": last.isoformat()},
            "batch": number,
            "batches": len(chunks),
            "records": chunk,
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        key = hashlib.sha256(f"{first}|{last}|{number}|".encode() + text.encode()).hexdigest()[:40]
        out.append((key, text))
    return out


def retry_after(answer: requests.Response) -> float | None:
    value = answer.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class Exporter:
    def __init__(
        self,
        store: TimelineStore,
        settings: ExportSettings,
        metrics: Metrics,
        clock: Callable[[], datetime],
        *,
        backoff: Backoff = RETRY_BACKOFF,
        sleep: Callable[[float], object] | None = None,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._metrics = metrics
        self._clock = clock
        self._backoff = backoff
        self._halt = threading.Event()
        self._sleep = sleep or self._halt.wait  # a stopping daemon ends a backoff wait at once
        self._rand = rand
        self._http = session or requests.Session()

    def export(self, days: Sequence[AgentDay], first: date, last: date) -> int:
        """Spool the range's batches (a batch already spooled is not doubled), then deliver.
        Returns the batches still undelivered."""
        found = batches(days, first, last, self._settings.batch_size)
        start = datetime.combine(first, clock_time(), UTC)
        end = datetime.combine(last + timedelta(days=1), clock_time(), UTC)
        added = self._store.spool(((k, start, end, body) for k, body in found), self._clock())
        self._metrics.adherence_export_batches_total.labels(result="spooled").inc(added)
        return self.deliver()

    def close(self) -> None:
        """Stop delivering (the daemon is stopping): what is not sent stays spooled."""
        self._halt.set()

    def deliver(self) -> int:
        """Send the spool oldest first until it is empty or a batch is not accepted; the count left
        (-1 when the exporter was closed meanwhile)."""
        for batch in self._store.spooled():
            if self._halt.is_set():
                return -1
            if not self._send(batch.key, batch.body):
                if self._halt.is_set():
                    return -1
                self._store.attempted(batch.id)
                self._metrics.adherence_export_batches_total.labels(result="failed").inc()
                break
            self._store.delivered(batch.id)
            self._metrics.adherence_export_batches_total.labels(result="sent").inc()
        left = self._store.spooled()
        oldest = self._store.oldest_spooled()
        age = (self._clock() - oldest).total_seconds() if oldest is not None else 0.0
        self._metrics.adherence_export_oldest_spooled_seconds.set(max(0.0, age))
        return len(left)

    def _headers(self, key: str, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: key}
        if self._settings.auth_header is not None:
            name, value = self._settings.auth_header
            headers[name] = value
        if self._settings.signing_secret is not None:
            headers.update(sign(self._settings.signing_secret, body, int(time.time())))
        return headers

    def _send(self, key: str, text: str) -> bool:
        body = text.encode()
        for attempt in range(ATTEMPTS):
            if self._halt.is_set():
                return False
            wait = self._backoff.delay(attempt, self._rand())
            try:
                answer = self._http.post(
                    self._settings.url, data=body, headers=self._headers(key, body), timeout=TIMEOUT_SECONDS
                )
            except requests.RequestException as exc:  # time-out, refused connection: retry
                _log.warning(
                    "adherence export failed; retrying", extra={"error": type(exc).__name__, "key": key}
                )
            else:
                if answer.ok:
                    return True
                if answer.status_code != 429 and answer.status_code < 500:
                    _log.error(
                        "adherence export refused; the batch stays spooled",
                        extra={"status": answer.status_code, "key": key},
                    )
                    return False
                wait = max(wait, retry_after(answer) or 0.0) if answer.status_code == 429 else wait
                _log.warning("adherence export answered %s; retrying", answer.status_code, extra={"key": key})
            if attempt + 1 < ATTEMPTS:
                self._sleep(wait)
        return False
