"""The daemon against the emulator: stream-driven corrections, grace re-checks, reloads that keep
the last good state, signed external WFM states, and a clean SIGTERM on the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
import requests

from controller.emulator.org import agent_id
from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.wakeups import Wake, WakeReason
from controller.webhook import sign
from tests.engine.conftest import SECRET, daemon_session, desired_copy, emulator_clock
from tests.support.dashboard import Receiver
from tests.support.waiting import wait_for


class Running(NamedTuple):
    daemon: Daemon
    emu: RunningEmulator
    directory: Path
    dashboard: Receiver | None  # an adherence-export receiver, when the test asked for one


@pytest.fixture
def running(
    day_emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[Running]:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", SECRET)
    options = getattr(request, "param", {})
    dashboard = Receiver() if options.get("export") else None
    directory = desired_copy(tmp_path, options.get("grace", 0))
    session = daemon_session(
        day_emulator,
        tmp_path,
        directory,
        adherence_export_url=dashboard.url if dashboard is not None else None,
        adherence_export_interval_seconds=1,
    )
    daemon = Daemon(str(directory), session, clock=emulator_clock(day_emulator))
    daemon.start()
    try:
        wait_for(lambda: daemon.health().ready, what="the first full resync")
        # Hand-made changes before the channels are subscribed would only be seen by the next
        # periodic resync: the tests below are about the stream, so wait for it.
        wait_for(lambda: daemon.wait_streaming(0), "the notification stream")
        yield Running(daemon, day_emulator, directory, dashboard)
    finally:
        daemon.stop()
        if dashboard is not None:
            dashboard.server.stop()


def _on_queue_agents(daemon: Daemon) -> list[str]:
    live = daemon.client.presence.observe(daemon.org_reader.directory(daemon.now()).by_id)
    idle = [
        user_id
        for user_id, agent in sorted(live.items())
        if agent.system_presence.value == "OnQueue" and agent.routing_status.value == "IDLE"
    ]
    assert idle, "no agent On Queue after the first resync"
    return idle


def _on_queue_agent(daemon: Daemon) -> str:
    return _on_queue_agents(daemon)[0]


def test_a_hand_made_change_is_corrected_from_the_stream(
    running: Running,
) -> None:
    daemon, emu, _, _ = running
    user_id = _on_queue_agent(daemon)
    emu.control.set_presence(user_id, "Away")
    wait_for(
        lambda: daemon.client.presence.get_presence(user_id).system_presence.value == "OnQueue",
        what="the stream-driven correction",
    )
    # The latency is observed once the cycle ends, after its write is visible: wait for it too.
    wait_for(
        lambda: (_sample(daemon, "presencectl_event_to_correction_seconds_count") or 0) >= 1,
        what="the event-to-correction latency observed",
    )
    # The adherence timeline holds the first read, the drift from the stream and the correction
    # (recorded by whichever comes first: our write's confirmation or its own stream event).
    wait_for(
        lambda: (
            [c.system_presence.value for c in daemon.timeline.changes(user_id)][-2:] == ["Away", "OnQueue"]
        ),
        what="the drift and the correction in the adherence timeline",
    )
    # The drift is recorded by whichever observer gets there first: the stream's event, or the
    # read of the re-plan that event woke (two threads; their order is the scheduler's).
    changes = daemon.timeline.changes(user_id)
    assert changes[0].source == "read" and changes[-2].source in ("stream", "read")


def _sample(daemon: Daemon, name: str, labels: dict[str, str] | None = None) -> float | None:
    return daemon.metrics.registry.get_sample_value(name, labels or {})


def _cycles(daemon: Daemon) -> float:
    return _sample(daemon, "presencectl_reconcile_cycles_total", {"result": "ok"}) or 0


def test_an_agent_logging_out_is_left_offline_and_logging_in_is_put_on_queue(running: Running) -> None:
    daemon, emu, _, _ = running
    user_id = _on_queue_agent(daemon)
    assert emu.backend.presence.users[user_id].logged_in, "only logged-in agents are ever put On Queue"
    before = _cycles(daemon)
    emu.control.set_logged_in(user_id, False)  # e.g. the client crashed: Offline, OFF_QUEUE
    changes = len(emu.backend.presence.users[user_id].history)
    wait_for(lambda: _cycles(daemon) > before, what="the re-plan of the logged-out agent")
    assert len(emu.backend.presence.users[user_id].history) == changes, "the logged-out agent was written"
    assert daemon.client.presence.get_presence(user_id).system_presence.value == "Offline"
    emu.control.set_logged_in(user_id, True)  # back at the desk: Available, then On Queue
    wait_for(
        lambda: daemon.client.presence.get_presence(user_id).system_presence.value == "OnQueue",
        what="the logged-in agent put back On Queue",
    )


@pytest.mark.parametrize("running", [{"grace": 60}], indirect=True)
def test_an_agents_own_change_stands_for_the_grace_then_is_corrected(
    running: Running,
) -> None:
    daemon, emu, _, _ = running
    user_id, other = _on_queue_agents(daemon)[:2]
    # Back Office is in every example policy's allowedPresences (a presence outside them is
    # corrected without grace) and is not a break (breaks get maxBreakMinutes instead).
    now = daemon.now()  # Genesys times are to the millisecond: the change's is at most this, truncated
    changed = now.replace(microsecond=now.microsecond // 1000 * 1000)
    emu.control.set_presence(user_id, "Back Office")
    wait_for(lambda: user_id in daemon._rechecks, what="the change planned, its re-check at the grace's end")
    assert daemon._rechecks[user_id] >= changed + timedelta(seconds=60)
    assert daemon.client.presence.get_presence(user_id).system_presence.value == "Busy", (
        "corrected inside grace"
    )
    # The grace ends on the daemon's clock (the emulator's). Any cycle re-arms the re-check timer
    # for the new time: a stream event about another agent makes one.
    emu.control.advance_clock(60)
    daemon.wake(Wake(WakeReason.EVENT, frozenset({other}), daemon.now()))
    wait_for(
        lambda: daemon.client.presence.get_presence(user_id).system_presence.value == "OnQueue",
        what="the correction once the grace ended",
    )


def test_an_invalid_desired_change_keeps_the_last_good_state(
    running: Running,
) -> None:
    daemon, _, directory, _ = running
    good_digest = daemon.health().details["desired_digest"]

    def valid() -> float | None:
        return daemon.metrics.registry.get_sample_value("presencectl_desired_state_valid")

    assert valid() == 1
    broken = directory / "broken.yaml"
    broken.write_text(
        "apiVersion: presencectl.io/v1\nkind: PresencePolicy\nmetadata: {name: x}\nspec: {grace: 1}\n"
    )
    wait_for(lambda: "desired_error" in daemon.health().details, what="the reload error")
    health = daemon.health()
    assert "broken.yaml:4" in health.details["desired_error"]
    assert health.details["desired_digest"] == good_digest and health.alive
    assert valid() == 0, "the alert on a rejected desired/ reads this gauge"
    broken.unlink()
    wait_for(lambda: "desired_error" not in daemon.health().details, what="the error to clear")
    assert valid() == 1


def test_a_signed_external_wfm_state_sets_the_mapped_presence(
    running: Running,
) -> None:
    daemon, _, _, _ = running
    user_id = _on_queue_agent(daemon)
    email = daemon.org_reader.directory(daemon.now()).by_id[user_id].email
    body = json.dumps({"eventId": "evt-1", "email": email, "state": "WFM_BREAK"}).encode()
    url = f"http://127.0.0.1:{daemon.http_port}/webhooks/presence"
    headers = {**sign(SECRET, body, int(time.time())), "Content-Type": "application/json"}
    answer = requests.post(url, data=body, headers=headers, timeout=5)
    assert answer.status_code == 202, answer.text
    wait_for(
        lambda: daemon.client.presence.get_presence(user_id).system_presence.value == "Break",
        what="the external state's presence",
    )
    forged_headers = {**sign("wrong-secret-xyz", body, int(time.time())), "Content-Type": "application/json"}
    forged = requests.post(url, data=body, headers=forged_headers, timeout=5)
    assert forged.status_code == 401


def test_run_exits_zero_on_sigterm_after_its_first_resync(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    emu = day_emulator
    # The real-clock daemon's one correction is agent00003's override; logged out (at 10:00 UTC
    # no Customer Care agent is), it would be left alone: the agent logs in first (no grace, as
    # the log-on is stamped with the emulator's clock, ahead of the daemon's real one).
    emu.control.set_logged_in(agent_id(3), True)
    directory = desired_copy(tmp_path, 0)
    controller_yaml = directory / "controller.yaml"
    controller_yaml.write_text(
        controller_yaml.read_text()
        .replace("path: audit/audit.jsonl", f"path: {tmp_path / 'audit.jsonl'}")
        .replace("bind: 127.0.0.1:9464", "bind: 127.0.0.1:0")
    )
    env = {
        **os.environ,
        "GENESYS_API_BASE": emu.api_base,
        "GENESYS_LOGIN_BASE": emu.login_base,
        "GENESYS_CLIENT_ID": emu.client_id,
        "GENESYS_CLIENT_SECRET": emu.client_secret,
        "PRESENCECTL_WEBHOOK_SECRET": SECRET,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "run", str(directory)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # apply/run create the (empty) audit log up front to check it is writable: wait for records.
        audit = tmp_path / "audit.jsonl"
        wait_for(lambda: audit.exists() and audit.stat().st_size > 0, what="the first corrections")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert "daemon stopped" in err
    assert emu.client_secret not in err


def test_metrics_endpoint_exposes_cycles_and_api_calls_without_agent_labels(
    running: Running,
) -> None:
    daemon, _, _, _ = running
    text = requests.get(f"http://127.0.0.1:{daemon.http_port}/metrics", timeout=5).text
    assert 'presencectl_reconcile_cycles_total{result="ok"}' in text
    assert 'endpoint="POST /api/v2/workforcemanagement/users/activity",status_class="2xx"' in text
    assert "presencectl_managed_agents " in text and "presencectl_next_boundary_timestamp_seconds " in text
    agent_ids = {a.id for a in daemon.org_reader.directory(daemon.now()).agents}
    assert not any(agent_id in text for agent_id in agent_ids), "a per-agent label leaked into /metrics"
    promtool = shutil.which("promtool")
    if promtool is not None:  # Debian's prometheus package ships it; CI machines may lack it
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("running", [{"export": True}], indirect=True)
def test_adherence_is_exported_on_its_interval(running: Running) -> None:
    """Per-agent-day records of the managed agents, in batches with an idempotency key."""
    dashboard = running.dashboard
    assert dashboard is not None
    wait_for(lambda: bool(dashboard.received), "an adherence export (interval 1 s)")
    _, batch, _ = dashboard.received[0]
    assert batch["batch"] == 1 and batch["records"], batch
    policies = {r["policy"] for r in batch["records"]}
    assert policies <= {p.name for p in running.daemon.desired.policies}
    assert {"agentId", "date", "scheduledSeconds", "adherencePercent", "exceptions"} <= batch["records"][
        0
    ].keys()
