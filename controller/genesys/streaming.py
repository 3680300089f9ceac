"""Notifications API consumer (docs/genesys-api.md#notifications): channels, one WebSocket each, typed events.

    stream = NotificationStream(client.notifications, topics, on_event)   # on_event(StreamEvent)
    stream.start(); ...; stream.set_topics(new_topics); ...; stream.stop()

Topics are split over channels of at most 1,000 topics (20 channels at most, the per-client cap);
each channel is served by its own thread: create the channel, connect to its `connectUri`
(websockets.sync.client), PUT the full topic list, then read. The thread sends `{"message":"ping"}`
when the socket is quiet and treats `silence_seconds` without any frame (heartbeats come every
30 s) as a dead socket. After a drop, a `v2.system.socket_closing` notice, a `{"result":"404"}`
frame or an expired channel it backs off (full jitter), creates a new channel and subscribes
again: always a new channel, because after any of these the old one may be gone or replaced.
Subscriptions are re-PUT every `resubscribe_seconds` so a channel never reaches its 24 h end.

Subscriptions are PUT with `ignoreErrors=true`: the platform may refuse single topics (a role
that does not reach some users' divisions) and, without it, one refused topic fails the whole
PUT, which would reconnect the shard forever. Each PUT's answer is emitted as a
SubscriptionReport naming the refused topics, which the consumer must poll instead.

Events: PresenceEvent (v2.users.{id}.presence), RoutingStatusEvent (v2.users.{id}.routingStatus),
ActivityEvent (v2.users.{id}.activity, both in one), RawEvent (any other topic), SubscriptionReport,
and StreamStatus ("connected", "disconnected", "reconnected") so the daemon can poll in bulk while
events may be missed. Handler exceptions are logged and never stop the stream.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect

from controller.core.domain import ObservedAgent
from controller.core.presence import RoutingStatus, SystemPresence
from controller.genesys.backoff import Backoff
from controller.genesys.errors import GenesysError
from controller.genesys.models import Channel, ChannelTopic, parse_routing_state, parse_user_presence

if TYPE_CHECKING:
    from controller.genesys.notifications import Notifications

log = logging.getLogger("controller.genesys.streaming")

TOPICS_PER_CHANNEL = 1000
MAX_CHANNELS = 20
RECONNECT_BACKOFF = Backoff(base_seconds=1.0, cap_seconds=60.0)


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    user_id: str
    presence_id: str
    system_presence: SystemPresence
    modified: datetime | None
    message: str = ""


@dataclass(frozen=True, slots=True)
class RoutingStatusEvent:
    user_id: str
    status: RoutingStatus
    start_time: datetime | None


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """v2.users.{id}.activity: presence, routing status and Out of Office of one agent in one event."""

    user_id: str
    presence_id: str
    system_presence: SystemPresence
    routing_status: RoutingStatus
    modified: datetime | None
    routing_start: datetime | None
    message: str = ""
    out_of_office: bool = False

    @property
    def observed(self) -> ObservedAgent:
        return ObservedAgent(
            user_id=self.user_id,
            presence_id=self.presence_id,
            system_presence=self.system_presence,
            routing_status=self.routing_status,
            presence_modified=self.modified,
            message=self.message,
            out_of_office=self.out_of_office,
        )


@dataclass(frozen=True, slots=True)
class RawEvent:
    topic: str
    body: Any


@dataclass(frozen=True, slots=True)
class SubscriptionReport:
    """A shard's subscription answer: how many topics the platform permitted and which it refused.

    Refused topics deliver no events, so whatever they watch must be polled. A requested topic
    the answer does not confirm as Permitted counts as refused: polling too much is safe, missing
    drift is not."""

    shard: int
    channel_id: str
    permitted: int
    rejected: tuple[ChannelTopic, ...]


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """`disconnected`: events of this shard may be missed until `reconnected` (poll meanwhile)."""

    kind: Literal["connected", "disconnected", "reconnected"]
    shard: int
    channel_id: str = ""
    reason: str = ""


StreamEvent = (
    PresenceEvent | RoutingStatusEvent | ActivityEvent | RawEvent | StreamStatus | SubscriptionReport
)

_USER_TOPIC = re.compile(r"^v2\.users\.([^.]+)\.(presence|routingStatus|activity)$")


def parse_event(topic: str, body: Any) -> StreamEvent:
    """A notification envelope's topic and eventBody -> a typed event (RawEvent when unknown)."""
    match = _USER_TOPIC.match(topic)
    if not match or not isinstance(body, dict):
        return RawEvent(topic, body)
    user_id, kind = match.groups()
    try:
        if kind == "presence":
            p = parse_user_presence(body, user_id)
            return PresenceEvent(user_id, p.presence_id, p.system_presence, p.modified, p.message)
        if kind == "routingStatus":
            r = parse_routing_state(body.get("routingStatus") or {}, user_id)
            return RoutingStatusEvent(user_id, r.status, r.start_time)
        p = parse_user_presence(body.get("presence") or {}, user_id)
        r = parse_routing_state(body.get("routingStatus") or {}, user_id)
        out_of_office = (body.get("outOfOffice") or {}).get("active") is True
        return ActivityEvent(
            user_id,
            p.presence_id,
            p.system_presence,
            r.status,
            p.modified,
            r.start_time,
            p.message,
            out_of_office,
        )
    except (ValueError, KeyError, TypeError):
        log.warning("unparseable notification", extra={"topic": topic})
        return RawEvent(topic, body)


