"""The daemon keeps the declared EventSubscription triggers in existence: created at start, put
back on its trigger cadence after a hand delete or edit, created and pruned on desired/ changes,
each change audited and counted; and a plan held by the blast-radius guard writes no trigger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from controller.audit import read_audit
from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.session import trigger_owner
from controller.genesys import GenesysClient, Trigger
from controller.model.types import BlastRadius
from controller.subscriptions.apply import live_trigger
from controller.subscriptions.plan import TriggerAction, is_owned, plan_triggers
from tests.engine.conftest import SECRET, client_for, daemon_session, desired_copy, emulator_clock
from tests.support.waiting import wait_for

NAME = "not-responding-alert"  # the example desired/'s subscription
EXTRA = """apiVersion: presencectl.io/v1
kind: EventSubscription
metadata:
  name: lunch-watch
spec:
  topicName: v2.users.{id}.activity
  target: {type: Workflow, id: def82f03-5db3-5610-81c1-d148182c83f3}
  matchCriteria:
    - {jsonPath: presence.presenceDefinition.systemPresence, operator: Equal, value: MEAL}
  delayBySeconds: 120
"""


def _owned(client: GenesysClient) -> dict[str, Trigger]:
    return {
        t.spec.name: t for t in client.triggers.list_triggers() if is_owned(live_trigger(t), trigger_owner())
    }


def _start(
    emu: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: Any
) -> tuple[Daemon, Path]:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", SECRET)
    directory = desired_copy(tmp_path, 60)
    session = daemon_session(emu, tmp_path, directory, **config)
    daemon = Daemon(str(directory), session, clock=emulator_clock(emu), stream=False)
    daemon.start()
    return daemon, directory


def _trigger_records(tmp_path: Path) -> list[dict[str, Any]]:
    return [r for r in read_audit(tmp_path / "audit.jsonl") if r.get("kind") == "trigger"]


@pytest.fixture
def hand(day_emulator: RunningEmulator) -> Iterator[GenesysClient]:
    """Someone with the Genesys Cloud UI: a client of their own."""
    client = client_for(day_emulator)
    yield client
    client.close()


def test_hand_deleted_and_edited_triggers_are_put_back_on_the_cadence(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hand: GenesysClient
) -> None:
    daemon, _ = _start(day_emulator, tmp_path, monkeypatch, trigger_interval_seconds=1)
    try:
        wait_for(lambda: NAME in _owned(hand), what="the trigger created at start")
        live = [live_trigger(t) for t in hand.triggers.list_triggers()]
        assert {
            s.action for s in plan_triggers(daemon.desired.subscriptions, live, trigger_owner()).steps
        } == {TriggerAction.UNCHANGED}, "plan lists a change while the daemon runs"

        first = _owned(hand)[NAME]
        hand.triggers.delete_trigger(first.id)
        wait_for(lambda: NAME in _owned(hand), what="the hand-deleted trigger to come back")
        again = _owned(hand)[NAME]
        assert again.id != first.id

        hand.triggers.update_trigger(again.id, replace(again.spec, enabled=False), again.version)
        wait_for(lambda: _owned(hand)[NAME].spec.enabled, what="the hand edit to be put back")

        records = _trigger_records(tmp_path)
        assert [(r["action"], r["reason"]["kind"], r["mode"], r["result"]["status"]) for r in records] == [
            ("create", "missing", "enforced", "ok"),
            ("create", "missing", "enforced", "ok"),
            ("update", "hand-edited", "enforced", "ok"),
        ]
        assert records[2]["changes"] == [{"field": "enabled", "before": "false", "after": "true"}]
        assert records[0]["trigger"] == {"name": NAME, "id": first.id}
        assert records[0]["reason"]["source"].endswith("subscription-activity.yaml:2:1")
        sample = daemon.metrics.registry.get_sample_value
        assert sample("presencectl_triggers", {"state": "in_sync"}) == 1
        assert sample("presencectl_trigger_changes_total", {"action": "create", "result": "ok"}) == 2
    finally:
        daemon.stop()


def test_desired_changes_create_and_prune_triggers_at_once(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hand: GenesysClient
) -> None:
    # A cadence of an hour: only the desired/ change can explain what happens here.
    daemon, directory = _start(day_emulator, tmp_path, monkeypatch, trigger_interval_seconds=3600)
    try:
        wait_for(lambda: NAME in _owned(hand), what="the trigger created at start")
        (directory / "subscription-lunch.yaml").write_text(EXTRA)
        wait_for(lambda: "lunch-watch" in _owned(hand), what="the new subscription's trigger")
        assert _owned(hand)["lunch-watch"].spec.delay_by_seconds == 120
        (directory / "subscription-lunch.yaml").unlink()
        wait_for(lambda: "lunch-watch" not in _owned(hand), what="the removed subscription's trigger pruned")
        assert NAME in _owned(hand)
        actions = [(r["trigger"]["name"], r["action"]) for r in _trigger_records(tmp_path)]
        assert actions == [(NAME, "create"), ("lunch-watch", "create"), ("lunch-watch", "delete")]
    finally:
        daemon.stop()


def test_a_held_daemon_writes_no_trigger(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hand: GenesysClient
) -> None:
    daemon, _ = _start(
        day_emulator, tmp_path, monkeypatch, blast_radius=BlastRadius(1, 1), trigger_interval_seconds=1
    )
    try:
        wait_for(lambda: len(_trigger_records(tmp_path)) >= 2, what="two trigger passes")
        assert NAME not in _owned(hand)
        records = _trigger_records(tmp_path)
        assert {(r["action"], r["mode"], r["result"]["error_code"]) for r in records} == {
            ("create", "held", "held")
        }
        assert "corrections exceed the blast-radius limit of 1" in records[0]["reason"]["text"]
        assert daemon.metrics.registry.get_sample_value("presencectl_triggers", {"state": "missing"}) == 1
        writes = [
            r for r in day_emulator.control.requests_log() if r["method"] != "GET" and "triggers" in r["path"]
        ]
        assert writes == []
    finally:
        daemon.stop()
