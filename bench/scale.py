"""Real scale, side by side: presencectl's reconciler and the naive per-agent loop (seed_loop.py)
against the same emulator (a separate process, rate limit 300/min: the real per-client budget).

Run: .venv/bin/python -m bench scale [agents ...]   (default 1000 10000 50000)
For each size: start `presencectl emulator --agents N --rate-limit 300`; in a child process (so
its RSS is its own) run ours: a cold full cycle, a full resync with no drift, then (the emulator
clock set 10 s before the next schedule boundary) the boundary re-plan of just the K changing
agents at that instant. The observed cache is told what a connected stream would watch (the
first 20,000 agents, one client's capacity): those entries are fresh, the others (above 20,000)
are read in bulk 10 s before the boundary (prefetched), as the daemon does. Then SIGTERM to a
`presencectl run` in its first full read (seconds to exit). Then the naive loop in another child
for at most 60 s (`--no-naive` skips it), its pass extrapolated to all agents.
Boundary -> write times come from the emulator's request log (the bulk PUTs' arrival times);
each agent's time is its chunk's. The floor is ceil(K/50) bulk writes at the budget's refill rate.
CPU is the reconcile thread's (time.thread_time; HTTP parsing in the client's pool is left out).
A measurement, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import cProfile
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.shutdown import daemon_desired  # noqa: E402
from controller.audit import AuditWriter  # noqa: E402
from controller.emulator.control_client import EmulatorControl  # noqa: E402
from controller.engine.daemon import PREFETCH_LEAD  # noqa: E402
from controller.engine.executor import Executor  # noqa: E402
from controller.engine.reconciler import CycleResult, Reconciler  # noqa: E402
from controller.engine.session import connect, session_on  # noqa: E402
from controller.genesys import RateBudget  # noqa: E402
from controller.metrics import Metrics  # noqa: E402

RATE = 300
BULK = 50
LEAD = PREFETCH_LEAD  # the clock is set this long before the boundary
STREAM_CAPACITY = 20 * 1000  # agents one OAuth client can stream (activity topics)
PUT_BULK = "PUT /api/v2/users/presences/bulk"
SIGNAL_AFTER = 20  # API calls of a starting daemon before its SIGTERM (it is reading the org)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _calls(control: EmulatorControl) -> tuple[int, int, list[dict[str, Any]]]:
    log = control.requests_log()
    control.clear_requests()
    api = [r for r in log if r["route"].startswith("/api/")]
    return len(api), sum(r["status"] == 429 for r in api), api


class FollowedClock:
    """The emulator's clock (real time + an offset) read locally, as the daemon reads its own:
    `control.now()` is an HTTP call, which the executor's per-write clock readings would add to
    the CPU and the latency measured."""

    def __init__(self, control: EmulatorControl) -> None:
        self._control = control
        self._offset = control.now() - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        self._offset = self._control.set_clock(when) - datetime.now(UTC)


def ours(api: str) -> dict[str, Any]:
    control = EmulatorControl(api)
    client = connect(api, api, "presencectl-demo", "presencectl-demo-secret", RATE, budget=RateBudget(RATE))
    session = session_on(client, str(ROOT / "desired"), control.now())
    tmp = tempfile.mkdtemp(prefix="bench-scale-")
    clock = FollowedClock(control)
    metrics = Metrics()
    executor = Executor(client, AuditWriter(Path(tmp) / "audit.jsonl"), metrics, clock)
    reconciler = Reconciler(client, session.org_reader, metrics, clock, executor)
    control.clear_requests()

    profile_dir = os.environ.get("BENCH_PROFILE")  # cProfile each cycle into this directory
    cycles = iter(("cold", "resync", "boundary"))

    def timed(**kw: Any) -> tuple[CycleResult, float, float]:
        profiler = cProfile.Profile() if profile_dir else None
        wall, cpu = time.monotonic(), time.thread_time()
        if profiler is not None:
            profiler.enable()
        result = reconciler.cycle(session.state, **kw)
        spent = time.monotonic() - wall, time.thread_time() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(Path(profile_dir or ".") / f"{next(cycles)}.prof")
        return result, *spent

    _, cold_wall, _ = timed()
    cold_calls, cold_429, _ = _calls(control)
    resync, resync_wall, resync_cpu = timed()
    resync_calls, resync_429, _ = _calls(control)
    managed = sorted(d.user_id for d in resync.plan.decisions)
    reconciler.observed.stream(managed[:STREAM_CAPACITY])  # what a connected stream vouches for
    at, changing = resync.next_boundary, resync.boundary_agents
    assert at is not None, "no boundary ahead"
    clock.set(at - LEAD)
    prefetched = reconciler.prefetch(changing)  # what the daemon does PREFETCH_LEAD before it
    control.clear_requests()
    while clock() < at:  # the daemon's timer, here a wait on the emulator's clock
        time.sleep(min(0.05, max(0.0, (at - clock()).total_seconds())))
    boundary, boundary_wall, boundary_cpu = timed(only=changing, boundary=at, cached=True)
    boundary_calls, boundary_429, log = _calls(control)
    writes = [datetime.fromisoformat(r["time"]) for r in log if f"{r['method']} {r['route']}" == PUT_BULK]
    written = len(boundary.report.ok) if boundary.report is not None else 0
    per_agent: list[float] = []
    for i, when in enumerate(sorted(writes)):
        per_agent += [(when - at).total_seconds()] * min(BULK, max(0, written - i * BULK))
    executor.close()
    client.close()
    refill = (RATE - RATE // 20) / 60.0
    floor = math.ceil(len(changing) / BULK) / refill
    return {
        "managed": len(resync.plan.decisions),
        "cold_calls": cold_calls,
        "cold_seconds": cold_wall,
        "cold_429": cold_429,
        "calls": resync_calls,
        "writes": len(resync.report.ok) if resync.report else 0,
        "rate_limited": resync_429 + boundary_429,
        "pass_seconds": resync_wall,
        "cpu_full": resync_cpu,
        "K": len(changing),
        "boundary_written": written,
        "boundary_calls": boundary_calls,
        "boundary_read": boundary.read,
        "prefetched": prefetched,
        "first": min(per_agent) if per_agent else float("nan"),
        "p50": _pct(per_agent, 0.5),
        "p99": _pct(per_agent, 0.99),
        "max": max(per_agent) if per_agent else float("nan"),
        "floor": floor,
        "cpu_boundary": boundary_cpu,
        "boundary_seconds": boundary_wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def sigterm_exit(api: str) -> float:
    """Seconds from SIGTERM to exit of `presencectl run` (the example desired/), signalled at its
    SIGNAL_AFTER-th API call: in its first full read of the org, at the real 300/min."""
    control = EmulatorControl(api)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "GENESYS_API_BASE": api,
            "GENESYS_LOGIN_BASE": api,
            "GENESYS_CLIENT_ID": "presencectl-demo",
            "GENESYS_CLIENT_SECRET": "presencectl-demo-secret",
            "PRESENCECTL_WEBHOOK_SECRET": "bench-webhook-secret-0123456789",
            "PRESENCECTL_LOG_LEVEL": "WARNING",
        }
        directory = str(daemon_desired(Path(tmp)))
        command = [sys.executable, "-m", "controller", "run", directory, "--rate-per-minute", str(RATE)]
        control.clear_requests()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 900
            while sum(r["route"].startswith("/api/") for r in control.requests_log()) < SIGNAL_AFTER:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the daemon exited or never reached its first full read")
                time.sleep(0.1)
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.wait(120)
            return time.monotonic() - sent
        finally:
            process.kill()


def _child(args: list[str], timeout: float) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{args[0]} failed: {out.stderr.strip().splitlines()[-3:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_size(agents: int, naive_seconds: float) -> tuple[dict[str, Any], dict[str, Any]]:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "controller", "emulator", "--agents", str(agents), "--rate-limit", str(RATE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PRESENCECTL_LOG_LEVEL": "WARNING"},
    )
    try:
        assert emulator.stdout is not None
        api = emulator.stdout.readline().split()[1]
        mine = _child([__file__, "--ours", api], timeout=3600)
        mine["sigterm_seconds"] = sigterm_exit(api)
        if not naive_seconds:
            return mine, {}
        time.sleep(61)  # a fresh rate-limit minute for the naive loop
        naive = _child([str(HERE / "seed_loop.py"), api, str(naive_seconds)], timeout=naive_seconds + 600)
        return mine, naive
    finally:
        emulator.terminate()
        emulator.wait(60)


def table(rows: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> str:
    head = (
        "| agents | loop | API calls/pass | writes/pass | 429s | pass (s) | K (prefetched, read, written) "
        "| boundary→first write (s) | boundary→last write p50/p99/max (s) | × floor "
        "| CPU full / boundary (ms) | RSS (MB) | SIGTERM→exit (s) |"
    )
    lines = [head, "|" + "---|" * 13]
    for agents, m, n in rows:
        lines.append(
            f"| {agents:,} | presencectl | {m['calls']} | {m['writes']} | {m['rate_limited']} | "
            f"{m['pass_seconds']:.1f} | {m['K']} ({m['prefetched']}, {m['boundary_read']}, "
            f"{m['boundary_written']}) | "
            f"{m['first']:.2f} | "
            f"{m['p50']:.2f} / {m['p99']:.2f} / {m['max']:.2f} | {m['max'] / m['floor']:.2f} "
            f"(floor {m['floor']:.1f} s) | {m['cpu_full'] * 1000:.0f} / {m['cpu_boundary'] * 1000:.0f} | "
            f"{m['rss_mb']:.0f} | {m['sigterm_seconds']:.2f} |"
        )
        if not n:
            continue
        k = max(1, m["K"])
        pass_s = n["pass_seconds"]
        lines.append(
            f"| {agents:,} | naive loop | ~{n['calls_per_pass']:.0f} | ~{n['agents']} | {n['rate_limited']} "
            f"(in {n['done']} agents) | ~{pass_s:.0f} | {m['K']} | ~{pass_s / (k + 1):.0f} | "
            f"~{pass_s / 2:.0f} / ~{pass_s * 0.99:.0f} / ~{pass_s:.0f} | ~{pass_s / m['floor']:.0f} | "
            f"{n['cpu_per_agent'] * 1000 * n['agents']:.0f} / – | {n['rss_mb']:.0f} | – |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--ours":
        print(json.dumps(ours(sys.argv[2])))
        return
    naive_seconds = 0.0 if "--no-naive" in sys.argv else 60.0
    sizes = [int(a) for a in sys.argv[1:] if a.isdigit()] or [1000, 10_000, 50_000]
    rows = []
    for agents in sizes:
        mine, naive = run_size(agents, naive_seconds)
        rows.append((agents, mine, naive))
        print(f"{agents:,} agents: ours {json.dumps(mine)}", flush=True)
        print(f"{agents:,} agents: naive {json.dumps(naive)}", flush=True)
    print(
        "\nUnder a 300/min budget. Naive figures (~) are its measured per-agent pace extrapolated to a "
        "full pass; an agent changing at a boundary waits for the loop to reach it."
    )
    print(table(rows))


if __name__ == "__main__":
    main()
