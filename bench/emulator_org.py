"""Benchmark: time and memory of generating the emulator org, and of the WFM builders on it.

Run: .venv/bin/python bench/emulator_org.py [agents] [days]   (defaults: 10000 agents, 3 days)
Prints the figures; no assertions (this is a measurement, not a test).
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, RoutingStatus, SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.org import agent_id
from controller.emulator.wfm import serialize


def main() -> None:
    agents = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    start = date(2026, 11, 23)

    timings = []
    for _ in range(3):
        gc.collect()
        began = time.perf_counter()
        org = generate_org(agents=agents, start=start, days=days)
        timings.append(time.perf_counter() - began)
    shifts = sum(len(s) for s in org.shifts.values())
    activities = sum(len(s.activities) for v in org.shifts.values() for s in v)
    print(
        f"generate_org(agents={agents}, days={days}): best {min(timings):.3f} s, worst {max(timings):.3f} s"
    )
    print(f"  {shifts} shifts, {activities} activities, {len(org.time_off)} time-off days")

    del org
    gc.collect()
    tracemalloc.start()
    org = generate_org(agents=agents, start=start, days=days)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  memory (tracemalloc): org {current / 2**20:.1f} MiB retained, {peak / 2**20:.1f} MiB peak")

    window = (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC))
    for bu in org.business_units:
        began = time.perf_counter()
        result = serialize.schedule_search_result(org, bu.id, None, *window)
        elapsed = time.perf_counter() - began
        count = len(result["agentSchedules"])  # type: ignore[arg-type]
        print(f"schedule_search_result({bu.name!r}, all {count} agents, 3 days): {elapsed * 1000:.0f} ms")

    users = [agent_id(i) for i in range(100)]
    began = time.perf_counter()
    on_queue = WELL_KNOWN_DEFINITION_IDS[SystemPresence.ON_QUEUE]
    now = window[0] + timedelta(hours=36)
    for user in users:
        serialize.realtime_adherence(
            org, user, now, on_queue, SystemPresence.ON_QUEUE, RoutingStatus.IDLE, now
        )
    print(f"realtime_adherence x100 users: {(time.perf_counter() - began) * 1000:.1f} ms")

    mu = org.management_units[0]
    members = [a.id for a in org.agents if a.management_unit_id == mu.id]
    history = {
        u: [(window[0] + timedelta(hours=h), on_queue, "IDLE") for h in range(0, 72, 5)] for u in members
    }
    began = time.perf_counter()
    serialize.historical_adherence_result(org, mu.id, None, window[0], window[1], history)
    elapsed = time.perf_counter() - began
    print(f"historical_adherence_result({mu.name!r}, {len(members)} agents, 3 days): {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
