"""apply_triggers against the emulator's trigger API over real HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import pytest

from controller.emulator.server import RunningEmulator, start_emulator
from controller.genesys import ClientConfig, GenesysClient, RateBudget, Trigger, Triggers
from controller.model.types import EventSubscription, Mode
from controller.subscriptions.apply import apply_triggers, live_trigger, trigger_spec
from controller.subscriptions.plan import TriggerAction, is_owned
from tests.subscriptions.builders import OWNER
from tests.subscriptions.builders import sub as declared

LIST = "GET /api/v2/processautomation/triggers"
CREATE = "POST /api/v2/processautomation/triggers"
PUT = "PUT /api/v2/processautomation/triggers/{triggerId}"
DELETE = "DELETE /api/v2/processautomation/triggers/{triggerId}"


def sub(name: str = "not-responding", **kw: object) -> EventSubscription:
    return declared(name, **kw)


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with start_emulator(agents=5, seed=1, rate_limit=100_000) as running:
        yield running


@pytest.fixture
def client(emu: RunningEmulator) -> GenesysClient:
    emu.control.reset()
    config = ClientConfig(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, rate_per_minute=60_000
    )
    genesys = GenesysClient(config, budget=RateBudget(60_000))
    genesys.triggers.list_triggers()  # authenticate before counting calls
    emu.control.clear_requests()
    return genesys


def owned(client: GenesysClient) -> list[Trigger]:
    return [t for t in client.triggers.list_triggers() if is_owned(live_trigger(t), OWNER)]


def writes(emu: RunningEmulator) -> dict[str, int]:
    counts = emu.control.request_counts()
    return {k: v for k, v in counts.items() if k.split()[0] in ("POST", "PUT", "DELETE")}


def test_duplicate_applies_create_once(emu: RunningEmulator, client: GenesysClient) -> None:
    desired = [sub(), sub("lunch-watch", event_ttl_seconds=None, delay_by_seconds=120)]
    first = apply_triggers(client.triggers, desired, OWNER)
    assert first.ok and [o.status for o in first.outcomes] == ["done", "done"]
    for _ in range(3):
        again = apply_triggers(client.triggers, desired, OWNER)
        assert again.ok and again.outcomes == ()
        assert {s.action for s in again.plan.steps} == {TriggerAction.UNCHANGED}
    assert writes(emu) == {CREATE: 2}
    assert sorted(t.spec.name for t in owned(client)) == ["lunch-watch", "not-responding"]


def test_crash_between_create_and_record(emu: RunningEmulator, client: GenesysClient) -> None:
    # The daemon created the trigger, then died before recording it: the next apply adopts it.
    created = client.triggers.create_trigger(trigger_spec(sub(), OWNER))
    result = apply_triggers(client.triggers, [sub()], OWNER)
    assert result.ok and result.outcomes == ()
    assert [t.id for t in owned(client)] == [created.id]
    # Crashed twice (two creates): the oldest is kept, the extra deleted.
    extra = client.triggers.create_trigger(trigger_spec(sub(), OWNER))
    emu.control.clear_requests()
    result = apply_triggers(client.triggers, [sub()], OWNER)
    assert [(o.step.action, o.status) for o in result.outcomes] == [(TriggerAction.DELETE, "done")]
    assert [t.id for t in owned(client)] == [created.id]
    assert extra.id not in {t.id for t in client.triggers.list_triggers()}
    assert writes(emu) == {DELETE: 1}


def test_create_lists_with_topic_filter_first(emu: RunningEmulator, client: GenesysClient) -> None:
    class Racing(Triggers):
        """Another replica creates the same trigger between our full listing and our create."""

        raced = False

        def list_triggers(self, topic_names: Sequence[str] = (), *, page_size: int = 200) -> list[Trigger]:
            listing = super().list_triggers(topic_names, page_size=page_size)
            if not topic_names and not self.raced:
                self.raced = True
                super().create_trigger(trigger_spec(sub(), OWNER))
            return listing

    racing = Racing(client.api)
    result = apply_triggers(racing, [sub()], OWNER)
    assert [(o.step.action, o.status) for o in result.outcomes] == [(TriggerAction.CREATE, "skipped")]
    assert len(owned(client)) == 1


def test_hand_edit_is_put_back_in_enforce(emu: RunningEmulator, client: GenesysClient) -> None:
    apply_triggers(client.triggers, [sub()], OWNER)
    (live,) = owned(client)
    edited = dataclasses.replace(live.spec, enabled=False, event_ttl_seconds=600)
    client.triggers.update_trigger(live.id, edited, live.version)  # someone in the UI
    emu.control.clear_requests()
    result = apply_triggers(client.triggers, [sub()], OWNER)
    (outcome,) = result.outcomes
    assert outcome.step.hand_edited and outcome.status == "done"
    assert {(d.field, d.live, d.desired) for d in outcome.step.diff} == {
        ("enabled", "false", "true"),
        ("eventTTLSeconds", "600", "60"),
    }
    (after,) = owned(client)
    assert after.spec.enabled and after.spec.event_ttl_seconds == 60 and after.version == live.version + 2
    assert writes(emu) == {PUT: 1}


def test_hand_edit_is_reported_in_observe(emu: RunningEmulator, client: GenesysClient) -> None:
    apply_triggers(client.triggers, [sub()], OWNER)
    (live,) = owned(client)
    client.triggers.update_trigger(live.id, dataclasses.replace(live.spec, enabled=False), live.version)
    emu.control.clear_requests()
    result = apply_triggers(client.triggers, [sub(), sub("new-one")], OWNER, Mode.OBSERVE)
    assert result.outcomes == ()
    assert [(s.action, s.hand_edited, s.write) for s in result.plan.steps] == [
        (TriggerAction.UPDATE, True, False),
        (TriggerAction.CREATE, False, False),
    ]
    assert writes(emu) == {}
    assert not owned(client)[0].spec.enabled


def test_prune_only_owned(emu: RunningEmulator, client: GenesysClient) -> None:
    apply_triggers(client.triggers, [sub("keep"), sub("drop")], OWNER)
    staging = client.triggers.create_trigger(trigger_spec(sub("drop"), "staging"))
    hand_made = client.triggers.create_trigger(
        dataclasses.replace(trigger_spec(sub("drop"), OWNER), description="mine")
    )
    emu.control.clear_requests()
    result = apply_triggers(client.triggers, [sub("keep")], OWNER)
    assert [(o.step.action, o.step.name, o.status) for o in result.outcomes] == [
        (TriggerAction.DELETE, "drop", "done")
    ]
    remaining = {t.id for t in client.triggers.list_triggers()}
    assert {staging.id, hand_made.id} <= remaining
    assert [t.spec.name for t in owned(client)] == ["keep"]
    assert writes(emu) == {DELETE: 1}


def test_topic_change_replaces(emu: RunningEmulator, client: GenesysClient) -> None:
    apply_triggers(client.triggers, [sub()], OWNER)
    (old,) = owned(client)
    emu.control.clear_requests()
    result = apply_triggers(client.triggers, [sub(topic_name="v2.users.{id}.presence")], OWNER)
    (outcome,) = result.outcomes
    assert outcome.step.action is TriggerAction.REPLACE and outcome.status == "done"
    (new,) = owned(client)
    assert new.id != old.id and new.spec.topic_name == "v2.users.{id}.presence"
    assert writes(emu) == {CREATE: 1, DELETE: 1}
    log = [f"{r['method']} {r['route']}" for r in emu.control.requests_log()]
    assert log.index(CREATE) < log.index(DELETE)


def test_version_conflict_rereads_and_retries_once(emu: RunningEmulator, client: GenesysClient) -> None:
    apply_triggers(client.triggers, [sub()], OWNER)

    class Racing(Triggers):
        """A UI edit lands between our listing and our PUT."""

        def list_triggers(self, topic_names: Sequence[str] = (), *, page_size: int = 200) -> list[Trigger]:
            listing = super().list_triggers(topic_names, page_size=page_size)
            for t in listing:
                super().update_trigger(
                    t.id, dataclasses.replace(t.spec, enabled=not t.spec.enabled), t.version
                )
            return listing

    racing = Racing(client.api)
    emu.control.clear_requests()
    result = apply_triggers(racing, [sub(event_ttl_seconds=30)], OWNER)
    (outcome,) = result.outcomes
    assert outcome.status == "done" and "after a 409" in outcome.detail
    (after,) = owned(client)
    assert after.spec.event_ttl_seconds == 30
    counts = emu.control.request_counts()
    assert counts["GET /api/v2/processautomation/triggers/{triggerId}"] == 1


def test_failed_step_does_not_stop_others(emu: RunningEmulator, client: GenesysClient) -> None:
    bad = sub("bad-topic", topic_name="v2.no.such.topic")
    result = apply_triggers(client.triggers, [bad, sub()], OWNER)
    assert not result.ok
    assert [(o.step.name, o.status) for o in result.outcomes] == [
        ("bad-topic", "failed"),
        ("not-responding", "done"),
    ]
    assert "topicName" in result.failed()[0].detail


def test_owned_trigger_on_a_later_page_is_found(emu: RunningEmulator, client: GenesysClient) -> None:
    others = trigger_spec(sub("someone-elses"), "staging")
    for _ in range(205):  # more than one 200-trigger page, created before ours
        client.triggers.create_trigger(others)
    apply_triggers(client.triggers, [sub()], OWNER)
    emu.control.clear_requests()
    result = apply_triggers(client.triggers, [sub()], OWNER)
    assert result.ok and result.outcomes == ()
    assert emu.control.request_counts() == {LIST: 2}
    assert len(owned(client)) == 1
