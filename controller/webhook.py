"""Signed inbound webhook: `POST /webhooks/presence` for relayed Genesys events and external WFM states.

Who calls it: a Genesys Architect workflow (started by a Process Automation trigger) through a
data action, an Amazon EventBridge API destination, or any external WFM feed. Genesys itself has
no outbound webhook resource (docs/genesys-api.md#process-automation-triggers), so the relay
signs requests with a shared secret.

Signature (see `sign`): headers `X-Presencectl-Timestamp: <unix seconds>` and
`X-Presencectl-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>`. The receiver
compares in constant time, refuses timestamps more than 5 minutes away from its clock (either
direction), refuses bodies above 64 KiB before reading them whole, bodies that are not
`application/json` (415), bodies that take longer than 10 s to arrive (408, a slow drip must not
hold a connection), JSON nested deeper than 32 levels (400, checked before parsing), and
remembers accepted event ids (bounded LRU, kept as long as the replay window) so a redelivery
answers 200 "duplicate".

Accepted bodies:
(a) a notification envelope `{topicName, version, eventBody, metadata}` for
    `v2.users.{id}.presence|routingStatus|activity` -> `RecheckAgent` (level-triggered: the loop
    re-reads and re-plans that agent; the event's content is never trusted as state). Its id is
    `metadata.CorrelationId`, else the SHA-256 of the body.
(b) an external WFM state `{eventId, userId | email, state, time?}` -> `ExternalState`, the state
    looked up in the PresenceMappings; the engine turns it into a temporary override with
    `external_override`, standing for `EXTERNAL_STATE_TTL` from `time`. A state whose `time` is
    already older than that (against the signed send time) is refused: 422 `stale_event`.

The handler only validates and calls `enqueue` (given at construction; it must not block, e.g.
`queue.put_nowait` or `loop.call_soon_threadsafe`), then answers 202; it never calls Genesys.
Every answer is counted in `presencectl_webhook_requests_total{result}` with result one of
RESULTS; errors are JSON `{"error": result, "detail": "..."}` with a 4xx status.

Public API: `sign`, `load_secret`, `WebhookReceiver`, `webhook_routes`, `RecheckAgent`,
`ExternalState`, `WebhookEvent`, `external_override`, `verify_signature`, `parse_event`, `Rejection`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from controller.failures import LocalConfigError
from controller.log import register_secret
from controller.metrics import WEBHOOK_RESULTS, Metrics
from controller.model.types import Override, PresenceMapping, SecretRef

log = logging.getLogger(__name__)

PATH = "/webhooks/presence"
TIMESTAMP_HEADER = "X-Presencectl-Timestamp"
SIGNATURE_HEADER = "X-Presencectl-Signature"
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # our bodies nest 4 deep; json.loads recurses, so depth is capped before it
BODY_TIMEOUT_SECONDS = 10.0  # the whole body must arrive within this
EXTERNAL_STATE_TTL = timedelta(hours=8)  # an external WFM state stands until replaced or this old
JSON_TYPES = ("application/json",)  # and any application/*+json
REPLAY_WINDOW_SECONDS = 300
SEEN_IDS_MAX = 100_000
RESULTS = WEBHOOK_RESULTS  # one list, so the metric pre-creates every result label
_USER_TOPIC = re.compile(r"^v2\.users\.([^.]+)\.(presence|routingStatus|activity)$")


class WebhookConfigError(LocalConfigError):
    """The webhook secret cannot be read; the message says where it was looked for."""


def load_secret(
    ref: SecretRef,
    environ: Mapping[str, str] | None = None,
    *,
    what: str = "webhook secret",
    setting: str = "webhookSecret",
) -> str:
    """Read the secret from the env variable or file `ref` names, and register it for scrubbing.
    `what` and `setting` name it in errors (the webhook's by default; the adherence export's too)."""
    env = os.environ if environ is None else environ
    if ref.env:
        value = env.get(ref.env, "")
        if not value:
            raise WebhookConfigError(
                f"{what}: environment variable {ref.env} is unset or empty; export it "
                "(any long random string, shared with the other side) "
                f"or change {setting} in ControllerConfig"
            )
    elif ref.file:
        try:
            value = Path(ref.file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise WebhookConfigError(f"{what}: cannot read {ref.file}: {exc.strerror}") from None
        if not value:
            raise WebhookConfigError(f"{what}: {ref.file} is empty")
    else:
        raise WebhookConfigError(f"{what}: set `env` or `file` in config {setting}")
    register_secret(value)
    return value


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers a sender adds to POST `body` at unix time `timestamp`."""
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"sha256={_mac(secret, body, timestamp)}"}


