"""Benchmark: the status page and `simulate` at 10,000 agents (the example desired/ on the emulator).

Run: .venv/bin/python -m bench status_simulate [agents]   (default 10,000)
Starts an emulator with that many generated agents (a weekday afternoon), plans once without
writing (the daemon's full resync), then times what each /status request costs on the HTTP
thread (the tracker's snapshot, build_status, one filtered page, the HTML and the JSON) and
what `simulate` costs for the whole day (CPU seconds, best of 3). A measurement, not a test.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from bench._timing import cpu
from controller.commands.simulate import read_org_snapshot
from controller.core.simulate import simulate_day
from controller.core.timeline import day_start
from controller.emulator.generate import generate_org
from controller.emulator.server import start_emulator
from controller.engine.reconciler import Reconciler
from controller.engine.session import connect, session_on
from controller.genesys import RateBudget
from controller.metrics import Metrics
from controller.status.page import render_page
from controller.status.tracker import StatusTracker
from controller.status.view import AgentFilter, build_status, select_agents_page, status_json

DESIRED = Path(__file__).resolve().parents[1] / "desired"
ZONE = "America/New_York"


def main(agents: int) -> None:
    today = datetime.now(UTC).date()
    day = today + timedelta(days=7 + (1 - today.weekday()) % 7)  # a Tuesday ahead
    org = generate_org(agents=agents, seed=1, start=day - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=1_000_000) as emu:
        emu.control.set_clock(datetime.combine(day, clock_time(19), UTC))
        client = connect(
            emu.api_base, emu.login_base, emu.client_id, emu.client_secret, 10**6, budget=RateBudget(10**6)
        )
        session = session_on(client, str(DESIRED), emu.control.now())
        result = Reconciler(client, session.org_reader, Metrics(), emu.backend.clock.now).cycle(
            session.state, write=False
        )
        tracker = StatusTracker()
        record_s, _ = cpu(lambda: tracker.record(result, session.state))
        facts_s, facts = cpu(
            lambda: tracker.facts(
                session.state, loaded_at=None, desired_error="", stream_connected=True, held_reason=""
            )
        )
        build_s, view = cpu(lambda: build_status(facts, result.now))
        page_s, page = cpu(lambda: select_agents_page(view, AgentFilter.OUT, "agent0", 3, 100))
        html_s, html = cpu(lambda: render_page(view, page, 15))
        json_s, body = cpu(lambda: json.dumps(status_json(view, page)))
        print(f"status page, {len(view.agents):,} managed agents ({view.counts['out']:,} out of desired):")
        print(f"  tracker.record (worker, per cycle)   {record_s * 1000:8.1f} ms")
        print(f"  tracker.facts + build_status         {(facts_s + build_s) * 1000:8.1f} ms")
        print(f"  filter + search + page of 100        {page_s * 1000:8.1f} ms  ({page.matching:,} matching)")
        print(f"  HTML                                 {html_s * 1000:8.1f} ms  ({len(html) / 1024:.0f} KiB)")
        print(f"  JSON                                 {json_s * 1000:8.1f} ms  ({len(body) / 1024:.0f} KiB)")

        start, end = day_start(day, ZONE), day_start(day + timedelta(days=1), ZONE)
        snapshot = read_org_snapshot(session, [session.state], start)
        sim_s, simulated = cpu(lambda: simulate_day(session.state, snapshot, start, end), runs=1)
        steps = simulated.steps
        print(
            f"simulate {day} ({ZONE}): {len(steps)} boundaries, {sum(s.writes for s in steps):,} writes, "
            f"{sum(s.api_calls for s in steps):,} API calls, {sim_s:.1f} s CPU"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
