"""`presencectl validate` through the real command line: exit codes, text and JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from controller.cli import main

DESIRED = Path(__file__).resolve().parents[2] / "desired"
BAD = Path(__file__).parent / "bad"


def test_valid_example_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DESIRED), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "valid: 5 file(s), 2 PresencePolicy, 1 PresenceMapping, 1 EventSubscription" in out
    assert ": error:" not in out


def test_invalid_directory_exits_2_with_file_line_col(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(DESIRED / "policy-emea-support.yaml", tmp_path)
    shutil.copy(BAD / "policy-rules-unknown-field.yaml", tmp_path)
    shutil.copy(BAD / "sub-ttl-and-delay.yaml", tmp_path)
    assert main(["validate", str(tmp_path), "--offline"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"{tmp_path}/policy-rules-unknown-field.yaml:16:5: error: unknown field 'grace' in spec.rules "
        "(did you mean 'graceSeconds'? allowed fields: respectActiveInteractions, graceSeconds, "
        "maxBreakMinutes, messageRequired, allowedPresences, offlineAgents, outOfOffice)"
    )
    assert lines[1].startswith(
        f"{tmp_path}/sub-ttl-and-delay.yaml:12:3: error: eventTTLSeconds and delayBySeconds"
    )
    assert lines[-1].startswith("invalid: 2 error(s) in 2 file(s)")


def test_json_output_lists_diagnostics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(BAD / "config-inline-secret.yaml", tmp_path)
    assert main(["validate", str(tmp_path), "--offline", "--output", "json"]) == 2
    out = capsys.readouterr().out
    (diagnostic,) = json.loads(out)
    assert diagnostic == {
        "file": f"{tmp_path}/config-inline-secret.yaml",
        "line": 8,
        "column": 18,
        "severity": "error",
        "message": "inline secret in spec.webhookSecret: secrets are never written in desired state",
        "hint": "reference it instead: webhookSecret: {env: VARIABLE} or webhookSecret: {file: /path}",
        "value": "<redacted>",
    }
    assert "hunter2" not in out


def test_unreadable_or_empty_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing"), "--offline"]) == 2
    assert main(["validate", str(tmp_path), "--offline"]) == 2
    out = capsys.readouterr().out
    assert "not a readable directory" in out and "no *.yaml or *.yml files" in out