@dataclass(frozen=True, slots=True)
class Rejection:
    result: str  # one of RESULTS
    status: int
    detail: str

    def response(self) -> web.Response:
        return web.json_response({"error": self.result, "detail": self.detail}, status=self.status)


def verify_signature(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    window: float = REPLAY_WINDOW_SECONDS,
) -> Rejection | None:
    """None when the headers sign `body` with `secret` within `window` seconds of `now`."""
    if not timestamp or not signature:
        missing = TIMESTAMP_HEADER if not timestamp else SIGNATURE_HEADER
        return Rejection("bad_signature", 401, f"missing {missing} header; see README 'Event subscriptions'")
    try:
        ts = int(timestamp)
    except ValueError:
        return Rejection("bad_signature", 401, f"{TIMESTAMP_HEADER} must be unix seconds (an integer)")
    scheme, _, given = signature.partition("=")
    if scheme != "sha256" or not given:
        return Rejection("bad_signature", 401, f"{SIGNATURE_HEADER} must be 'sha256=<hex>'")
    if not hmac.compare_digest(given.strip().lower(), _mac(secret, body, ts)):
        return Rejection("bad_signature", 401, "signature does not match the body and timestamp")
    if abs(now - ts) > window:
        return Rejection(
            "stale", 401, f"timestamp is {now - ts:+.0f} s from the receiver's clock (window ±{window:.0f} s)"
        )
    return None


@dataclass(frozen=True, slots=True)
class RecheckAgent:
    """A relayed Genesys notification: re-read and re-plan this agent now."""

    event_id: str
    user_id: str
    topic: str


@dataclass(frozen=True, slots=True)
class ExternalState:
    """An external WFM state for one agent, mapped to a presence by `mapping`."""

    event_id: str
    agent: str  # user id (resolved when a lookup is configured) or email as sent
    state: str
    time: datetime  # aware UTC: when the state began
    mapping: PresenceMapping
    age: timedelta = timedelta(0)  # how long before it was sent the state began (>= 0)


WebhookEvent = RecheckAgent | ExternalState
AgentLookup = Callable[[str], str | None]  # user id or email -> managed user id, None when unknown


def external_override(event: ExternalState, mapping: PresenceMapping, ttl: timedelta) -> Override:
    """The temporary per-agent override an accepted external state stands for."""
    return Override(
        agent=event.agent,
        presence=mapping.states[event.state],
        start=event.time,
        until=event.time + ttl,
        reason=f"external WFM state {event.state} via mapping {mapping.name}",
        location=mapping.location,
    )


def _parse_time(value: Any, default: datetime) -> datetime | Rejection:
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return Rejection("malformed", 400, f"time {value!r} is not ISO-8601")
    if parsed.tzinfo is None:
        return Rejection("malformed", 400, "time must carry a UTC offset or Z")
    return parsed.astimezone(UTC)


