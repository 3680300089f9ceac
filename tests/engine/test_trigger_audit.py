"""Trigger changes are audited write-ahead, as presence writes are: the intent is on disk before
the request is sent, none is sent when the audit cannot be written, and the first pass after a
restart resolves the intents a dead process left."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.audit import (
    AuditMode,
    AuditResult,
    AuditUnavailable,
    AuditWriter,
    Phase,
    TriggerAuditRecord,
    pending_trigger_intents,
    read_audit,
)
from controller.emulator.server import RunningEmulator
from controller.engine.session import Session, trigger_owner
from controller.engine.triggers import TriggerReconciler
from controller.genesys import Trigger, TriggerSpec
from controller.metrics import Metrics
from controller.subscriptions.apply import TriggerClient
from tests.engine.conftest import emulator_clock, open_test_session
from tests.smallfs import fill, small_filesystem

NAME = "not-responding-alert"  # the example desired/'s one subscription


class RecordingClient:
    """The real client, noting which trigger intents were on disk as each write went out."""

    def __init__(self, client: TriggerClient, audit_path: Path) -> None:
        self._client, self._path = client, audit_path
        self.pending_at_write: list[list[str]] = []

    def _note(self) -> None:
        self.pending_at_write.append([r.trigger for r in pending_trigger_intents(self._path)])

    def list_triggers(self, topic_names: Sequence[str] = ()) -> list[Trigger]:
        return self._client.list_triggers(topic_names)

    def get_trigger(self, trigger_id: str) -> Trigger:
        return self._client.get_trigger(trigger_id)

    def create_trigger(self, spec: TriggerSpec) -> Trigger:
        self._note()
        return self._client.create_trigger(spec)

    def update_trigger(self, trigger_id: str, spec: TriggerSpec, version: int) -> Trigger:
        self._note()
        return self._client.update_trigger(trigger_id, spec, version)

    def delete_trigger(self, trigger_id: str) -> None:
        self._note()
        self._client.delete_trigger(trigger_id)


@dataclass
class Env:
    emu: RunningEmulator
    session: Session
    audit_path: Path

    def reconciler(self, client: TriggerClient | None = None, path: Path | None = None) -> TriggerReconciler:
        audit = AuditWriter(path or self.audit_path)
        owner = trigger_owner()
        return TriggerReconciler(
            client or self.session.client.triggers, audit, Metrics(), emulator_clock(self.emu), owner
        )

    def trigger_posts(self) -> int:
        return sum(
            1 for r in self.emu.control.requests_log() if r["method"] == "POST" and "triggers" in r["route"]
        )


@pytest.fixture
def env(day_emulator: RunningEmulator, tmp_path: Path) -> Iterator[Env]:
    session = open_test_session(day_emulator)
    yield Env(day_emulator, session, tmp_path / "audit.jsonl")
    session.client.close()


def test_each_trigger_write_is_on_disk_as_an_intent_before_it_is_sent(env: Env) -> None:
    client = RecordingClient(env.session.client.triggers, env.audit_path)
    result = env.reconciler(client).reconcile(env.session.state)
    assert [o.status for o in result.outcomes] == ["done"]
    assert client.pending_at_write == [[NAME]]
    intent, outcome = [r for r in read_audit(env.audit_path, intents=True) if r["kind"] == "trigger"]
    assert intent["phase"] == "intent" and intent["result"]["status"] == "pending"
    assert outcome["phase"] == "outcome" and outcome["outcome"] == "confirmed"
    assert outcome["result"]["status"] == "ok" and outcome["write_id"] == intent["write_id"]
    assert pending_trigger_intents(env.audit_path) == []
    assert [r["phase"] for r in read_audit(env.audit_path)] == ["outcome"]  # the default view


def test_a_full_disk_sends_no_trigger_write_and_the_next_pass_with_room_does(
    env: Env, tmp_path: Path
) -> None:
    with small_filesystem(tmp_path / "fs", 512) as fs:
        reconciler = env.reconciler(path=fs / "audit.jsonl")
        filler = fill(fs, leave_bytes=256)
        env.emu.control.clear_requests()
        with pytest.raises(AuditUnavailable):
            reconciler.reconcile(env.session.state)
        assert env.trigger_posts() == 0  # fail closed: the create was never sent
        filler.unlink()
        result = reconciler.reconcile(env.session.state)
        assert [o.status for o in result.outcomes] == ["done"] and env.trigger_posts() == 1
        assert pending_trigger_intents(fs / "audit.jsonl") == []


def _intent(trigger: str, write_id: str) -> TriggerAuditRecord:
    return TriggerAuditRecord(
        time=datetime(2026, 1, 1, tzinfo=UTC),
        trigger=trigger,
        action="create",
        mode=AuditMode.ENFORCED,
        result=AuditResult.PENDING,
        reason="missing",
        cycle_id="dead-run",
        phase=Phase.INTENT,
        write_id=write_id,
    )


def test_the_first_pass_resolves_the_intents_a_dead_process_left(env: Env, tmp_path: Path) -> None:
    # The dead process: its create of NAME reached Genesys; its create of "gone" did not.
    env.reconciler(path=tmp_path / "other-audit.jsonl").reconcile(env.session.state)
    AuditWriter(env.audit_path).write_batch([_intent(NAME, "w-applied"), _intent("gone", "w-lost")])
    reconciler = env.reconciler()
    reconciler.reconcile(env.session.state)
    got = {r["write_id"]: r for r in read_audit(env.audit_path) if r.get("write_id")}
    assert got["w-applied"]["outcome"] == "confirmed" and got["w-applied"]["result"]["status"] == "ok"
    assert got["w-lost"]["outcome"] == "unknown" and got["w-lost"]["result"]["status"] == "failed"
    assert "resolved after a restart" in got["w-lost"]["reason"]["text"]
    assert pending_trigger_intents(env.audit_path) == []
    before = len(list(read_audit(env.audit_path, intents=True)))
    reconciler.reconcile(env.session.state)  # resolved once: nothing new without a change
    assert len(list(read_audit(env.audit_path, intents=True))) == before