def subscription_report(
    shard: int, channel_id: str, requested: Sequence[str], answer: Sequence[ChannelTopic]
) -> SubscriptionReport:
    """What a subscription PUT achieved: `requested` topics split by the answer's states."""
    permitted = {t.id for t in answer if t.state.casefold() == "permitted"}
    reported = {t.id: t for t in answer if t.state.casefold() != "permitted"}
    rejected = tuple(
        reported.get(topic) or ChannelTopic(topic, "Rejected", "absent from the subscription answer")
        for topic in dict.fromkeys(requested)
        if topic not in permitted
    )
    return SubscriptionReport(shard, channel_id, len(permitted & set(requested)), rejected)


def shard_topics(
    topics: Sequence[str], per_channel: int = TOPICS_PER_CHANNEL, max_channels: int = MAX_CHANNELS
) -> list[list[str]]:
    """Split topics (deduplicated, order kept) over as few channels as the per-channel cap allows."""
    unique = list(dict.fromkeys(topics))
    shards = [unique[i : i + per_channel] for i in range(0, len(unique), per_channel)]
    if len(shards) > max_channels:
        raise ValueError(
            f"{len(unique)} topics need {len(shards)} channels; a client may hold at most {max_channels} "
            f"({per_channel} topics each). Use combined or management-unit topics instead."
        )
    return shards


class _Reconnect(Exception):
    """Leave the read loop and open a new channel."""


