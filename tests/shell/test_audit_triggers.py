"""Trigger change records: the presence record's envelope, read back and shown by `presencectl audit`."""

from __future__ import annotations

import io
import json
from pathlib import Path

from controller.audit import AuditMode, AuditResult, AuditWriter, TriggerAuditRecord, read_audit
from controller.commands.audit import run as run_cli
from tests.shell.audit_records import T0, cli_args, record


def test_a_trigger_record_shares_the_envelope_and_is_listed_next_to_presence_records(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    change = TriggerAuditRecord(
        time=T0,
        trigger="not-responding-alert",
        action="update",
        mode=AuditMode.ENFORCED,
        result=AuditResult.FAILED,
        reason="edited outside presencectl; putting it back",
        cycle_id="t1",
        trigger_id="trig-1",
        changes=(("enabled", "false", "true"),),
        reason_kind="hand-edited",
        reason_source="desired/subscription-activity.yaml:2:1",
        error_code="http.503",
        correlation_id="corr-9",
        digest="sha256:abc",
    )
    AuditWriter(path).write_batch([record(1), change])
    presence, trigger = list(read_audit(path))
    assert set(trigger) - {"kind", "trigger", "action", "changes"} == set(presence) - {
        "agent",
        "policy",
        "desired",
        "before",
        "after",
        "latency_ms",
    }
    assert trigger["kind"] == "trigger" and trigger["trigger"] == {
        "name": "not-responding-alert",
        "id": "trig-1",
    }
    assert trigger["changes"] == [{"field": "enabled", "before": "false", "after": "true"}]
    assert trigger["result"] == {"status": "failed", "error_code": "http.503"}
    assert list(read_audit(path, agent="a@example.com")) == [presence]  # an agent filter leaves triggers out

    out, err = io.StringIO(), io.StringIO()
    assert run_cli(cli_args(path), out, err) == 0
    row = out.getvalue().splitlines()[1]  # sorted by time: the trigger change (T0) comes first
    assert "trigger:not-responding-alert" in row and "update trigger (enabled)" in row
    assert "enforced/failed (http.503)" in row
    assert json.loads(path.read_text().splitlines()[1])["kind"] == "trigger"
