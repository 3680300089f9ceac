"""A reload of desired/ keeps where the process was told to listen and keep its state (flags and
environment outrank desired/), and the inline secrets a rejected reload found are registered with
the log scrubber by the daemon, not by validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.session import Placement, Session
from controller.log import scrub
from tests.engine.conftest import desired_copy, emulator_clock, open_test_session

LEAK = """apiVersion: presencectl.io/v1
kind: ControllerConfig
metadata:
  name: leaked
spec:
  webhookSecret: {secret}
"""


def test_a_reload_keeps_the_placement_and_registers_inline_secrets(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "placement-webhook-secret-0123456789")
    directory = desired_copy(tmp_path, 0)
    session = open_test_session(day_emulator, directory)
    placed = tmp_path / "placed"
    where = Placement("127.0.0.1:0", str(placed / "audit.jsonl"), str(placed / "timeline.sqlite"))
    session = Session(session.client, session.org_reader, where.apply(session.state), where)
    daemon = Daemon(
        str(directory), session, clock=emulator_clock(day_emulator)
    )  # not started: reloads by hand
    try:
        policy = directory / "policy-customer-care.yaml"
        policy.write_text(policy.read_text() + "\n# a reviewed edit\n")
        assert daemon._reload()  # a new digest: the new set is in force
        config = daemon.desired.config
        assert (config.http_bind, config.audit_path) == ("127.0.0.1:0", str(placed / "audit.jsonl"))
        assert config.adherence_database == str(placed / "timeline.sqlite")

        secret = "daemon-reload-inline-secret-5b1e"
        (directory / "leak.yaml").write_text(LEAK.format(secret=secret))
        assert scrub(secret) == secret
        assert not daemon._reload()  # rejected: the last good set stays
        assert scrub(f"echoed {secret}") == "echoed ***"
        assert daemon.desired.config.audit_path == str(placed / "audit.jsonl")
    finally:
        daemon.executor.close()
        daemon.recorder.close()
        daemon.timeline.close()
        daemon.client.close()
