"""`presencectl simulate` against replaying the same day through the emulator with time travel.

The org keeps every agent logged in (the simulation assumes agents take each presence they are
told and nobody logs out), so the daemon's reconciler, woken at each boundary of the day on the
emulator's clock and planning the agents changing there as the daemon does, must change exactly
the agents, and make exactly the writes, write calls and read-backs, that simulate predicted for
that boundary, counted from the emulator's request log and the audit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from controller.audit import AuditWriter, read_audit
from controller.commands.simulate import read_org_snapshot
from controller.core.simulate import simulate_day
from controller.core.timeline import day_start
from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.metrics import Metrics
from controller.model.types import BlastRadius
from tests.engine.conftest import DAY, DESIRED, emulator_clock, open_test_session

ZONE = "America/New_York"  # the zone of most managed agents in the example desired/
WRITES = ("PUT /api/v2/users/presences/bulk", "PATCH /api/v2/users/{userId}/presences/purecloud")
READ_BACK = ("GET /api/v2/users/presences/purecloud/bulk",)


@pytest.fixture
def logged_in_emulator() -> Iterator[RunningEmulator]:
    org = generate_org(agents=60, seed=1, start=DAY - timedelta(days=1), days=3, always_logged_in=True)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(day_start(DAY, ZONE))
        yield emu


def _calls(emu: RunningEmulator, routes: tuple[str, ...]) -> tuple[int, ...]:
    counts = emu.control.request_counts()
    return tuple(counts.get(r, 0) for r in routes)


def test_simulate_predicts_every_boundary_of_a_replayed_day(
    logged_in_emulator: RunningEmulator, tmp_path: Path
) -> None:
    emu = logged_in_emulator
    session = open_test_session(emu)
    start, end = day_start(DAY, ZONE), day_start(DAY + timedelta(days=1), ZONE)
    emu.control.clear_requests()
    day = simulate_day(session.state, read_org_snapshot(session, [session.state], start), start, end)
    assert not [r for r in emu.control.requests_log() if r["method"] in ("PUT", "PATCH", "DELETE")]
    assert sum(s.writes for s in day.steps) > 50, "a weekday of the demo org has many writes"

    clock = emulator_clock(emu)
    audit = tmp_path / "audit.jsonl"
    executor = Executor(session.client, AuditWriter(audit), Metrics(), clock)
    reconciler = Reconciler(session.client, session.org_reader, Metrics(), clock, executor)
    # Day start: everyone with a desired presence is put in it (simulate assumes they are).
    everyone = replace(session.state.config, blast_radius=BlastRadius(100.0, 1))
    result = reconciler.cycle(replace(session.state, config=everyone))
    day_start_cycle = result.cycle_id
    replayed: dict[str, tuple[int, ...]] = {}
    while result.next_boundary is not None and result.next_boundary < end:
        boundary = result.next_boundary
        emu.control.set_clock(boundary)
        emu.control.clear_requests()
        changing = len(result.boundary_agents)
        # The daemon's boundary wake: the changing agents, against what it knows of them.
        result = reconciler.cycle(session.state, only=result.boundary_agents, boundary=boundary, cached=True)
        ok = len(result.report.ok) if result.report is not None else 0
        assert result.report is None or not result.report.failed
        replayed[boundary.isoformat()] = (changing, ok, *_calls(emu, WRITES), *_calls(emu, READ_BACK))
    executor.close()

    predicted = {
        s.at.isoformat(): (s.changing, s.writes, s.bulk_calls, s.single_calls, s.read_calls)
        for s in day.steps
    }
    assert list(predicted) == list(replayed), "the same boundaries"
    for at, seen in replayed.items():
        assert predicted[at] == seen, at
    # The audit agrees: one ok write record per predicted write, day start aside.
    written = Counter(
        r["cycle_id"]
        for r in read_audit(audit)
        if r["result"]["status"] == "ok" and r["cycle_id"] != day_start_cycle
    )
    assert sum(written.values()) == sum(s.writes for s in day.steps)


def _cli(emu: RunningEmulator, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GENESYS_API_BASE": emu.api_base,
        "GENESYS_LOGIN_BASE": emu.login_base,
        "GENESYS_CLIENT_ID": emu.client_id,
        "GENESYS_CLIENT_SECRET": emu.client_secret,
    }
    return subprocess.run(
        [sys.executable, "-m", "controller", "--log-level", "WARNING", "simulate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_simulate_command_prints_the_hourly_table_json_svg_and_a_comparison(
    logged_in_emulator: RunningEmulator, tmp_path: Path
) -> None:
    emu = logged_in_emulator
    date = DAY.isoformat()
    shown = _cli(emu, str(DESIRED), "--date", date)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    hours = [line for line in lines if re.match(r"^\d\d:00 ", line)]
    assert [h[:5] for h in hours] == [f"{h:02d}:00" for h in range(24)]
    assert ZONE in lines[0]

    doc = json.loads(_cli(emu, str(DESIRED), "--date", date, "--output", "json").stdout)
    writes = sum(b["writes"] for b in doc["boundaries"])
    assert writes == sum(h["writes"] for h in doc["hours"]) > 0
    assert lines[-1].split()[2] == str(writes), "the table's day total"

    svg = _cli(emu, str(DESIRED), "--date", date, "--output", "svg").stdout
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}rect")) >= 24

    other = tmp_path / "desired-later"
    shutil.copytree(DESIRED, other)
    policy = other / "policy-emea-support.yaml"
    policy.write_text(
        policy.read_text().replace('from: "08:00"\n      to: "12:00"', 'from: "09:00"\n      to: "12:00"')
    )
    compared = _cli(emu, str(DESIRED), "--date", date, "--compare", str(other))
    assert compared.returncode == 0, compared.stderr
    diff = [line for line in compared.stdout.splitlines() if "-> " in line and "(" in line]
    assert diff and diff[0].startswith("03:00") and "On Queue (" in diff[0] and "-> - (" in diff[0], diff
    assert doc["managed"] > int(diff[0].split()[1].replace(",", "")) > 0
    assert not [r for r in emu.control.requests_log() if r["method"] in ("PUT", "PATCH", "DELETE")]
