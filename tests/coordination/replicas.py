"""Replicas of the real daemon (`presencectl run`) as subprocesses, each with its own identity,
OAuth client, working directory (audit log) and stderr log, against one emulator org."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from controller.core.presence import SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator

POLICY_AGENTS = 10_000  # user ids per policy file (the loader refuses files over 1 MiB)
# Presence writes (docs/genesys-api.md#bulk-presence) by route template.
WRITES = frozenset({"PUT /api/v2/users/presences/bulk", "PATCH /api/v2/users/{userId}/presences/purecloud"})

CONTROLLER = """\
apiVersion: presencectl.io/v1
kind: ControllerConfig
metadata: {{name: controller}}
spec:
  ratePerMinute: 6000
  resync: {{intervalSeconds: {resync}}}
  blastRadius: {{percent: 100, minAgents: 5}}
  audit: {{path: audit/audit.jsonl, rotateBytes: 1073741824}}  # one file: Replica.audit() reads it
  http: {{bind: "127.0.0.1:0"}}
  coordination:
    backend: etcd
    mode: {mode}
    leaseSeconds: {lease}
    etcd: {{endpoints: [{endpoints}]}}
"""

POLICY = """\
apiVersion: presencectl.io/v1
kind: PresencePolicy
metadata: {{name: everyone-available-{part}}}
spec:
  agents: {{userIds: [{ids}]}}
  timezone: UTC
  mode: enforce
  windows:
    - {{days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], from: "00:00", to: "23:59", presence: Available}}
  rules: {{graceSeconds: 0, respectActiveInteractions: false}}
"""


def ha_emulator(agents: int, clients: int) -> RunningEmulator:
    org = generate_org(agents=agents, seed=3, always_logged_in=True)
    extra = {f"replica-{i}": f"replica-{i}-secret-0123456789" for i in range(clients)}
    return start_emulator(org=org, rate_limit=100_000, extra_clients=extra)


def desired_dir(
    root: Path, emu: RunningEmulator, endpoints: Iterable[str], mode: str, lease: int, resync: int = 60
) -> Path:
    directory = root / "desired"
    directory.mkdir()
    (directory / "controller.yaml").write_text(
        CONTROLLER.format(mode=mode, lease=lease, endpoints=", ".join(endpoints), resync=resync)
    )
    ids = [a.id for a in emu.org.agents]
    for part, start in enumerate(range(0, len(ids), POLICY_AGENTS)):  # a file stays under 1 MiB
        chosen = ", ".join(ids[start : start + POLICY_AGENTS])
        (directory / f"policy-{part:02d}.yaml").write_text(POLICY.format(part=part, ids=chosen))
    return directory


class Replica:
    def __init__(self, index: int, emu: RunningEmulator, directory: Path, root: Path) -> None:
        self.name = f"replica-{index}"
        self.client_id = self.name
        self.cwd = root / self.name
        self.cwd.mkdir(exist_ok=True)
        self.stderr = self.cwd / "stderr.log"
        env = {
            **os.environ,
            "GENESYS_API_BASE": emu.api_base,
            "GENESYS_LOGIN_BASE": emu.login_base,
            "GENESYS_CLIENT_ID": self.client_id,
            "GENESYS_CLIENT_SECRET": emu.credentials[self.client_id],
            "PRESENCECTL_IDENTITY": self.name,
        }
        with self.stderr.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "controller", "run", str(directory)],
                cwd=self.cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self._port: int | None = None

    def logs(self) -> list[dict[str, Any]]:
        lines = self.stderr.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def port(self) -> int | None:
        if self._port is None:
            started = [r for r in self.logs() if r.get("message") == "daemon started"]
            self._port = int(started[-1]["http_port"]) if started else None
        return self._port

    def health(self) -> dict[str, Any]:
        port = self.port()
        if port is None or self.proc.poll() is not None:
            return {}
        try:
            answer: dict[str, Any] = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
            return answer
        except (requests.RequestException, ValueError):
            return {}

    def role(self) -> str:
        return str(self.health().get("role", ""))

    def ready(self) -> bool:
        port = self.port()
        try:
            return port is not None and requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).ok
        except requests.RequestException:
            return False

    def metric(self, name: str) -> float:
        text = requests.get(f"http://127.0.0.1:{self.port()}/metrics", timeout=2).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{self.name} exposes no {name}")

    def audit(self) -> list[dict[str, Any]]:
        path = self.cwd / "audit" / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def signal(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def writes(emu: RunningEmulator) -> list[str]:
    """The OAuth client of every presence write the emulator served, in the order it served them."""
    return [r["client"] for r in emu.control.requests_log() if f"{r['method']} {r['route']}" in WRITES]


def writers(emu: RunningEmulator) -> dict[str, list[str]]:
    """For every agent, the OAuth clients of the presence writes that changed it, in order."""
    by_agent: dict[str, list[str]] = {}
    for r in emu.control.requests_log():
        if f"{r['method']} {r['route']}" in WRITES:
            for agent in r["written"]:
                by_agent.setdefault(agent, []).append(r["client"])
    return by_agent


def presence(emu: RunningEmulator, user_id: str) -> SystemPresence:
    state = emu.backend.presence.users[user_id]
    return emu.backend.presence.definitions.by_id[state.definition_id].system_presence
