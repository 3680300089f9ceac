"""Chaos harness: presencectl processes (apply, run) against an in-process emulator, killed at
points chosen by a seeded RNG and found by waiting on the emulator's request log, never by
sleeping; and the checks every chaos test ends with (audit vs what the emulator accepted)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from controller.audit import pending_intents, read_audit
from controller.emulator.generate import generate_org
from controller.emulator.platform import PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from tests.chaos.daemon_harness import RequestLog
from tests.support.clock import PINNED_DAY
from tests.support.waiting import wait_for

DESIRED = Path(__file__).resolve().parents[2] / "desired"
WRITE_ROUTES = frozenset(
    {"PUT /api/v2/users/presences/bulk", "PATCH /api/v2/users/{userId}/presences/purecloud"}
)
DRIFT_PER_ROUND = 300
# 06:00 UTC on the pinned test day, a quiet hour: some 7 % of the org logged in (360 of 5,000),
# enough for each round's drift to be writes, and a light first apply of the cold org.
CHAOS_AT = datetime.combine(PINNED_DAY, time(6), UTC)
KILL_POLL_SECONDS = 0.005  # a kill point is looked for this often, so the kill lands close to it


def chaos_emulator(agents: int) -> RunningEmulator:
    """A cold org of `agents` (on-shift agents start Available, not yet where they should be),
    no rate limit to speak of.
    The schedule search takes every agent of a business unit in one call: the cap on userIds is
    UNCONFIRMED (docs/genesys-api.md#schedule-search) and how the client splits a search is
    tested with the WFM reads.
    Its clock starts at CHAOS_AT, and the processes the harness starts run on it (a failing run is
    reproducible, whatever the day and hour it ran)."""
    org = generate_org(agents=agents, seed=1, start=CHAOS_AT.date() - timedelta(days=1))
    org.platform = PlatformOptions(schedule_search_max_users=agents)
    emu = start_emulator(org=org, rate_limit=1_000_000)
    emu.control.set_clock(CHAOS_AT)
    return emu


def desired_for_chaos(tmp_path: Path, audit_path: Path) -> Path:
    """desired/ with the audit at `audit_path`, a free HTTP port, no grace (a hand change is
    corrected at once, so every round has writes), Available off shift and no blast-radius hold
    (a cold org)."""
    target = tmp_path / "desired"
    shutil.copytree(DESIRED, target)
    for policy in target.glob("policy-*.yaml"):
        policy.write_text(re.sub(r"graceSeconds: \d+", "graceSeconds: 0", policy.read_text()))
    # An opinion off shift too, so that at any hour (nights, weekends) a drifted logged-in agent
    # is one the daemon corrects: the kill points count writes.
    care = target / "policy-customer-care.yaml"
    text = care.read_text()
    assert "    timeOff: Offline" in text, "the example customer-care policy no longer has timeOff"
    care.write_text(text.replace("    timeOff: Offline", "    offShift: Available\n    timeOff: Offline", 1))
    config = target / "controller.yaml"
    text = re.sub(r"percent: \d+", "percent: 100", config.read_text())
    assert "percent: 100" in text, "the example controller.yaml no longer has blastRadius.percent"
    text = text.replace("path: audit/audit.jsonl", f"path: {audit_path}")
    config.write_text(text.replace("bind: 127.0.0.1:9464", "bind: 127.0.0.1:0"))
    return target


@dataclass
class Harness:
    emu: RunningEmulator
    directory: Path
    audit_path: Path
    hand_changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Read from a cursor: a kill point is polled every few milliseconds, and re-reading the whole
    # log each time kept the emulator's loop (in this process, under the GIL) busy serialising it.
    log: RequestLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = RequestLog(self.emu)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "GENESYS_API_BASE": self.emu.api_base,
            "GENESYS_LOGIN_BASE": self.emu.login_base,
            "GENESYS_CLIENT_ID": self.emu.client_id,
            "GENESYS_CLIENT_SECRET": self.emu.client_secret,
            "PRESENCECTL_WEBHOOK_SECRET": "chaos-webhook-secret-0123456789",
            "PRESENCECTL_LOG_LEVEL": "WARNING",
        }

    def command(self, command: str) -> list[str]:
        """`presencectl COMMAND desired/` on the emulator's clock, with no budget to speak of."""
        ahead = str((self.emu.control.now() - datetime.now(UTC)).total_seconds())  # the emulator's clock
        args = [command, str(self.directory), "--rate-per-minute", "1000000"]
        return [sys.executable, "-m", "tests.support.clocked", ahead, *args]

    def start(self, command: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(command),
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_to_end(self, command: str = "apply") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(command),
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        return done

    def requests(self) -> list[dict[str, Any]]:
        """The emulator's request log since the last `log.mark()` (all of it before any)."""
        return self.log.read()

    def writes_seen(self) -> int:
        return sum(1 for r in self.requests() if f"{r['method']} {r['route']}" in WRITE_ROUTES)

    def requests_since_first_write(self) -> int:
        """Requests logged from the first write on (-1 before any write)."""
        log = self.requests()
        first = next((i for i, r in enumerate(log) if f"{r['method']} {r['route']}" in WRITE_ROUTES), None)
        return -1 if first is None else len(log) - first - 1

    def kill_after(self, process: subprocess.Popen[str], condition: Callable[[], bool]) -> bool:
        """SIGKILL `process` as soon as `condition` holds; False when it ended by itself first."""
        wait_for(
            lambda: condition() or process.poll() is not None,
            "the kill point or the end",
            every=KILL_POLL_SECONDS,
        )
        ended = process.poll() is not None
        if not ended:
            process.send_signal(signal.SIGKILL)
        process.communicate()
        return not ended

    def drift(self, agents: list[str], presence: str = "Available") -> None:
        """Agents change presence by hand (the emulator records these like any change)."""
        definition = self.emu.backend.presence.definitions.resolve(presence).id
        for agent in agents:
            self.emu.control.set_presence(agent, presence)
            self.hand_changes[(agent, definition)] += 1

    # ---- the checks ----

    def accepted_writes(self, since: datetime) -> Counter[tuple[str, str]]:
        """(agent, definition id) of every presence change the emulator applied since `since`,
        less the hand changes the test made itself and the org's own logins and logouts (an
        agent logging off at the end of a shift goes Offline at that instant)."""
        logins = {(agent, when) for when, _, agent in self.emu.backend.presence.login_events if when >= since}
        changes: Counter[tuple[str, str]] = Counter()
        for agent, history in self.emu.backend.presence.history().items():
            for when, definition, _ in list(history):
                if when >= since and (agent, when) not in logins:
                    changes[(agent, definition)] += 1
        return changes - self.hand_changes

    def intents(self, since: datetime) -> Counter[tuple[str, str]]:
        got: Counter[tuple[str, str]] = Counter()
        for record in read_audit(self.audit_path, intents=True, on_problem=lambda _: None):
            if record.get("kind") == "trigger" or record.get("phase") != "intent":  # presence intents
                continue
            desired = (record["desired"] or {}).get("id")
            if desired is not None and datetime.fromisoformat(record["time"]) >= since:
                got[(record["agent"]["id"], desired)] += 1
        return got

    def unrecorded(self, since: datetime) -> Counter[tuple[str, str]]:
        """Writes the emulator accepted that have no intent in the audit: must stay empty."""
        return self.accepted_writes(since) - self.intents(since)

    def explain(self, lost: Counter[tuple[str, str]]) -> str:
        """The emulator's history and the audit's lines of a few unrecorded agents."""
        out = []
        history = self.emu.backend.presence.history()
        for agent, definition in list(lost)[:3]:
            lines = [
                f"{r['time']} {r.get('phase')} {r['result']['status']} -> {(r['desired'] or {}).get('id')}"
                for r in read_audit(self.audit_path, agent=agent, intents=True, on_problem=lambda _: None)
            ]
            out.append(f"{agent} to {definition}: emulator {list(history[agent])[-4:]}; audit {lines}")
        return "; ".join(out)

    def audit_problems(self) -> list[str]:
        problems: list[str] = []
        list(read_audit(self.audit_path, intents=True, on_problem=problems.append))
        return problems

    def pending(self) -> int:
        return len(pending_intents(self.audit_path))

    def duplicate_triggers(self) -> dict[str, int]:
        names = Counter(t.fields.name for t in self.emu.backend.triggers.all())
        return {name: n for name, n in names.items() if n > 1}


def kill_rounds(
    harness: Harness,
    command: str,
    rounds: int,
    seed: int,
    before_restart: Callable[[], None] = lambda: None,
    before_round: Callable[[int], None] = lambda _: None,
    after_first_write: tuple[int, int] | None = None,
) -> tuple[int, int]:
    """`rounds` runs of `command`, each SIGKILLed at a random point (found by waiting for the
    Nth write, or Nth request, in the emulator's log), then one `apply` to the end as the
    restart, and the checks; returns (kills, write requests the emulator served)."""
    rng = random.Random(seed)
    emu = harness.emu
    start = emu.backend.clock.now()
    kills = writes = 0
    for round_number in range(rounds):
        before_round(round_number)
        # Logged-in agents only: a logged-out one is never written (the safety rules).
        present = sorted(a for a, state in list(emu.backend.presence.users.items()) if state.logged_in)
        # Busy is nobody's desired presence (Back Office is its own definition), so each is a write.
        harness.drift(rng.sample(present, min(DRIFT_PER_ROUND, len(present))), "Busy")
        harness.log.mark()
        if after_first_write:  # k requests of any kind after the first write
            k = rng.randint(*after_first_write)
            point = lambda k=k: harness.requests_since_first_write() >= k  # noqa: E731
        elif rng.random() < 0.2:  # during the reads, before any write
            reads = rng.randint(1, 60)
            point = lambda reads=reads: len(harness.requests()) >= reads  # noqa: E731
        else:
            n = rng.randint(1, 5)
            point = lambda n=n: harness.writes_seen() >= n  # noqa: E731
        kills += harness.kill_after(harness.start(command), point)
        writes += harness.writes_seen()
        # Right after the kill, before any restart: nothing accepted is unrecorded.
        lost = harness.unrecorded(start)
        assert lost == {}, f"writes with no audit record after kill {kills}: {harness.explain(lost)}"
    before_restart()
    restarted = harness.run_to_end("apply")
    assert restarted.returncode in (0, 1), restarted.stderr[-3000:]
    assert harness.unrecorded(start) == {}
    assert harness.audit_problems() == []  # parses line by line: the torn tail was repaired
    assert harness.pending() == 0  # every intent has its outcome (resolved by read-back)
    assert harness.duplicate_triggers() == {}
    return kills, writes