class _Shard:
    def __init__(self, stream: NotificationStream, index: int, topics: list[str]) -> None:
        self.stream = stream
        self.index = index
        self.topics = topics
        self.ws: ClientConnection | None = None
        self.channel: Channel | None = None
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.resubscribe = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"genesys-stream-{index}", daemon=True)

    def update(self, topics: list[str]) -> None:
        with self._lock:
            self.topics = topics
        self.resubscribe.set()

    def stop(self) -> None:
        self.stopping.set()
        ws = self.ws
        if ws is not None:
            ws.close()

    def _run(self) -> None:
        s = self.stream
        failures = 0
        ever_connected = False
        reason = ""
        while not self.stopping.is_set():
            try:
                self._session(reconnect=ever_connected)
                ever_connected = True
                failures = 0
                reason = "closed"
            except _Reconnect as why:
                ever_connected = ever_connected or self.connected.is_set()
                reason = str(why)
                failures = 0 if self.connected.is_set() else failures + 1
            except (OSError, WebSocketException, GenesysError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                failures += 1
            finally:
                if self.ws is not None:
                    self.ws.close()
                    self.ws = None
            if self.connected.is_set():
                self.connected.clear()
                s._emit(
                    StreamStatus("disconnected", self.index, self.channel.id if self.channel else "", reason)
                )
            if self.stopping.is_set():
                return
            delay = s.backoff.delay(failures, s.rand())
            log.warning(
                "notification stream reconnecting",
                extra={"shard": self.index, "reason": reason, "delay_s": round(delay, 2)},
            )
            self.stopping.wait(delay)

    def _session(self, *, reconnect: bool) -> None:
        s = self.stream
        channel = s.notifications.create_channel()
        self.channel = channel
        ws = connect(channel.connect_uri, open_timeout=s.open_timeout, close_timeout=2, legacy=True)
        assert isinstance(ws, ClientConnection)
        self.ws = ws
        if self.stopping.is_set():
            return
        with self._lock:
            topics = list(self.topics)
        self.resubscribe.clear()
        self._subscribe(channel.id, topics)
        subscribed_at = time.monotonic()
        self.connected.set()
        s._emit(StreamStatus("reconnected" if reconnect else "connected", self.index, channel.id))
        last_frame = time.monotonic()
        while not self.stopping.is_set():
            if self.resubscribe.is_set() or time.monotonic() - subscribed_at > s.resubscribe_seconds:
                self.resubscribe.clear()
                with self._lock:
                    topics = list(self.topics)
                self._subscribe(channel.id, topics)  # PUT replaces and renews the 24 h
                subscribed_at = time.monotonic()
            try:
                text = ws.recv(timeout=s.ping_seconds)
            except TimeoutError:
                if time.monotonic() - last_frame > s.silence_seconds:
                    raise _Reconnect(f"no frame for {s.silence_seconds:.0f}s") from None
                ws.send(json.dumps({"message": "ping"}))
                continue
            except ConnectionClosed as exc:
                if self.stopping.is_set():
                    return
                raise _Reconnect(
                    f"socket closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
                ) from None
            last_frame = time.monotonic()
            self._handle(text)

    def _subscribe(self, channel_id: str, topics: list[str]) -> None:
        """PUT with ignoreErrors: a refused topic must not fail the others (nor loop the shard)."""
        answer = self.stream.notifications.set_subscriptions(channel_id, topics, ignore_errors=True)
        self.stream._emit(subscription_report(self.index, channel_id, topics, answer))

    def _handle(self, text: str | bytes) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            log.warning("non-JSON notification frame ignored", extra={"shard": self.index})
            return
        if not isinstance(frame, dict):
            return
        if str(frame.get("result", "")) == "404":
            raise _Reconnect("channel gone (404 frame)")
        topic = str(frame.get("topicName") or "")
        if topic == "channel.metadata":
            return  # heartbeat or pong: only proves the socket is alive
        if topic == "v2.system.socket_closing":
            raise _Reconnect("socket_closing notice")
        if topic:
            self.stream._emit(parse_event(topic, frame.get("eventBody")))


class NotificationStream:
    def __init__(
        self,
        notifications: Notifications,
        topics: Sequence[str],
        on_event: Callable[[StreamEvent], object],
        *,
        ping_seconds: float = 20.0,
        silence_seconds: float = 75.0,
        resubscribe_seconds: float = 12 * 3600.0,
        open_timeout: float = 10.0,
        backoff: Backoff = RECONNECT_BACKOFF,
        per_channel: int = TOPICS_PER_CHANNEL,
        max_channels: int = MAX_CHANNELS,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.notifications = notifications
        self.on_event = on_event
        self.ping_seconds = ping_seconds
        self.silence_seconds = silence_seconds
        self.resubscribe_seconds = resubscribe_seconds
        self.open_timeout = open_timeout
        self.backoff = backoff
        self.rand = rand
        self._per_channel = per_channel
        self._max_channels = max_channels
        self._lock = threading.Lock()
        self._shards = [
            _Shard(self, i, t) for i, t in enumerate(shard_topics(topics, per_channel, max_channels))
        ]
        self._started = False

    def start(self) -> NotificationStream:
        with self._lock:
            self._started = True
            for shard in self._shards:
                shard.thread.start()
        return self

    def set_topics(self, topics: Sequence[str]) -> None:
        """Replace the topic list; shards are re-PUT, added or stopped as needed."""
        shards = shard_topics(topics, self._per_channel, self._max_channels)
        with self._lock:
            for shard, new in zip(self._shards, shards, strict=False):
                shard.update(new)
            for extra in self._shards[len(shards) :]:
                extra.stop()
            self._shards = self._shards[: len(shards)]
            for i in range(len(self._shards), len(shards)):
                shard = _Shard(self, i, shards[i])
                self._shards.append(shard)
                if self._started:
                    shard.thread.start()

    @property
    def channels(self) -> list[Channel]:
        return [s.channel for s in self._shards if s.channel is not None]

    def is_connected(self) -> bool:
        return all(s.connected.is_set() for s in self._shards)

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for shard in list(self._shards):
            if not shard.connected.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            shards = list(self._shards)
        for shard in shards:
            shard.stop()
        for shard in shards:
            if shard.thread.is_alive():
                shard.thread.join(timeout)

    def __enter__(self) -> NotificationStream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _emit(self, event: StreamEvent) -> None:
        try:
            self.on_event(event)
        except Exception:
            log.exception("notification handler failed", extra={"event": type(event).__name__})
