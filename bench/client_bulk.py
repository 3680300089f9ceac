"""Benchmark: the Genesys client's bulk reads against the emulator. A measurement, not a test.

Run: .venv/bin/python bench/client_bulk.py [calls]   (default 2,000)

1. "Reading presence in bulk": API calls (and wall time) to read presence AND routing status of
   1,000 agents with each strategy (README section of the same name).
2. The issue's acceptance run: `calls` bulk-presence GET calls (each GET …/presences/purecloud/bulk
   with 50 ids, so calls x 50 agent reads) through GenesysClient.get_presences against an
   emulator with --rate-limit 300 and a client budget of 300/min. 2,000 calls at 300/min is
   6.7 minutes, so the budget runs on the emulator's clock: its sleep advances that clock (the
   emulator's rate window is on the same clock). Prints 429s seen by the emulator, calls, and
   the emulated and real durations.
3. The same, in real time at a scaled budget (emulator limit and client budget both 3,000/min,
   4 concurrent workers), so the wall clock and the thread pool are real too.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from controller.emulator.server import RunningEmulator, start_emulator
from controller.genesys import ClientConfig, GenesysClient, RateBudget


def config(emu: RunningEmulator, rate: int) -> ClientConfig:
    return ClientConfig(emu.api_base, emu.login_base, emu.client_id, emu.client_secret, rate_per_minute=rate)


def api_counts(emu: RunningEmulator) -> Counter[str]:
    log = emu.control.requests_log()
    return Counter(f"{r['method']} {r['route']}" for r in log if r["route"].startswith("/api/v2/"))


def strategies() -> None:
    print("== presence + routing status of 1,000 agents ==")
    with start_emulator(agents=1000, seed=1, rate_limit=1_000_000) as emu:
        ids = [a.id for a in emu.org.agents]
        with GenesysClient(config(emu, 1_000_000), budget=RateBudget(1_000_000), workers=4) as client:
            client.presence.get_presence(ids[0])  # token and connection pool warm

            def presence_plus_routing() -> None:
                client.presence.get_presences(ids)
                for i in range(0, len(ids), 100):
                    params = {"id": ids[i : i + 100], "expand": ["routingStatus"]}
                    client.transport.request("GET", "/api/v2/users", params=params)

            runs = {
                "POST /workforcemanagement/users/activity (100/call)": lambda: (
                    client.presence.observe_via_activity(ids)
                ),
                "GET /users?id=..&expand=presence,routingStatus (100/call)": lambda: (
                    client.presence.observe_via_users(ids)
                ),
                "bulk presence (50/call) + GET /users?expand=routingStatus (100/call)": presence_plus_routing,
            }
            for name, run in runs.items():
                emu.control.clear_requests()
                started = time.perf_counter()
                run()
                took = time.perf_counter() - started
                print(f"  {sum(api_counts(emu).values()):3d} calls  {took * 1000:7.1f} ms  {name}")


def acceptance_emulated_clock(calls: int) -> None:
    print(f"== {calls:,} bulk-presence GET calls, budget 300/min, emulator limit 300/min (emulator clock) ==")
    with start_emulator(agents=2000, seed=1, rate_limit=300) as emu:
        control = emu.control
        control.token_ttl(86_400 * 2)

        def advance(seconds: float) -> None:
            control.advance_clock(seconds)

        budget = RateBudget(300, clock=lambda: control.now().timestamp(), sleep=advance)
        ids = [a.id for a in emu.org.agents]
        batches = [ids[i : i + 50] for i in range(0, len(ids), 50)]
        started_emulated, started = control.now(), time.perf_counter()
        with GenesysClient(config(emu, 300), budget=budget, workers=1) as client:
            for n in range(calls):
                client.presence.get_presences(batches[n % len(batches)])
        emulated = (control.now() - started_emulated).total_seconds()
        statuses = Counter(r["status"] for r in control.requests_log() if r["route"].startswith("/api/v2/"))
        print(
            f"  calls={sum(statuses.values())} 429s={statuses.get(429, 0)} statuses={dict(statuses)} "
            f"emulated={emulated / 60:.2f} min ({sum(statuses.values()) / (emulated / 60):.0f}/min) "
            f"real={time.perf_counter() - started:.1f} s"
        )


def acceptance_scaled_real_time(calls: int) -> None:
    print(f"== {calls:,} bulk-presence GET calls, budget 3,000/min, emulator limit 3,000/min (real time) ==")
    with start_emulator(agents=2000, seed=1, rate_limit=3000) as emu:
        ids = [a.id for a in emu.org.agents]
        rounds = max(1, calls // 40)  # each get_presences of 2,000 ids is 40 concurrent calls
        started = time.perf_counter()
        with GenesysClient(config(emu, 3000), budget=RateBudget(3000), workers=4) as client:
            for _ in range(rounds):
                client.presence.get_presences(ids)
        took = time.perf_counter() - started
        log = emu.control.requests_log()
        statuses = Counter(r["status"] for r in log if r["route"].startswith("/api/v2/"))
        print(
            f"  calls={sum(statuses.values())} 429s={statuses.get(429, 0)} statuses={dict(statuses)} "
            f"duration={took:.1f} s ({sum(statuses.values()) / (took / 60):.0f}/min)"
        )


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    strategies()
    acceptance_emulated_clock(n)
    acceptance_scaled_real_time(n)
