"""Topics the platform refuses for some users (a role that does not reach their division): the
emulator refuses them per OAuth client, the watcher subscribes the rest, reports the refused once
and hands their agents over for polling; the old all-or-nothing PUT would loop forever."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

import pytest

from controller.emulator.generate import generate_org
from controller.emulator.org import OrgTopicRejection
from controller.emulator.server import DEFAULT_CLIENT_ID, RunningEmulator, start_emulator
from controller.engine.drift import DriftWatcher
from controller.genesys import ChannelTopic, ClientConfig, GenesysClient, Notifications, RateBudget
from controller.genesys.errors import Forbidden
from controller.genesys.streaming import NotificationStream
from controller.metrics import Metrics
from tests.drift.recorder import FAST, Recorder, client_for
from tests.support.waiting import wait_for

CHANNELS = "POST /api/v2/notifications/channels"
SUBSCRIBE = "PUT /api/v2/notifications/channels/{channelId}/subscriptions"
WARNING = "notification topics refused by the platform; polling their agents instead"
ACTIVITY_NEEDS = ["presence:userPresence:view", "routing:agent:view"]


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    """Agents 2, 5 and 7 sit where our client's role does not reach; agent 9 only for another
    client (so it is not refused to ours)."""
    org = generate_org(agents=20, seed=3)
    ids = [a.id for a in org.agents]
    org.topic_rejections = [
        OrgTopicRejection([ids[2], ids[5], ids[7]], client_id=DEFAULT_CLIENT_ID),
        OrgTopicRejection([ids[9]], client_id="another-client", missing_permissions=["x:y:z"]),
    ]
    with start_emulator(org=org, rate_limit=100_000) as running:
        yield running


@pytest.fixture
def managed(emu: RunningEmulator) -> list[str]:
    emu.control.reset()
    emu.control.clear_requests()
    return [a.id for a in emu.org.agents[:10]]


def refused_ids(emu: RunningEmulator) -> set[str]:
    return set(emu.org.topic_rejections[0].user_ids)


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == WARNING]


def test_refused_agents_are_unwatched_reported_once_and_the_rest_streams(
    emu: RunningEmulator, managed: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="controller.engine.drift")
    recorder, metrics = Recorder(), Metrics()
    handed_over: list[frozenset[str]] = []
    watcher = DriftWatcher(
        client_for(emu),
        recorder.on_agents,
        recorder.on_connection,
        metrics,
        on_unwatched=handed_over.append,
        backoff=FAST,
        ping_seconds=0.5,
    )
    try:
        watcher.watch(managed)
        recorder.wait_connection([True])
        refused = refused_ids(emu)
        assert watcher.unwatched == refused and handed_over == [frozenset(refused)]
        topics = metrics.registry.get_sample_value
        assert topics("presencectl_stream_topics", {"state": "permitted"}) == 7
        assert topics("presencectl_stream_topics", {"state": "rejected"}) == 3
        [warning] = warnings(caplog)
        assert warning.missing_permissions == ACTIVITY_NEEDS  # type: ignore[attr-defined]
        assert set(warning.agent_ids) == refused and warning.topics == 3  # type: ignore[attr-defined]

        # The permitted agents stream; a refused agent's change sends no event (it must be polled).
        sent = time.monotonic()
        emu.control.set_presence(managed[2], "Break")  # refused
        emu.control.set_presence(managed[3], "Break")  # permitted: bounds the wait
        recorder.wait_agent(managed[3], after=sent)
        assert recorder.arrival(managed[2], after=sent) is None

        # A reconnect that is refused the same topics neither warns again nor hands over again.
        assert emu.control.drop_websockets() == 1
        recorder.wait_connection([False, True])
        counts = emu.control.request_counts()
        assert (counts[CHANNELS], counts[SUBSCRIBE]) == (2, 2)
        assert len(warnings(caplog)) == 1 and handed_over == [frozenset(refused)]

        # An agent leaving the managed set leaves the unwatched set at once.
        watcher.watch([u for u in managed if u != managed[5]])
        assert watcher.unwatched == refused - {managed[5]}
        assert handed_over[-1] == frozenset(refused - {managed[5]})
    finally:
        watcher.stop()


class OldNotifications(Notifications):
    """The client as it was: subscriptions PUT without ignoreErrors (the API's default)."""

    def set_subscriptions(
        self, channel_id: str, topics: Sequence[str], *, ignore_errors: bool = True
    ) -> list[ChannelTopic]:
        return super().set_subscriptions(channel_id, topics, ignore_errors=False)


def test_without_ignore_errors_one_refused_topic_fails_the_put_and_the_shard_loops(
    emu: RunningEmulator, managed: list[str]
) -> None:
    topics = [f"v2.users.{u}.activity" for u in managed]
    with client_for(emu) as client:
        channel = client.notifications.create_channel()
        with pytest.raises(Forbidden) as refused:
            client.notifications.set_subscriptions(channel.id, topics, ignore_errors=False)
        assert refused.value.status == 403 and "routing:agent:view" in str(refused.value)
        assert client.notifications.get_subscriptions(channel.id) == []  # not even the 7 permitted topics
        answer = client.notifications.set_subscriptions(channel.id, topics)
        rejected = {t.id: t for t in answer if t.state == "Rejected"}
        assert set(rejected) == {topics[2], topics[5], topics[7]}
        assert rejected[topics[2]].missing_permissions == tuple(ACTIVITY_NEEDS)
        assert len(client.notifications.get_subscriptions(channel.id)) == 7

    config = ClientConfig(emu.api_base, emu.login_base, emu.client_id, emu.client_secret, 60_000)
    old = GenesysClient(config, budget=RateBudget(60_000))
    stream = NotificationStream(OldNotifications(old.api), topics, lambda event: None, backoff=FAST)
    try:
        stream.start()
        wait_for(lambda: emu.control.request_counts().get(CHANNELS, 0) >= 5, "the old shard retrying")
        assert not stream.is_connected()
    finally:
        stream.stop()
        old.close()
