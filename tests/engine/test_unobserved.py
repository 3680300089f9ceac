"""Agents the presence reads do not return (docs/genesys-api.md#users-activity): read another way in
the same cycle, and when even that fails, left alone, counted per policy and named after two
resyncs; the daemon stays ready."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import Reconciler, unobserved_streaks
from controller.metrics import Metrics
from tests.engine.conftest import DESIRED, daemon_session, emulator_clock, open_test_session
from tests.support.waiting import wait_for

POLICY = """\
apiVersion: presencectl.io/v1
kind: PresencePolicy
metadata:
  name: outside-wfm
spec:
  agents:
    userIds: [{ids}]
  timezone: UTC
  mode: observe
  windows:
    - {{days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], from: "00:00", to: "23:59", presence: Available}}
"""


def gauge(metrics: Metrics, policy: str) -> float:
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == "presencectl_agents_unobserved" and sample.labels == {"policy": policy}:
                return float(sample.value)
    raise AssertionError(f"no presencectl_agents_unobserved sample for {policy}")


@pytest.fixture
def outside(day_emulator: RunningEmulator, tmp_path: Path) -> tuple[Path, list[str]]:
    """desired/ plus a policy for the agents in no management unit (users/activity omits them)."""
    ids = sorted(a.id for a in day_emulator.org.agents if a.management_unit_id is None)
    assert len(ids) == 2
    directory = tmp_path / "desired"
    shutil.copytree(DESIRED, directory)
    (directory / "policy-outside.yaml").write_text(POLICY.format(ids=", ".join(ids)))
    return directory, ids


def test_agents_outside_wfm_are_observed_through_the_users_read(
    day_emulator: RunningEmulator, outside: tuple[Path, list[str]]
) -> None:
    directory, ids = outside
    session = open_test_session(day_emulator, directory)
    metrics = Metrics()
    result = Reconciler(session.client, session.org_reader, metrics, emulator_clock(day_emulator)).cycle(
        session.state, write=False
    )
    assert set(ids) <= set(result.observed)
    assert gauge(metrics, "outside-wfm") == 0
    row = next(a for a in result.plan.adherence if a.policy == "outside-wfm")
    assert row.unobserved == 0 and row.in_desired + row.out_of_desired == 2


def test_agents_unread_twice_are_counted_and_named(
    day_emulator: RunningEmulator, outside: tuple[Path, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    directory, ids = outside
    session = open_test_session(day_emulator, directory)  # the directory is read (and cached) here
    # From now on the second read fails too: the two agents cannot be read at all.
    day_emulator.control.faults(errorRate=1.0, errorStatus=400, pathPattern="^/api/v2/users$")
    metrics = Metrics()
    reconciler = Reconciler(session.client, session.org_reader, metrics, emulator_clock(day_emulator))
    caplog.set_level(logging.WARNING, logger="controller.engine.reconciler")

    first = reconciler.cycle(session.state, write=False)
    assert not set(ids) & set(first.observed) and first.observed  # the others are read
    assert gauge(metrics, "outside-wfm") == 2 and gauge(metrics, "customer-care-schedule") == 0
    assert not [r for r in caplog.records if "unread" in r.getMessage()]

    reconciler.cycle(session.state, write=False)
    warnings = [r.getMessage() for r in caplog.records if "unread" in r.getMessage()]
    assert len(warnings) == 1
    emails = [a.email for a in day_emulator.org.agents if a.id in ids]
    assert all(e in warnings[0] for e in emails) and warnings[0].startswith("2 managed agent(s)")

    day_emulator.control.clear_faults()
    reconciler.cycle(session.state, write=False)
    assert gauge(metrics, "outside-wfm") == 0


def test_unobserved_streaks_count_full_resyncs_only() -> None:
    first = unobserved_streaks({}, ["a", "b", "c"], ["c"], full=True)
    assert first == {"a": 1, "b": 1}
    assert unobserved_streaks(first, ["a"], [], full=False) == first  # a targeted miss adds nothing
    assert unobserved_streaks(first, ["a"], ["a"], full=False) == {"b": 1}  # a targeted read clears
    assert unobserved_streaks(first, ["a", "b", "c"], ["b"], full=True) == {"a": 2, "c": 1}


def test_the_daemon_stays_ready_with_agents_it_cannot_read(
    day_emulator: RunningEmulator, outside: tuple[Path, list[str]], tmp_path: Path
) -> None:
    directory, _ = outside
    session = daemon_session(day_emulator, tmp_path, directory, webhook_secret=None)
    day_emulator.control.faults(errorRate=1.0, errorStatus=400, pathPattern="^/api/v2/users$")
    daemon = Daemon(str(directory), session, clock=emulator_clock(day_emulator))
    daemon.start()
    try:
        wait_for(lambda: daemon.health().ready, what="the first full resync")
        ready = requests.get(f"http://127.0.0.1:{daemon.http_port}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert gauge(daemon.metrics, "outside-wfm") == 2
    finally:
        daemon.stop()
