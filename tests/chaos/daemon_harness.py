"""The chaos suite's parts: the daemon as a real subprocess, an independent convergence oracle,
readers of the emulator's request log and of the audit log, and the deadline-free poll helper.

Nothing here waits on wall-clock time: `until` polls a condition and fails only when a
`give_up` condition (a count the daemon or the emulator reports) says the wait is hopeless;
pytest-timeout bounds a hung run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import requests

from controller.core.planner import Plan
from controller.emulator.server import RunningEmulator
from controller.engine.reconciler import Reconciler
from controller.engine.session import connect, session_on
from controller.genesys import RateBudget
from controller.metrics import Metrics
from tests.support.waiting import GiveUp, never, wait_for

# The chaos suite looks at its conditions at a steady cadence: a poll of a fault window also makes
# the next few hand changes (the drift's shape), and each look of the oracle is a full plan.
POLL_SECONDS = 0.1
ORACLE_CLIENT = ("chaos-oracle", "chaos-oracle-secret-0123456789")
ORACLE_RATE = 600  # the oracle's own client budget: it never spends the daemon's
WEBHOOK_SECRET = "chaos-webhook-secret-0123456789"


def until(condition: Callable[[], bool], what: str, give_up: GiveUp = never) -> float:
    """`wait_for` at the suite's steady cadence."""
    return wait_for(condition, what, give_up, every=POLL_SECONDS, first=POLL_SECONDS)


class DaemonProcess:
    """`python -m controller run DIR` against the emulator, its JSON-lines log in a file."""

    def __init__(self, emu: RunningEmulator, directory: Path, workdir: Path) -> None:
        self.log_path = workdir / "daemon.log"
        self.audit_path = workdir / "audit.jsonl"
        env = {
            **os.environ,
            "GENESYS_API_BASE": emu.api_base,
            "GENESYS_LOGIN_BASE": emu.login_base,
            "GENESYS_CLIENT_ID": emu.client_id,
            "GENESYS_CLIENT_SECRET": emu.client_secret,
            "PRESENCECTL_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        self.client_id = emu.client_id
        ahead = str((emu.backend.clock.now() - datetime.now(UTC)).total_seconds())  # its clock, pinned
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.clocked", ahead, "run", str(directory)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._offset = 0
        self.records: list[dict[str, Any]] = []  # parsed log records, in order
        self.stray: list[str] = []  # lines that are not JSON records (a traceback would land here)
        self._port: int | None = None

    # ---- the log ----

    def refresh(self) -> None:
        with open(self.log_path, "rb") as log:
            log.seek(self._offset)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for raw in complete.decode(errors="replace").splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                self.stray.append(raw)
                continue
            self.records.append(record if isinstance(record, dict) else {"message": raw})

    def count(self, message: str, **fields: Any) -> int:
        self.refresh()
        return sum(
            1
            for r in self.records
            if r.get("message") == message and all(r.get(k) == v for k, v in fields.items())
        )

    def full_cycles(self) -> int:
        """Full reconcile cycles completed (their writes and audit batch done before the line)."""
        return self.count("reconcile cycle", full=True)

    def cycles(self) -> int:
        return self.count("reconcile cycle")

    # ---- the process and its HTTP port ----

    def alive(self) -> bool:
        return self.proc.poll() is None

    def death(self) -> str | None:
        """Why waiting on this daemon is hopeless (it exited), for `until(give_up=...)`."""
        if self.alive():
            return None
        self.refresh()
        tail = "\n".join(self.stray[-20:])
        return f"the daemon exited with {self.proc.returncode}\n{tail}"

    @property
    def http_port(self) -> int:
        if self._port is None:
            until(lambda: self.count("daemon started") > 0, "the daemon to start", self.death)
            started = next(r for r in self.records if r.get("message") == "daemon started")
            self._port = int(started["http_port"])
        return self._port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def metrics(self) -> dict[str, float]:
        """/metrics samples without labels plus label sets, as {'name{labels}': value}."""
        text = requests.get(self.url("/metrics"), timeout=10).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    def stream_connected(self) -> bool:
        return self.metrics().get("presencectl_stream_connected") == 1.0

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = requests.get(self.url("/healthz"), timeout=10).json()
        return body

    def stop(self) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.refresh()
        return self.proc.returncode


class Oracle:
    """Says, independently of the daemon, which managed agents are out of their desired presence:
    the planner's verdict on what it reads through a separate OAuth client (its own budget and
    name in the emulator's request log). Grace is 0 in the suite's desired state, so an agent it
    names stays wrong until someone writes it."""

    def __init__(self, emu: RunningEmulator, directory: Path) -> None:
        emu.add_client(*ORACLE_CLIENT)
        client = connect(
            emu.api_base, emu.login_base, *ORACLE_CLIENT, ORACLE_RATE, budget=RateBudget(ORACLE_RATE)
        )
        self.client_id = ORACLE_CLIENT[0]
        self.session = session_on(client, str(directory), emu.backend.clock.now())
        self._reconciler = Reconciler(client, self.session.org_reader, Metrics(), emu.backend.clock.now)

    def plan(self, only: Iterable[str] | None = None) -> Plan:
        scope = None if only is None else set(only)
        return self._reconciler.cycle(self.session.state, only=scope, write=False).plan

    def wrong(self, only: Iterable[str] | None = None) -> set[str]:
        return {a.user_id for a in self.plan(only).actions}

    def close(self) -> None:
        self.session.client.close()


@dataclass
class RequestLog:
    """The emulator's request log, read incrementally from a cursor."""

    emu: RunningEmulator
    start: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)

    def mark(self) -> None:
        """Forget what was read; the next `read` returns calls logged from now on."""
        self.read()
        self.start += len(self.seen)
        self.seen = []

    def read(self) -> list[dict[str, Any]]:
        self.seen += self.emu.control.requests_log(self.start + len(self.seen))
        return self.seen

    def of(self, client_id: str) -> list[dict[str, Any]]:
        return [r for r in self.read() if r["client"] == client_id]


def audit_records(path: Path, skip: int = 0) -> list[dict[str, Any]]:
    """Audit records (JSON lines) after the first `skip`; the live file only (no rotation here)."""
    if not path.exists():
        return []
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    return [json.loads(line) for line in lines[skip:]]


def accepted_writes(calls: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(correlation id, agent) of every presence change the emulator accepted from these calls."""
    return {(c["correlationId"], agent) for c in calls for agent in c["written"]}


def audited_writes(records: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(correlation id, agent) of every audit record about a write the daemon made (the outcome
    of a write carries the write's correlation id; its intent, written before, does not)."""
    return {
        (str(r["correlation_id"]), str(r["agent"]["id"]))
        for r in records
        if r.get("mode") == "enforced" and r.get("correlation_id")
    }
