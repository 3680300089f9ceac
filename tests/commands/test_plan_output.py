"""`plan` reads like `terraform plan` / `flux diff`: the HELD notice and the summary (per policy
and per transition) first, rows grouped by policy and transition, colour only on a terminal and
never under NO_COLOR; `--output json` has a `version`; `--policy` limits it to one policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.cli import main
from controller.emulator.server import RunningEmulator
from controller.engine.render import PLAN_FORMAT_VERSION
from tests.commands.conftest import Forced, forced_desired
from tests.commands.tty import clean_env, on_terminal


def _plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_summary_first_then_rows_grouped_by_policy_and_transition(
    forced: Forced, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _plan(capsys, str(forced.directory))
    assert code == 1
    lines = out.splitlines()
    assert "change(s) for" in lines[0] and "managed agent(s)" in lines[0]
    assert "\x1b[" not in out  # not a terminal: no colour
    summary = lines[: lines.index("")]
    assert any(line.startswith("  customer-care-schedule: ") for line in summary)
    assert "  triggers: 1 change(s): create not-responding-alert" in summary  # the example's subscription
    busy = [line for line in summary if line.startswith("    ") and "-> Busy" in line]
    assert sum(int(line.split()[-2]) for line in busy) == len(forced.emails)
    assert all(line.split()[-1] == "enforce" for line in busy)
    # Every forced agent's row sits under its group header "policy: LIVE -> Busy".
    for email in forced.emails:
        row = next(i for i, line in enumerate(lines) if line.strip().startswith(email))
        header = next(lines[i] for i in range(row, -1, -1) if not lines[i].startswith("    "))
        assert header.startswith("  customer-care-schedule: ") and header.endswith("-> Busy"), header


def test_held_is_the_first_line(
    tmp_path: Path,
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = forced_desired(tmp_path, emulator, blast_agents=1)
    for key, value in held.env.items():
        monkeypatch.setenv(key, value)
    code, out, _ = _plan(capsys, str(held.directory))
    assert code == 1
    first, second = out.splitlines()[:2]
    assert first.startswith("HELD: ") and "nothing is written" in first
    assert "change(s) for" in second
    assert any(line.split()[-1] == "held" for line in out.splitlines() if "-> Busy" in line)


def test_json_has_a_version_and_the_summary(forced: Forced, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _plan(capsys, str(forced.directory), "--output", "json")
    assert code == 1
    body = json.loads(out)
    assert body["version"] == PLAN_FORMAT_VERSION == 1
    busy = [s for s in body["summary"] if s["desired"] == "Busy"]
    assert sum(s["agents"] for s in busy) == len(forced.emails)
    assert {s["policy"] for s in busy} == {"customer-care-schedule"}
    assert {c["agent"] for c in body["changes"] if c["desired"] == "Busy"} == set(forced.emails)
    assert all(c["routingStatus"] for c in body["changes"])


def test_colour_on_a_terminal_and_never_with_no_color(forced: Forced) -> None:
    coloured = on_terminal(["plan", str(forced.directory)], forced.directory.parent, clean_env(forced.env))
    assert coloured.code == 1 and "\x1b[32mBusy\x1b[0m" in coloured.text
    plain = on_terminal(
        ["plan", str(forced.directory)], forced.directory.parent, clean_env({**forced.env, "NO_COLOR": "1"})
    )
    assert plain.code == 1 and "\x1b[" not in plain.text and "-> Busy" in plain.text


def test_policy_limits_the_plan_to_one_policy(forced: Forced, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _plan(
        capsys, str(forced.directory), "--policy", "customer-care-schedule", "--output", "json"
    )
    assert code == 1
    body = json.loads(out)
    assert {c["policy"] for c in body["changes"]} == {"customer-care-schedule"}
    assert body["triggers"] == []  # subscriptions are left to a run without --policy
    code, out, _ = _plan(capsys, str(forced.directory), "--policy", "customer-care-schedule")
    assert "--policy customer-care-schedule: only its agents" in out


def test_an_unknown_policy_is_one_line_naming_the_others(
    forced: Forced, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _plan(capsys, str(forced.directory), "--policy", "customer-car")
    assert code == 2 and out == ""
    (line,) = [line for line in err.strip().splitlines() if not line.startswith("{")]
    assert "--policy 'customer-car'" in line and "customer-care-schedule" in line
