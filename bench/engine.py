"""Engine figures against the in-process emulator (prints numbers; never gates anything).

1. API calls of one full resync of 1,000 managed agents with no drift (warm and cold caches).
2. A full day of boundaries for 300 agents through the emulator clock: boundary -> confirmed
   write latency p50/p99 and the number of boundaries and writes.
3. Event -> correction latency p50/p99 for hand-made drift seen on the Notifications stream
   (grace 0), measured from the agent's change to the daemon's confirmed correction.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from controller.audit import AuditWriter
from controller.core.presence import SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.executor import Executor
from controller.engine.reconciler import Reconciler
from controller.engine.session import Session, connect, session_on
from controller.genesys import RateBudget
from controller.metrics import Metrics

DESIRED = Path(__file__).resolve().parents[1] / "desired"


def _session(emu: RunningEmulator, directory: Path = DESIRED, rate: int = 100_000) -> Session:
    client = connect(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, rate, budget=RateBudget(rate)
    )
    return session_on(client, str(directory), emu.backend.clock.now())


def _future_tuesday() -> date:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 + (1 - today.weekday()) % 7)


def _system(emu: RunningEmulator, user_id: str) -> SystemPresence:
    """The agent's live system presence, read in-process (polling over HTTP would skew the figure)."""
    return emu.backend.presence.definitions.by_id[
        emu.backend.presence.users[user_id].definition_id
    ].system_presence


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def resync_calls() -> None:
    day = _future_tuesday()
    org = generate_org(agents=1000, seed=1, start=day - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=1_000_000) as emu:
        emu.control.set_clock(datetime.combine(day, clock_time(15), UTC))
        emu.control.clear_requests()
        s = _session(emu)
        clock = emu.backend.clock.now
        with tempfile.TemporaryDirectory() as tmp:
            executor = Executor(s.client, AuditWriter(Path(tmp) / "a.jsonl"), Metrics(), clock)
            rec = Reconciler(s.client, s.org_reader, Metrics(), clock, executor)
            first = rec.cycle(s.state)
            cold = sum(emu.control.request_counts().values())
            emu.control.clear_requests()
            again = rec.cycle(s.state)
            counts = emu.control.request_counts()
            executor.close()
        print(
            f"1. full resync, {again.plan.managed} managed of 1,000 agents, no drift: "
            f"{sum(counts.values())} calls {dict(counts)}"
        )
        print(
            f"   cold start (directory, schedules, catalog, first corrections of "
            f"{len(first.plan.writable)} agents): {cold} calls"
        )


def full_day() -> None:
    day = _future_tuesday()
    org = generate_org(agents=300, seed=1, start=day - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=1_000_000, initial_adherence=0.85) as emu:
        emu.control.set_clock(datetime.combine(day, clock_time(5), UTC))
        s = _session(emu)
        clock = emu.backend.clock.now
        with tempfile.TemporaryDirectory() as tmp:
            metrics = Metrics()
            executor = Executor(s.client, AuditWriter(Path(tmp) / "a.jsonl"), metrics, clock)
            rec = Reconciler(s.client, s.org_reader, metrics, clock, executor)
            start = clock()
            result = rec.cycle(s.state)
            latencies: list[float] = []
            boundaries = writes = 0
            cpu = time.process_time()
            while result.next_boundary is not None and result.next_boundary < start + timedelta(hours=24):
                boundary = result.next_boundary
                emu.control.set_clock(boundary)
                result = rec.cycle(s.state, boundary=boundary)
                boundaries += 1
                if result.report is not None and result.report.ok:
                    writes += len(result.report.ok)
                    latencies.append((clock() - boundary).total_seconds())
            cpu = time.process_time() - cpu
            executor.close()
        print(
            f"2. full day, 300 agents: {boundaries} boundaries, {writes} writes; boundary -> confirmed "
            f"write p50 {_pct(latencies, 0.5) * 1000:.0f} ms, p99 {_pct(latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms; client-side CPU {cpu:.1f} s"
        )


def event_to_correction(samples: int = 40) -> None:
    # Real time (no time travel): the floor's initial adherence is set for the current instant.
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_emulator(agents=300, seed=1, rate_limit=100_000, initial_adherence=0.85) as emu,
    ):
        directory = Path(tmp) / "desired"
        shutil.copytree(DESIRED, directory)
        for p in directory.glob("policy-*.yaml"):
            p.write_text(re.sub(r"graceSeconds: \d+", "graceSeconds: 0", p.read_text()))
        os.environ.setdefault("PRESENCECTL_WEBHOOK_SECRET", "bench-webhook-secret")
        s = _session(emu, directory, rate=3000)
        cfg = replace(s.state.config, audit_path=str(Path(tmp) / "a.jsonl"), http_bind="127.0.0.1:0")
        s = Session(s.client, s.org_reader, replace(s.state, config=cfg))
        daemon = Daemon(str(directory), s, clock=emu.backend.clock.now)
        daemon.start()
        try:
            while not daemon.health().ready:
                time.sleep(0.05)
            assert daemon.wait_streaming(10), "the notification stream did not connect"
            # Agents in their desired presence now, whose policy has an opinion: drifting them
            # must be corrected (the daemon's own dry run says who they are).
            dry = daemon.reconciler.cycle(s.state, write=False)
            agents = [k.user_id for k in dry.plan.skipped if k.kind.value == "in-desired"][:samples]
            lags: list[float] = []
            for user_id in agents:
                sent = time.monotonic()
                emu.control.set_presence(user_id, "Away")
                while _system(emu, user_id) is SystemPresence.AWAY and time.monotonic() - sent < 10:
                    time.sleep(0.002)
                lags.append(time.monotonic() - sent)
                time.sleep(0.1)
        finally:
            daemon.stop()
        print(
            f"3. event -> correction over {len(lags)} hand-made changes (stream, grace 0): "
            f"p50 {_pct(lags, 0.5) * 1000:.0f} ms, p99 {_pct(lags, 0.99) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    resync_calls()
    full_day()
    event_to_correction()
