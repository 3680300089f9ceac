"""Acceptance: presencectl's adherence agrees with Genesys's historical adherence (the emulator's,
built independently from its own presence history) within 1 point for every agent of a working
day of 300 agents with hand-made drift.

How the day is driven (fast enough for CI): the reconciler, fed to the timeline as the daemon
feeds it, is woken at every schedule boundary it computes and at least every 15 minutes (the
daemon's resync), the emulator clock jumping there; drift is made by hand at set instants
(agents choosing another presence, logging out) and seen by the next cycle, as a resync or the
stream would see it. The stream itself is not needed: a read returns each presence with the
time it was set, which is all the timeline keeps. Then `presencectl adherence --compare-genesys`
runs as a user would run it.
"""

from __future__ import annotations

import io
import json
import random
from contextlib import redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from controller.adherence.recorder import TimelineRecorder
from controller.adherence.store import TimelineStore
from controller.audit import AuditWriter
from controller.cli import main
from controller.core.timeline import day_start
from controller.emulator.generate import generate_org
from controller.emulator.server import start_emulator
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.metrics import Metrics
from tests.engine.conftest import DAY, emulator_clock, open_test_session

DESIRED = Path(__file__).parent / "desired"
NY = "America/New_York"
STEP = timedelta(minutes=15)
DRIFT = ("Away", "Busy", "Break", "Available", "Meal", "On Queue")


def test_adherence_agrees_with_genesys_for_every_agent_of_a_300_agent_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = generate_org(agents=300, seed=3, start=DAY - timedelta(days=1), days=3)
    start, end = day_start(DAY, NY), day_start(DAY + timedelta(days=1), NY)
    database = tmp_path / "adherence.sqlite"
    with start_emulator(org=org, rate_limit=1_000_000) as emu:
        emu.control.set_clock(start)
        session = open_test_session(emu, DESIRED)
        clock = emulator_clock(emu)
        store = TimelineStore(database)
        recorder = TimelineRecorder(store, clock)
        metrics = Metrics()
        executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), metrics, clock)
        reconciler = Reconciler(session.client, session.org_reader, metrics, clock, executor, recorder)
        rng = random.Random(13)
        drifts = sorted(start + timedelta(minutes=rng.randrange(7 * 60, 20 * 60)) for _ in range(24))
        agent_ids = sorted(a.id for a in org.agents)
        drifted: dict[str, list[str]] = {}
        result = reconciler.cycle(session.state)
        recorder.flush()
        cycles = 1
        while clock() < end:
            nxt = min(
                t
                for t in (result.next_boundary, clock() + STEP, *drifts, end)
                if t is not None and t > clock()
            )
            emu.control.set_clock(nxt)
            if drifts and drifts[0] <= nxt:  # hand-made drift, corrected by a later cycle (or left alone)
                drifts.pop(0)
                for user_id in rng.sample(agent_ids, 12):
                    what = rng.choice(DRIFT)
                    emu.control.set_presence(user_id, what)
                    drifted.setdefault(user_id, []).append(f"{what}@{nxt:%H:%M}Z")
                if rng.random() < 0.3:
                    emu.control.set_logged_in(rng.choice(agent_ids), False)
                emu.control.set_clock(nxt + timedelta(minutes=rng.randrange(1, 8)))
            if clock() >= end:
                break
            result = reconciler.cycle(session.state)
            recorder.flush()
            cycles += 1
        emu.control.set_clock(end + timedelta(minutes=1))
        recorder.flush()
        executor.close()
        store.close()
        assert cycles > 96 and len(drifted) > 100

        monkeypatch.setenv("GENESYS_API_BASE", emu.api_base)
        monkeypatch.setenv("GENESYS_LOGIN_BASE", emu.login_base)
        monkeypatch.setenv("GENESYS_CLIENT_ID", emu.client_id)
        monkeypatch.setenv("GENESYS_CLIENT_SECRET", emu.client_secret)
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(
                [
                    "adherence",
                    str(DESIRED),
                    "--from",
                    DAY.isoformat(),
                    "--to",
                    DAY.isoformat(),
                    "--database",
                    str(database),
                    "--output",
                    "json",
                    "--compare-genesys",
                    "--api-base",
                    emu.api_base,
                    "--login-base",
                    emu.login_base,
                ]
            )
        assert code == 0
        report: dict[str, Any] = json.loads(out.getvalue())

        compared = report["genesys"]
        assert len(compared) >= 250, "most of the 300 agents have a shift that day"
        days = {d["agentId"]: d for d in report["agentDays"]}
        differ = [c for c in compared if c["difference"] is None or abs(c["difference"]) > 1.0]
        explain = [
            f"{c['email']}: presencectl {c['presencectlPercent']} vs Genesys {c['genesysPercent']}; "
            f"unknown {days[c['agentId']]['unknownSeconds']} s; drift {drifted.get(c['agentId'], [])}; "
            f"our exceptions {_exceptions(days[c['agentId']])}; "
            f"Genesys saw {_history(emu.backend.presence.users[c['agentId']].history, start, end)}; "
            f"we recorded {_recorded(database, c['agentId'])}"
            for c in differ
        ]
        assert not differ, (
            "agents whose adherence differs from Genesys's by more than 1 point:\n" + "\n".join(explain)
        )
        assert any(c["genesysPercent"] < 99 for c in compared), (
            "drift and no-shows put some agents out of adherence"
        )
        # Recorded from the first cycle, a few real milliseconds after local midnight (the
        # emulator clock flows): only those milliseconds are unknown.
        assert max(d["unknownSeconds"] for d in report["agentDays"]) < 5


def _history(entries: Any, start: datetime, end: datetime) -> list[tuple[str, str]]:
    return [
        (t.strftime("%H:%M:%S"), pid[:8]) for t, pid, _ in entries if start - timedelta(hours=1) <= t < end
    ]


def _exceptions(day: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        (e["start"][11:19], e["end"][11:19], e["scheduledCategory"], e["systemPresence"])
        for e in day["exceptions"]
    ]


def _recorded(database: Path, user_id: str) -> list[tuple[str, str, str]]:
    store = TimelineStore(database)
    try:
        return [
            (x.start.strftime("%H:%M:%S"), x.system_presence.value, x.source) for x in store.changes(user_id)
        ]
    finally:
        store.close()
