"""Streaming drift detection: keep notification channels subscribed for every managed agent.

    watcher = DriftWatcher(client, on_agents, on_connection, metrics)
    watcher.watch(user_ids)    # (re)subscribe; call again whenever the managed set changes
    ...
    watcher.stop()

Topic: `v2.users.{id}.activity` (docs/genesys-api.md#events-and-heartbeats), one topic per agent
carrying presence *and* routing status. Against `.presence` + `.routingStatus` it halves the topics
(1,000 agents per channel, 20,000 within the 20-channel client cap instead of 10,000), halves the
events for a change that touches both, and hands the planner both facts it needs (an agent's routing
status decides whether an interaction is active) in one event. `topic_kind="presence+routingStatus"`
is the fallback should an org refuse the activity topic to a client-credentials token.

Refused topics: the platform may refuse single topics (a role whose view permissions do not
reach some users' divisions; docs/genesys-api.md#topic-rejection). The stream subscribes with
`ignoreErrors=true`, so the rest of the channel works, and reports the refused ones; this class
turns them into the set of managed agents it cannot watch (`unwatched`, passed to
`on_unwatched` whenever it changes) for the daemon to poll, counts topics in
`presencectl_stream_topics{state}` and logs one warning, with the missing permissions, per newly
refused topic set (never again on a reconnect that refuses the same topics).

Level-triggered: an event is only a hint. Each presence/routing/activity event of a managed agent
calls `on_agents({user_id}, "event")` so the loop re-reads and re-plans just that agent. Agents
added to a running stream (a sharded member taking over a share) are named once as `subscribed`
when the platform confirms their channel's new subscription: a change between the caller's last
read of them and that moment reached no event. The
stream (controller.genesys.streaming.NotificationStream) reconnects and resubscribes by itself;
this class turns its per-shard status into one signal: `on_connection(False)` when any channel
loses its socket (events may be missed: poll in bulk), `on_connection(True)` once every channel
is connected again. Event lag (the event's own modifiedDate/startTime -> receipt) is recorded in
`presencectl_event_lag_seconds`. Callbacks run on the stream's threads: keep them short
(enqueue and return).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from controller.adherence.recorder import NoRecorder, PresenceRecorder
from controller.genesys import Backoff, ChannelTopic, GenesysClient
from controller.genesys.streaming import (
    MAX_CHANNELS,
    TOPICS_PER_CHANNEL,
    ActivityEvent,
    NotificationStream,
    PresenceEvent,
    RoutingStatusEvent,
    StreamEvent,
    StreamStatus,
    SubscriptionReport,
    shard_topics,
)
from controller.metrics import Metrics

log = logging.getLogger(__name__)

TopicKind = Literal["activity", "presence+routingStatus"]
_TOPIC_USER = re.compile(r"^v2\.users\.([^.?]+)[.?]")
LOGGED_AGENTS = 20  # agents named in the refused-topics warning (the count is always complete)


def topics_for(user_ids: Iterable[str], kind: TopicKind = "activity") -> list[str]:
    """The notification topics that watch `user_ids`, in the given order."""
    if kind == "activity":
        return [f"v2.users.{u}.activity" for u in user_ids]
    return [t for u in user_ids for t in (f"v2.users.{u}.presence", f"v2.users.{u}.routingStatus")]


def topic_user(topic: str) -> str | None:
    """The user a `v2.users.{id}.…` topic watches (None for any other topic)."""
    match = _TOPIC_USER.match(topic)
    return match.group(1) if match else None


def sticky_order(current: list[str], wanted: set[str]) -> list[str]:
    """`wanted` ordered as `current` where possible, newcomers appended (sorted).

    Topics are sharded over channels in order, so a newcomer only changes the last channel's
    subscription instead of shifting every channel.
    """
    kept = [u for u in current if u in wanted]
    return kept + sorted(wanted.difference(kept))


def event_time(event: StreamEvent) -> datetime | None:
    """When the change an event reports happened, as the platform stamped it."""
    if isinstance(event, PresenceEvent):
        return event.modified
    if isinstance(event, RoutingStatusEvent):
        return event.start_time
    if isinstance(event, ActivityEvent):
        stamps = [t for t in (event.modified, event.routing_start) if t is not None]
        return max(stamps) if stamps else None
    return None


class DriftWatcher:
    def __init__(
        self,
        client: GenesysClient,
        on_agents: Callable[[set[str], str], None],
        on_connection: Callable[[bool], None],
        metrics: Metrics | None = None,
        *,
        topic_kind: TopicKind = "activity",
        on_unwatched: Callable[[frozenset[str]], None] | None = None,
        backoff: Backoff | None = None,
        ping_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        recorder: PresenceRecorder | None = None,
        channels: int = MAX_CHANNELS,
        topics_per_channel: int = TOPICS_PER_CHANNEL,
    ) -> None:
        self._client = client
        self._channels, self._per_channel = channels, topics_per_channel  # the platform's limits
        self._recorder = recorder or NoRecorder()
        self._on_agents = on_agents
        self._on_connection = on_connection
        self._metrics = metrics
        self._kind: TopicKind = topic_kind
        self._on_unwatched = on_unwatched
        self._backoff = backoff
        self._ping_seconds = ping_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._order: list[str] = []
        self._managed: frozenset[str] = frozenset()
        self._stream: NotificationStream | None = None
        self._shards = 0
        self._up: set[int] = set()
        self._healthy = False
        self._stopping = False
        self._refused: dict[int, tuple[ChannelTopic, ...]] = {}  # shard -> topics it could not get
        self._permitted: dict[int, int] = {}  # shard -> topics subscribed
        self._warned: set[str] = set()  # refused topics already in a warning
        self._unwatched: frozenset[str] = frozenset()
        self._overflow: frozenset[str] = frozenset()  # managed agents beyond the client's capacity
        # shard -> (its topic count, agents added to it while the stream ran) until the platform
        # confirms that shard's subscription: their drift before then reaches no event.
        self._joining: dict[int, tuple[int, set[str]]] = {}

    @property
    def channel_count(self) -> int:
        """Channels the current managed set needs (each holds at most 1,000 topics)."""
        return self._shards

    @property
    def connected(self) -> bool:
        return self._healthy

    @property
    def unwatched(self) -> frozenset[str]:
        """Managed agents with a topic the platform refused: no event will name them, poll them."""
        return self._unwatched

    @property
    def capacity(self) -> int:
        """Agents one OAuth client can stream: 20 channels x 1,000 topics, over topics per agent."""
        return self._channels * self._per_channel // len(topics_for(["-"], self._kind))

    @property
    def overflow(self) -> frozenset[str]:
        """Managed agents beyond the streaming capacity: the resync reads them (no event will)."""
        return self._overflow

    def watch(self, user_ids: Iterable[str]) -> None:
        """Subscribe to exactly `user_ids` (start on first call; re-PUT subscriptions on change).
        Above the client's capacity the agents already watched stay, the rest fill what is left,
        and the others are `overflow` (said once, with what happens to them)."""
        wanted = set(user_ids)
        with self._lock:
            if self._stream is not None and wanted == self._managed | self._overflow:
                return
            before = self._managed
            self._order = sticky_order(self._order, wanted)[: self.capacity]
            self._managed = frozenset(self._order)
            overflow = frozenset(wanted - self._managed)
            if overflow and not self._overflow:
                log.warning(
                    f"{len(wanted)} managed agents exceed one client's streaming capacity "
                    f"({self._channels} channels x {self._per_channel} topics = {self.capacity} agents): "
                    f"streaming {self.capacity}; the other {len(overflow)} are read by the periodic "
                    "resync (within its budget share) and at their boundaries, so they are still corrected",
                    extra={"agents": len(wanted), "streamed": self.capacity, "overflow": len(overflow)},
                )
            added = self._managed - before if self._stream is not None else frozenset()
            self._overflow = overflow
            topics = topics_for(self._order, self._kind)
            sharded = shard_topics(topics, self._per_channel, self._channels)
            self._await_subscription(sharded, added)
            shards = len(sharded)
            previous, self._shards = self._shards, shards
            self._up &= set(range(shards))
            for gone in [k for k in self._refused if k >= shards]:
                del self._refused[gone], self._permitted[gone]
            stream = self._stream
        if stream is None:
            stream = NotificationStream(
                self._client.notifications, topics, self._on_stream, **self._stream_options()
            )
            with self._lock:
                self._stream = stream
            stream.start()
        else:
            stream.set_topics(topics)
            if shards > previous:
                self._set_health(False, f"{shards - previous} channel(s) added")
        if shards == 0 or (shards < previous and len(self._up) == shards):
            self._set_health(True, "every remaining channel is connected")  # nothing left to miss
        self._refusals_changed()  # agents no longer managed are no longer unwatched
        log.info("drift watch", extra={"agents": len(wanted), "channels": shards, "topic_kind": self._kind})

    def _await_subscription(self, sharded: list[list[str]], added: frozenset[str]) -> None:
        """Remember, per shard, the agents a running stream is adding (lock held): once the
        platform confirms that shard's new subscription they are handed to `on_agents` as
        `subscribed`, to be read once, for a drift between the caller's last read of them (e.g. the
        full cycle after a sharded membership change) and their first event would go unseen."""
        self._joining = {k: v for k, v in self._joining.items() if k < len(sharded)}
        for shard, topics in enumerate(sharded):
            users = {u for u in map(topic_user, topics) if u in added}
            if users or shard in self._joining:
                waiting = self._joining.get(shard, (0, set()))[1]
                self._joining[shard] = (len(topics), waiting | users)

    def _stream_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"per_channel": self._per_channel, "max_channels": self._channels}
        if self._backoff is not None:
            options["backoff"] = self._backoff
        if self._ping_seconds is not None:
            # The stream applies a new topic list when its read times out, so this also bounds
            # how long a watch() change takes to reach the channel.
            options["ping_seconds"] = self._ping_seconds
        return options

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
        if self._metrics is not None:
            self._metrics.stream_connected.set(0)

    def wait_connected(self, timeout: float) -> bool:
        """Test and start-up helper: block until every channel is connected."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._healthy:
                return True
            time.sleep(0.01)
        return self._healthy

    def _set_health(self, healthy: bool, reason: str) -> None:
        with self._lock:
            if self._stopping or healthy == self._healthy:
                return
            self._healthy = healthy
        if self._metrics is not None:
            self._metrics.stream_connected.set(1 if healthy else 0)
        log.log(
            logging.INFO if healthy else logging.WARNING,
            "notification stream %s",
            "connected" if healthy else "disconnected",
            extra={"reason": reason},
        )
        self._on_connection(healthy)

    def _on_stream(self, event: StreamEvent) -> None:
        if isinstance(event, StreamStatus):
            self._on_status(event)
            return
        if isinstance(event, SubscriptionReport):
            self._on_report(event)
            return
        if not isinstance(event, PresenceEvent | RoutingStatusEvent | ActivityEvent):
            return
        received = self._clock()
        if event.user_id not in self._managed:
            return
        stamped = event_time(event)
        if self._metrics is not None and stamped is not None:
            lag = received - stamped.astimezone(UTC).timestamp()
            self._metrics.event_lag_seconds.observe(max(0.0, lag))
        if isinstance(event, ActivityEvent):  # the only event carrying presence and routing status
            self._recorder.observe([event.observed], "stream")
        self._on_agents({event.user_id}, "event")

    def _on_status(self, status: StreamStatus) -> None:
        with self._lock:
            if status.shard >= self._shards:
                return  # a channel being retired after the managed set shrank
            if status.kind == "disconnected":
                self._up.discard(status.shard)
            else:
                self._up.add(status.shard)
            all_up = len(self._up) == self._shards
        if status.kind == "disconnected":
            self._set_health(False, f"channel {status.shard}: {status.reason}")
        elif all_up:
            self._set_health(True, f"channel {status.shard} {status.kind}")

    def _on_report(self, report: SubscriptionReport) -> None:
        with self._lock:
            if report.shard >= self._shards:
                return  # a channel being retired after the managed set shrank
            self._refused[report.shard] = report.rejected
            self._permitted[report.shard] = report.permitted
            size, waiting = self._joining.get(report.shard, (-1, set()))
            joined: set[str] = set()
            if report.permitted + len(report.rejected) == size:  # (not an older PUT's answer)
                del self._joining[report.shard]
                joined = waiting & self._managed
        self._refusals_changed()
        if joined:
            self._on_agents(joined, "subscribed")

    def _refusals_changed(self) -> None:
        """Recount refused topics and unwatched agents; warn about newly refused topics once."""
        with self._lock:
            refused = [t for shard in sorted(self._refused) for t in self._refused[shard]]
            permitted = sum(self._permitted.values())
            users = (topic_user(t.id) for t in refused)
            unwatched = frozenset(u for u in users if u is not None and u in self._managed)
            new = [t for t in refused if t.id not in self._warned]
            self._warned = {t.id for t in refused}  # a topic permitted again may be reported again later
            changed, self._unwatched = unwatched != self._unwatched, unwatched
        if self._metrics is not None:
            self._metrics.stream_topics.labels(state="permitted").set(permitted)
            self._metrics.stream_topics.labels(state="rejected").set(len(refused))
        if new:
            agents = sorted({u for t in new if (u := topic_user(t.id)) is not None})
            log.warning(
                "notification topics refused by the platform; polling their agents instead",
                extra={
                    "topics": len(new),
                    "agents": len(agents),
                    "agent_ids": agents[:LOGGED_AGENTS],
                    "missing_permissions": sorted({p for t in new for p in t.missing_permissions}),
                    "reasons": sorted({t.rejection_reason for t in new if t.rejection_reason}),
                    "example_topic": new[0].id,
                },
            )
        if changed and self._on_unwatched is not None:
            self._on_unwatched(unwatched)
