"""`presencectl plan` / `apply` on the CLI against the emulator: a plan held by the blast-radius
guard writes nothing at all (no presence, no trigger), and `--allow-blast-radius` lets an operator
who means it through for one run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from controller.audit import read_audit
from controller.cli import main
from controller.core.selection import select_agents
from controller.emulator.server import RunningEmulator
from tests.engine.conftest import DESIRED, open_test_session

TRIGGERS = "/api/v2/processautomation/triggers"


def _overrides(emu: RunningEmulator, presence: str, count: int) -> str:
    """Override entries sending `count` customer-care agents to `presence`: corrections that do
    not depend on the time of day the test runs at (the CLI plans on the wall clock)."""
    session = open_test_session(emu)
    selected = select_agents(session.state, session.org_reader.directory(emu.control.now()).agents).by_agent
    emails = sorted(
        session.org_reader.directory(emu.control.now()).by_id[uid].email
        for uid, policy in selected.items()
        if policy.name == "customer-care-schedule"
    )
    chosen = emails[3 : 3 + count]
    for agent in emu.org.agents:  # at work (logged in): a logged-out agent is never corrected
        if agent.email in chosen:
            emu.control.set_logged_in(agent.id, True)
    entry = '    - {{agent: {}, presence: {}, until: "2030-01-01T00:00:00Z"}}\n'
    return "".join(entry.format(e, presence) for e in chosen)


@pytest.fixture
def held_dir(tmp_path: Path, day_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example desired/ plus four overrides, with a guard that holds any plan of more than one
    correction."""
    target = tmp_path / "desired"
    shutil.copytree(DESIRED, target)
    config = target / "controller.yaml"
    text = re.sub(
        r"blastRadius:.*\n(    .*\n)*", "blastRadius: {percent: 1, minAgents: 1}\n", config.read_text()
    )
    config.write_text(text.replace("path: audit/audit.jsonl", f"path: {tmp_path / 'audit.jsonl'}"))
    policy = target / "policy-customer-care.yaml"
    text = policy.read_text().replace(
        "  overrides:\n", "  overrides:\n" + _overrides(day_emulator, "Training", 4)
    )
    text = text.replace("respectActiveInteractions: true", "respectActiveInteractions: false")
    policy.write_text(re.sub(r"graceSeconds: \d+", "graceSeconds: 0", text))
    monkeypatch.setenv("GENESYS_CLIENT_ID", day_emulator.client_id)
    monkeypatch.setenv("GENESYS_CLIENT_SECRET", day_emulator.client_secret)
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "test-webhook-secret-0123456789")
    day_emulator.control.clear_requests()
    return target


def _cli(emu: RunningEmulator, *args: str) -> int:
    return main([*args, "--api-base", emu.api_base, "--login-base", emu.login_base])


def _writes(emu: RunningEmulator) -> dict[str, int]:
    return {
        k: v
        for k, v in emu.control.request_counts().items()
        if k.split()[0] in ("POST", "PUT", "PATCH", "DELETE")
    }


def test_a_held_apply_writes_no_presence_and_no_trigger(
    day_emulator: RunningEmulator, held_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(day_emulator, "apply", str(held_dir)) == 1
    out = capsys.readouterr().out
    assert "HELD:" in out and "nothing is written" in out
    assert re.search(r"\(create\)\s+not-responding-alert", out), out
    writes = _writes(day_emulator)
    assert not [k for k in writes if TRIGGERS in k], writes
    assert not [k for k in writes if "presence" in k], writes
    records = list(read_audit(held_dir.parent / "audit.jsonl"))
    assert records and {r["mode"] for r in records} == {"held"}
    triggers = [(r["trigger"]["name"], r["action"]) for r in records if r.get("kind") == "trigger"]
    assert triggers == [("not-responding-alert", "create")]


def test_allow_blast_radius_lets_one_run_through(
    day_emulator: RunningEmulator, held_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(day_emulator, "plan", str(held_dir), "--allow-blast-radius", "100%") == 1
    assert "HELD" not in capsys.readouterr().out
    assert _cli(day_emulator, "apply", str(held_dir), "--allow-blast-radius", "100%") == 0
    out = capsys.readouterr().out
    assert "blast-radius override for this run: 100% of managed agents" in out and "HELD" not in out
    assert "trigger create not-responding-alert: done" in out
    created = [r for r in read_audit(held_dir.parent / "audit.jsonl") if r.get("kind") == "trigger"]
    assert [(r["action"], r["mode"], r["result"]["status"]) for r in created] == [
        ("create", "enforced", "ok")
    ]
    assert _cli(day_emulator, "plan", str(held_dir)) == 0  # converged: nothing left, nothing held


def test_a_bad_override_is_refused_before_any_call(
    day_emulator: RunningEmulator, held_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(day_emulator, "apply", str(held_dir), "--allow-blast-radius", "150%") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "configuration error: --allow-blast-radius '150%': give a percentage of the managed "
        "agents (e.g. 40%) or a number of agents (e.g. 120)"
    ]
    assert day_emulator.control.request_counts() == {}
