"""SIGTERM -> exit of `presencectl run` at scale (prints numbers; never gates anything).

A daemon against a 10,000-agent emulator whose reads answer in 2 s (the 10,000-agent full read
outlived Kubernetes' 30 s grace before reads were abandoned on shutdown) gets SIGTERM:
1. during the first full read (users/activity, 100 agents a call), at the real 300 requests/min;
2. the same with no rate limit;
3. while presence writes are in flight (PUT bulk answering in 2 s), reads fast.
Printed per case: seconds from SIGTERM to exit, the exit code, and the read calls the emulator
served after the signal. Usage: python -m bench shutdown [AGENTS]
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from controller.emulator.generate import generate_org
from controller.emulator.platform import PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from tests.support.waiting import after, wait_for

ROOT = Path(__file__).resolve().parents[1]
READS = r"/users/activity$|/adherence$|/presences/purecloud/bulk$"


def daemon_desired(tmp: Path) -> Path:
    """The example desired/ for a benchmark daemon: no blast-radius hold, audit in `tmp`, any port."""
    target = tmp / "desired"
    shutil.copytree(ROOT / "desired", target)
    config = target / "controller.yaml"
    text = re.sub(r"percent: \d+", "percent: 100", config.read_text())
    text = text.replace("path: audit/audit.jsonl", f"path: {tmp / 'audit.jsonl'}")
    config.write_text(text.replace("bind: 127.0.0.1:9464", "bind: 127.0.0.1:0"))
    return target


def _count(emu: RunningEmulator, pattern: str) -> int:
    return sum(1 for r in emu.control.requests_log() if re.search(pattern, str(r["path"])))


def case(name: str, agents: int, rate: int, latency_path: str, signal_after: str, at: int) -> None:
    org = generate_org(agents=agents, seed=1)
    org.platform = PlatformOptions(schedule_search_max_users=agents)
    with tempfile.TemporaryDirectory() as tmp, start_emulator(org=org, rate_limit=1_000_000) as emu:
        directory = daemon_desired(Path(tmp))
        env = {
            **os.environ,
            "GENESYS_API_BASE": emu.api_base,
            "GENESYS_LOGIN_BASE": emu.login_base,
            "GENESYS_CLIENT_ID": emu.client_id,
            "GENESYS_CLIENT_SECRET": emu.client_secret,
            "PRESENCECTL_WEBHOOK_SECRET": "bench-webhook-secret-0123456789",
            "PRESENCECTL_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "controller", "run", str(directory), "--rate-per-minute", str(rate)]
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_for(lambda: _count(emu, r"/api/v2/users$") > 0, "connected and loading", after(600))
            emu.control.faults(latencyMs=2000, pathPattern=latency_path)
            wait_for(lambda: _count(emu, signal_after) >= at, "the point to signal", after(600))
            reads_before = _count(emu, READS)
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            process.communicate()
            took = time.monotonic() - sent
        finally:
            process.kill()
        reads_after = _count(emu, READS) - reads_before
        print(
            f"{name:<46} SIGTERM -> exit {took:5.2f} s  exit code {process.returncode}  "
            f"read calls served after the signal {reads_after}"
        )


def main() -> None:
    agents = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(f"{agents} agents, reads (or writes) answering in 2 s")
    case("full read, 300 requests/min", agents, 300, READS, r"/users/activity$", 2)
    case("full read, no rate limit", agents, 1_000_000, READS, r"/users/activity$", 2)
    case(
        "presence writes in flight, no rate limit",
        agents,
        1_000_000,
        r"/presences/bulk$",
        r"/presences/bulk$",
        1,
    )


if __name__ == "__main__":
    main()