_JSON_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `body` nests arrays/objects deeper than `limit` (strings are skipped, escapes
    honoured). Linear in the body, and it looks only at structural bytes."""
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_STRUCTURE.finditer(body):
        at = match.start()
        if at == escaped_at:
            continue
        char = body[at : at + 1]
        if in_string:
            if char == b"\\":
                escaped_at = at + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _resolve_agent(key: str, lookup: AgentLookup | None) -> str | Rejection:
    if lookup is None:
        return key
    user_id = lookup(key)
    return (
        user_id if user_id is not None else Rejection("unknown_agent", 422, f"agent {key!r} is not managed")
    )


def _parse_envelope(doc: dict[str, Any], body: bytes, lookup: AgentLookup | None) -> WebhookEvent | Rejection:
    topic = doc["topicName"]
    match = _USER_TOPIC.match(str(topic))
    if match is None or not isinstance(doc.get("eventBody"), dict):
        return Rejection(
            "malformed",
            400,
            f"unsupported topicName {topic!r}: expected v2.users.<id>.presence|routingStatus|activity "
            "with an eventBody object",
        )
    user = _resolve_agent(match.group(1), lookup)
    if isinstance(user, Rejection):
        return user
    metadata = doc.get("metadata")
    correlation = metadata.get("CorrelationId") if isinstance(metadata, dict) else None
    event_id = str(correlation) if correlation else "sha256:" + hashlib.sha256(body).hexdigest()
    return RecheckAgent(event_id, user, str(topic))


def _parse_external(
    doc: dict[str, Any],
    mappings: Sequence[PresenceMapping],
    lookup: AgentLookup | None,
    sent: datetime,
    max_age: timedelta,
) -> WebhookEvent | Rejection:
    event_id, state = doc.get("eventId"), doc.get("state")
    agent = doc.get("userId") or doc.get("email")
    if (
        not isinstance(event_id, str)
        or not event_id
        or not isinstance(state, str)
        or not isinstance(agent, str)
    ):
        return Rejection("malformed", 400, "external state needs string eventId, state and userId or email")
    mapping = next((m for m in mappings if state in m.states), None)
    if mapping is None:
        known = sorted({s for m in mappings for s in m.states})
        return Rejection("unknown_state", 422, f"state {state!r} is in no PresenceMapping; known: {known}")
    when = _parse_time(doc.get("time"), sent)
    if isinstance(when, Rejection):
        return when
    age = sent - when
    if age >= max_age:
        return Rejection(
            "stale_event",
            422,
            f"state {state!r} began at {when.isoformat()}, {age} before it was sent; an external state "
            f"stands for {max_age} at most, so it is over: send the agent's current state",
        )
    user = _resolve_agent(agent, lookup)
    if isinstance(user, Rejection):
        return user
    return ExternalState(event_id, user, state, when, mapping, max(age, timedelta(0)))


def parse_event(
    body: bytes,
    mappings: Sequence[PresenceMapping],
    lookup: AgentLookup | None,
    sent: datetime,
    max_age: timedelta = EXTERNAL_STATE_TTL,
) -> WebhookEvent | Rejection:
    """Decode an accepted (already verified) body. `sent` is the signed timestamp, the default
    time; an external state that began `max_age` or more before it was sent is refused."""
    if json_depth_exceeds(body):
        return Rejection("malformed", 400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Rejection("malformed", 400, f"body is not JSON: {exc}")
    if not isinstance(doc, dict):
        return Rejection("malformed", 400, "body must be a JSON object")
    if "topicName" in doc:
        return _parse_envelope(doc, body, lookup)
    if "state" in doc:
        return _parse_external(doc, mappings, lookup, sent, max_age)
    return Rejection(
        "malformed",
        400,
        "expected a notification envelope (topicName, eventBody) or a WFM state (eventId, state)",
    )


def _unsupported_media_type(request: web.Request) -> Rejection | None:
    kind = request.content_type.lower()
    charset = (request.charset or "utf-8").lower().replace("_", "-")
    if (kind in JSON_TYPES or (kind.startswith("application/") and kind.endswith("+json"))) and charset in (
        "utf-8",
        "utf8",
    ):
        return None
    sent = request.headers.get("Content-Type", "none")
    return Rejection(
        "unsupported_media_type", 415, f"Content-Type {sent!r}: send the body as application/json (UTF-8)"
    )


class SeenIds:
    """Event ids accepted within the last `ttl` seconds, at most `capacity` of them (oldest dropped)."""

    def __init__(self, ttl: float, capacity: int = SEEN_IDS_MAX) -> None:
        self.ttl, self.capacity = ttl, capacity
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def add(self, event_id: str, now: float) -> None:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if at > now - self.ttl and len(self._seen) < self.capacity:
                break
            del self._seen[oldest]
        self._seen[event_id] = now


class WebhookReceiver:
    """Verifies, de-duplicates and decodes webhook deliveries, then hands them to `enqueue`."""

    def __init__(
        self,
        secret: str,
        enqueue: Callable[[WebhookEvent], None],
        mappings: Sequence[PresenceMapping] = (),
        lookup_agent: AgentLookup | None = None,
        metrics: Metrics | None = None,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        window_seconds: float = REPLAY_WINDOW_SECONDS,
        body_timeout_seconds: float = BODY_TIMEOUT_SECONDS,
        max_event_age: timedelta = EXTERNAL_STATE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        register_secret(secret)
        self._secret = secret
        self._enqueue = enqueue
        self.mappings = tuple(mappings)  # replaced by the loop when desired state reloads
        self._lookup = lookup_agent
        self._metrics = metrics
        self._max = max_body_bytes
        self._window = window_seconds
        self.body_timeout_seconds = body_timeout_seconds
        self._max_age = max_event_age
        self._clock = clock
        # Ids older than both windows cannot come back: their timestamps would be refused as stale.
        self._seen = SeenIds(ttl=2 * window_seconds)
        if metrics is not None:
            for result in RESULTS:
                metrics.webhook_requests_total.labels(result=result)

    def _count(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.webhook_requests_total.labels(result=result).inc()

    def _reject(self, rejection: Rejection, request: web.Request) -> web.Response:
        self._count(rejection.result)
        log.info(
            "webhook rejected",
            extra={"result": rejection.result, "detail": rejection.detail, "peer": request.remote},
        )
        return rejection.response()

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The body, or None as soon as it exceeds the limit (never buffering more than limit + 1 chunk)."""
        if request.content_length is not None and request.content_length > self._max:
            return None
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(16 * 1024):
            size += len(chunk)
            if size > self._max:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            return await self._handle(request)
        except Exception:  # a bug answers 500 and is counted like every other answer
            log.exception("webhook handler failed")
            return self._reject(Rejection("internal", 500, "the receiver failed; see its log"), request)

    async def _handle(self, request: web.Request) -> web.Response:
        unsupported = _unsupported_media_type(request)
        if unsupported is not None:
            return self._reject(unsupported, request)
        try:
            body = await asyncio.wait_for(self._read_body(request), self.body_timeout_seconds)
        except TimeoutError:
            rejection = Rejection(
                "timeout", 408, f"the body did not arrive within {self.body_timeout_seconds:g} s"
            )
            response = self._reject(rejection, request)
            response.force_close()  # do not wait for the rest of a slow drip
            return response
        if body is None:
            return self._reject(Rejection("too_large", 413, f"body exceeds {self._max} bytes"), request)
        now = self._clock()
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        bad = verify_signature(
            self._secret, timestamp, request.headers.get(SIGNATURE_HEADER), body, now, self._window
        )
        if bad is not None:
            return self._reject(bad, request)
        sent = datetime.fromtimestamp(int(timestamp or 0), UTC)
        event = parse_event(body, self.mappings, self._lookup, sent, self._max_age)
        if isinstance(event, Rejection):
            return self._reject(event, request)
        if event.event_id in self._seen:
            self._count("duplicate")
            return web.json_response({"status": "duplicate", "eventId": event.event_id}, status=200)
        try:
            self._enqueue(event)
        except Exception:
            log.exception("webhook enqueue failed", extra={"event_id": event.event_id})
            # Not remembered as seen: the sender's retry will be accepted.
            return self._reject(Rejection("unavailable", 503, "the daemon cannot take events now"), request)
        self._seen.add(event.event_id, now)
        self._count("accepted")
        return web.json_response({"status": "accepted", "eventId": event.event_id}, status=202)


def webhook_routes(receiver: WebhookReceiver) -> list[web.RouteDef]:
    """Routes for `HttpServer(extra_routes=...)` (or any aiohttp app)."""
    return [web.post(PATH, receiver.handle)]
