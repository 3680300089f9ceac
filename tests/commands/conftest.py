"""A desired/ copy whose customer-care policy sends a few logged-in agents to Busy until 2030:
corrections that do not depend on the hour the test runs at (the CLI plans on the wall clock),
against the shared 50-agent emulator. Busy is no schedule's and no policy's presence in the
example desired/ (a scheduled Training session had made a fifth agent's row "-> Training")."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from controller.core.selection import select_agents
from controller.emulator.server import RunningEmulator
from tests.commands.tty import ROOT
from tests.engine.conftest import open_test_session

FORCED = 4


@dataclass
class Forced:
    directory: Path
    audit: Path
    emails: list[str]  # the agents sent to Busy
    ids: list[str]
    env: dict[str, str]  # connection and webhook secret, for a subprocess


def forced_desired(tmp_path: Path, emu: RunningEmulator, *, blast_agents: int | None = None) -> Forced:
    target = tmp_path / "desired"
    shutil.copytree(ROOT / "desired", target)
    session = open_test_session(emu)
    directory = session.org_reader.directory(emu.control.now())
    selected = select_agents(session.state, directory.agents).by_agent
    ids = sorted(
        (uid for uid, policy in selected.items() if policy.name == "customer-care-schedule"),
        key=lambda uid: directory.by_id[uid].email,
    )[3 : 3 + FORCED]
    for uid in ids:  # at work (logged in): a logged-out agent is never corrected
        emu.control.set_logged_in(uid, True)
    emails = [directory.by_id[uid].email for uid in ids]
    entries = "".join(
        f'    - {{agent: {e}, presence: Busy, until: "2030-01-01T00:00:00Z"}}\n' for e in emails
    )
    policy = target / "policy-customer-care.yaml"
    text = policy.read_text().replace("  overrides:\n", "  overrides:\n" + entries)
    text = text.replace("respectActiveInteractions: true", "respectActiveInteractions: false")
    policy.write_text(re.sub(r"graceSeconds: \d+", "graceSeconds: 0", text))
    config = target / "controller.yaml"
    audit = tmp_path / "audit" / "audit.jsonl"
    text = config.read_text().replace("path: audit/audit.jsonl", f"path: {audit}")
    if blast_agents is not None:
        text = re.sub(
            r"blastRadius:.*\n(    .*\n)*", f"blastRadius: {{percent: 1, minAgents: {blast_agents}}}\n", text
        )
    config.write_text(text)
    env = {
        "GENESYS_API_BASE": emu.api_base,
        "GENESYS_LOGIN_BASE": emu.login_base,
        "GENESYS_CLIENT_ID": emu.client_id,
        "GENESYS_CLIENT_SECRET": emu.client_secret,
        "PRESENCECTL_WEBHOOK_SECRET": "commands-webhook-secret-0123456789",
    }
    emu.control.clear_requests()
    return Forced(target, audit, emails, ids, env)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`main()` points the root logger at this test's captured stderr: put the handlers back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def forced(tmp_path: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> Forced:
    found = forced_desired(tmp_path, emulator)
    for key, value in found.env.items():
        monkeypatch.setenv(key, value)
    return found
