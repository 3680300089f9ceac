"""Server CPU per 50-agent bulk presence GET (goal < 5 ms), and the emulator's resident memory.

The emulator runs as its own process (`presencectl emulator`), so its CPU time is read from
/proc/<pid>/stat and excludes the client's. Run: .venv/bin/python bench/emulator_cpu.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import requests


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _start(agents: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", "emulator", "--agents", str(agents), "--rate-limit", str(10**9)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--memory-agents", type=int, default=10_000)
    args = parser.parse_args()

    process, api = _start(args.agents)
    try:
        session = requests.Session()
        token = requests.post(
            f"{api}/oauth/token",
            auth=("presencectl-demo", "presencectl-demo-secret"),
            data={"grant_type": "client_credentials"},
            timeout=10,
        ).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        users = session.get(f"{api}/api/v2/users", params={"pageSize": 50}).json()["entities"]
        ids = [u["id"] for u in users]
        url = f"{api}/api/v2/users/presences/purecloud/bulk"
        params = {"id": ",".join(ids)}
        for _ in range(100):  # warm up
            session.get(url, params=params).raise_for_status()
        cpu_before, wall_before = _cpu_seconds(process.pid), time.perf_counter()
        for _ in range(args.requests):
            session.get(url, params=params).raise_for_status()
        cpu = _cpu_seconds(process.pid) - cpu_before
        wall = time.perf_counter() - wall_before
        print(f"bulk presence GET, 50 agents ({args.agents}-agent org), {args.requests} requests:")
        print(f"  server CPU per request: {cpu / args.requests * 1000:.3f} ms (goal < 5 ms)")
        per_request = wall / args.requests * 1000
        print(f"  wall time per request (client + server, one connection): {per_request:.3f} ms")
    finally:
        process.terminate()
        process.wait(timeout=10)

    started = time.perf_counter()
    process, api = _start(args.memory_agents)
    try:
        ready = time.perf_counter() - started
        print(f"emulator with {args.memory_agents} agents (3 days of schedules): ready in {ready:.1f} s,")
        print(f"  resident memory {_rss_mb(process.pid):.0f} MB (goal < 200 MB)")
    finally:
        process.terminate()
        process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
