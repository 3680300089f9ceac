"""Fault scenarios against the running daemon, and what each run measured.

A scenario injects its fault, makes hand drift on 50 managed agents (8 of them put On Queue on
an interaction the daemon must not touch), keeps the fault for a window bounded by what the
emulator and the daemon report (injected answers, reconnections, reloads: never a duration),
clears it, ends the interactions, and then requires:
- convergence: the oracle finds every managed agent in its desired presence before the daemon
  has completed three full resyncs after the clearing (the one in flight may have started
  under the fault: two full resync intervals);
- zero crashes: the process lives, logs no traceback, and prints nothing but JSON records;
- zero writes to an agent on an interaction (the emulator flags each accepted write to an agent
  whose interaction began before the write arrived: one in flight cannot be recalled);
- zero 429s answered to the daemon other than the injected ones;
- one audit record per accepted write: every (correlation id, agent) the emulator accepted
  from the daemon appears in the audit log once a full cycle has completed after it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from tests.chaos.daemon_harness import (
    DaemonProcess,
    Oracle,
    RequestLog,
    accepted_writes,
    audit_records,
    audited_writes,
    until,
)

DRIFTED = 50
ON_INTERACTION = 8
DRIFT_PER_POLL = 2
DRIFT_PRESENCES = ("Away", "Meeting", "Busy")  # none is a break (breaks are tolerated a while)


@dataclass
class Row:
    scenario: str
    faults: str
    convergence_seconds: float | None = None
    wrong_writes: int = 0
    lost_records: int = 0
    daemon_429s: int = 0
    crashes: int = 0
    writes: int = 0
    crash_detail: str = ""  # the failed cycles' records and any stray output
    wrong_detail: str = ""  # each write on an interaction: the call, the agent's history, its audit


RESULTS: list[Row] = []


def summary_table(rows: list[Row]) -> str:
    header = (
        "scenario",
        "faults injected",
        "converged (s)",
        "writes",
        "wrong writes",
        "lost records",
        "own 429s",
        "crashes",
    )
    cells = [header] + [
        (
            r.scenario,
            r.faults,
            "-" if r.convergence_seconds is None else f"{r.convergence_seconds:.1f}",
            str(r.writes),
            str(r.wrong_writes),
            str(r.lost_records),
            str(r.daemon_429s),
            str(r.crashes),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)
    return "\n".join(lines)


@dataclass
class Drift:
    agents: dict[str, str] = field(default_factory=dict)  # agent -> the presence it is put in
    interacting: list[str] = field(default_factory=list)
    made: set[str] = field(default_factory=set)
    made_at: dict[str, str] = field(default_factory=dict)  # agent -> platform time of its change


@dataclass
class Chaos:
    emu: RunningEmulator
    daemon: DaemonProcess
    oracle: Oracle
    directory: Path
    log: RequestLog = field(init=False)
    rng: random.Random = field(default_factory=lambda: random.Random(10))
    scratch: dict[str, Any] = field(default_factory=dict)  # a scenario's own counters

    def __post_init__(self) -> None:
        self.log = RequestLog(self.emu)

    # ---- what the daemon did since the scenario began ----

    def daemon_calls(self) -> list[dict[str, Any]]:
        return self.log.of(self.daemon.client_id)

    def injected(self, status: int | None = None) -> int:
        return sum(
            1 for c in self.daemon_calls() if c["injected"] and (status is None or c["status"] == status)
        )

    def reconnected(self) -> bool:
        """The daemon's stream is up again on a socket opened after the fault."""
        return self.emu.hub.connections > self.scratch["connections"] and self.daemon.stream_connected()

    def stuck(self) -> str | None:
        """Why a wait inside the fault window is hopeless: the daemon died, or it completed six
        full resyncs since the fault began without doing what the window waits for."""
        if self.daemon.full_cycles() - self.scratch["full"] >= 6:
            return "six full resyncs went by"
        return self.daemon.death()

    # ---- drift ----

    def pick(self) -> Drift:
        """50 managed agents; 8 whose desired presence is not On Queue go On Queue on an
        interaction, the rest to a presence that is not theirs."""
        presence = self.emu.backend.presence
        plan = self.oracle.plan()
        targets = {
            d.user_id: d.decision.target.definition_id
            for d in plan.decisions
            if d.decision.target is not None and d.decision.target.definition_id is not None
        }
        # Logged-in agents first. At a weekend fewer than 50 may be logged in: the rest log in by
        # their hand change (a logged-out agent is never written, a logged-in one is).
        ranked = sorted(targets, key=lambda a: (not presence.users[a].logged_in, self.rng.random()))
        on_queue = SystemPresence.ON_QUEUE
        off_queue = [
            a for a in ranked if presence.definitions.by_id[targets[a]].system_presence is not on_queue
        ]
        drift = Drift(interacting=off_queue[:ON_INTERACTION])
        chosen = drift.interacting + [a for a in ranked if a not in drift.interacting]
        for agent in chosen[:DRIFTED]:
            if agent in drift.interacting:
                drift.agents[agent] = "On Queue"
                continue
            drift.agents[agent] = next(
                p for p in DRIFT_PRESENCES if presence.definitions.resolve(p).id != targets[agent]
            )
        return drift

    def apply(self, drift: Drift, count: int | None = None) -> bool:
        """Make the next `count` (default: all) hand changes of `drift`; True once all are made."""
        control = self.emu.control
        pending = [a for a in drift.agents if a not in drift.made]
        for agent in pending[:count]:
            if agent in drift.interacting:  # the interaction first: On Queue shows it at once
                control.start_interaction(agent)
            control.set_presence(agent, drift.agents[agent])
            drift.made.add(agent)
            drift.made_at[agent] = self.emu.backend.clock.now().isoformat()
        return len(drift.made) == len(drift.agents)

    # ---- one scenario ----

    def run(self, scenario: Scenario) -> Row:
        daemon = self.daemon
        self.log.mark()
        self.scratch = {"connections": self.emu.hub.connections}
        audit_before = len(audit_records(daemon.audit_path))
        daemon.refresh()
        records_before, stray_before = len(daemon.records), len(daemon.stray)
        on_interaction_before = self.emu.backend.requests.writes_on_interaction
        drift = self.pick()
        if scenario.drift_first:
            self.apply(drift)
        scenario.inject(self)
        self.scratch["full"] = daemon.full_cycles()
        # The drift is spread over the window (a few agents a poll), as people change presence.
        until(
            lambda: self.apply(drift, DRIFT_PER_POLL) and scenario.window_over(self),
            f"{scenario.name}: the fault window",
            self.stuck,
        )
        scenario.clear(self)
        cleared, full = time.monotonic(), daemon.full_cycles()
        for agent in drift.interacting:
            self.emu.control.end_interaction(agent)
        row = Row(scenario.name, scenario.faults(self))
        RESULTS.append(row)

        def converged() -> bool:
            return not self.oracle.wrong(drift.agents) and not self.oracle.wrong()

        def hopeless() -> str | None:
            if daemon.full_cycles() - full >= 3:
                return f"out of desired after two full resyncs: {sorted(self.oracle.wrong())[:5]}"
            return daemon.death()

        until(converged, f"{scenario.name}: convergence", hopeless)
        row.convergence_seconds = time.monotonic() - cleared
        accepted = accepted_writes(self.daemon_calls())
        settled = daemon.full_cycles()  # each write read above is audited by the next full cycle's end

        def audited() -> set[tuple[str, str]]:
            return audited_writes(audit_records(daemon.audit_path, audit_before))

        until(
            lambda: accepted <= audited() or daemon.full_cycles() > settled,
            f"{scenario.name}: the audit of every accepted write",
            daemon.death,
        )
        calls = self.daemon_calls()
        row.writes = len(accepted)
        row.lost_records = len(accepted - audited())
        row.wrong_writes = sum(len(c["onInteraction"]) for c in calls)
        if row.wrong_writes:
            row.wrong_detail = self.explain_wrong_writes(calls, drift, audit_before)
        row.daemon_429s = sum(1 for c in calls if c["status"] == 429 and not c["injected"])
        daemon.refresh()
        tracebacks = [r for r in daemon.records[records_before:] if "exc_info" in r]
        row.crashes = (0 if daemon.alive() else 1) + len(tracebacks) + len(daemon.stray) - stray_before
        row.crash_detail = "\n".join([*map(str, tracebacks[:3]), *daemon.stray[stray_before:][:40]])
        assert self.emu.backend.requests.writes_on_interaction - on_interaction_before == row.wrong_writes
        return row

    def explain_wrong_writes(self, calls: list[dict[str, Any]], drift: Drift, audit_before: int) -> str:
        """Each write the emulator flagged: the call, the agent's platform history (time,
        presence, routing), when the drift touched it, and what the daemon audited for it."""
        definitions = self.emu.backend.presence.definitions.by_id.values()
        names = {d.id: d.labels.get("en_US", d.id) for d in definitions}
        records = audit_records(self.daemon.audit_path, audit_before)
        lines = []
        for call in calls:
            for agent in call["onInteraction"]:
                history = list(self.emu.backend.presence.users[agent].history)[-8:]
                lines += [
                    f"{call['time']} {call['method']} {call['route']} {call['correlationId']} -> {agent}",
                    f"  drift: {drift.agents.get(agent)} at {drift.made_at.get(agent)}"
                    f" (interacting: {agent in drift.interacting})",
                    *(f"  platform {t.isoformat()} {names.get(p, p)} {r}" for t, p, r in history),
                    *(f"  audit {json.dumps(r)}" for r in records if r.get("agent", {}).get("id") == agent),
                ]
        return "\n".join(lines)


@dataclass(frozen=True)
class Scenario:
    name: str
    inject: Callable[[Chaos], None]
    window_over: Callable[[Chaos], bool]  # bounded by counts the emulator or the daemon reports
    faults: Callable[[Chaos], str]  # what was injected, for the table
    clear: Callable[[Chaos], None] = lambda chaos: chaos.emu.control.clear_faults()
    drift_first: bool = False  # drift before the fault (the control surface is down during it)


RETRIES = 5  # the client's max_retries (ClientConfig default)
BURST = RETRIES - 1  # a burst the retries absorb


def _bursts_done(chaos: Chaos) -> bool:
    """Two 429 bursts: the second is armed once the first was answered in full and the daemon
    has had a call through since (so no one call meets both bursts back to back)."""
    calls = chaos.daemon_calls()
    throttled = [i for i, c in enumerate(calls) if c["status"] == 429 and c["injected"]]
    first_over = len(throttled) >= BURST and not chaos.scratch.get("second")
    if first_over and any(c["status"] < 300 for c in calls[throttled[BURST - 1] :]):
        chaos.scratch["second"] = True
        chaos.emu.control.faults(burst429={"count": BURST, "retryAfter": 1})
    return len(throttled) >= 2 * BURST


def _new_token_used(chaos: Chaos) -> bool:
    calls = chaos.daemon_calls()
    tokens = [i for i, c in enumerate(calls) if c["route"] == "/oauth/token" and c["status"] == 200]
    return bool(tokens) and any(
        c["route"].startswith("/api/v2/") and c["status"] < 300 for c in calls[tokens[0] :]
    )


def _new_channel(chaos: Chaos) -> bool:
    created = any(
        c["method"] == "POST" and c["route"] == "/api/v2/notifications/channels" and c["status"] == 200
        for c in chaos.daemon_calls()
    )
    return created and chaos.reconnected()


def _break_desired(chaos: Chaos) -> None:
    (chaos.directory / "zz-broken.yaml").write_text(
        "apiVersion: presencectl.io/v1\nkind: PresencePolicy\nmetadata: {name: broken}\nspec: {grace: 1}\n"
    )


def _mend_desired(chaos: Chaos) -> None:
    (chaos.directory / "zz-broken.yaml").unlink()
    until(lambda: "desired_error" not in chaos.daemon.health(), "the reload", chaos.stuck)


def _injected_text(status: int | None, what: str) -> Callable[[Chaos], str]:
    return lambda chaos: f"{chaos.injected(status)} {what}"


SCENARIOS = [
    Scenario(
        "10% 5xx",
        lambda chaos: chaos.emu.control.faults(errorRate=0.1, errorStatus=503),
        lambda chaos: chaos.injected(503) >= 3,
        _injected_text(503, "x 503 of daemon calls"),
    ),
    Scenario(
        "2 s latency on 20%",
        lambda chaos: chaos.emu.control.faults(latencyMs=2000, latencyRate=0.2),
        lambda chaos: chaos.injected() >= 3,
        _injected_text(None, "calls delayed 2 s"),
    ),
    Scenario(
        "429 bursts",
        lambda chaos: chaos.emu.control.faults(burst429={"count": BURST, "retryAfter": 1}),
        _bursts_done,
        _injected_text(429, "x 429 (Retry-After: 1) in 2 bursts"),
    ),
    Scenario(
        "429 burst past the retries",
        # One bulk read answered 429 six times in a row: the call and its 5 retries all refused.
        lambda chaos: chaos.emu.control.faults(
            burst429={"count": RETRIES + 1, "retryAfter": 0}, pathPattern="/users/activity$"
        ),
        lambda chaos: chaos.injected(429) >= RETRIES + 1,
        _injected_text(429, "x 429 in a row on the bulk read"),
    ),
    Scenario(
        "WebSocket drop",
        lambda chaos: chaos.scratch.update(dropped=chaos.emu.control.drop_websockets()),
        Chaos.reconnected,
        lambda chaos: f"{chaos.scratch['dropped']} socket(s) dropped",
        clear=lambda chaos: None,
    ),
    Scenario(
        "channel expiry",
        lambda chaos: chaos.emu.control.expire_channels(),
        _new_channel,
        lambda chaos: "every channel expired",
        clear=lambda chaos: None,
    ),
    Scenario(
        "token revocation",
        lambda chaos: chaos.emu.control.revoke_tokens(),
        _new_token_used,
        lambda chaos: "every token revoked",
        clear=lambda chaos: None,
    ),
    Scenario(
        "emulator restart",
        lambda chaos: chaos.emu.go_down(),
        lambda chaos: not chaos.daemon.stream_connected(),
        lambda chaos: "1 outage (refused connections, channels and tokens lost)",
        clear=lambda chaos: chaos.emu.come_back(),
        drift_first=True,
    ),
    Scenario(
        "desired set invalid and back",
        _break_desired,
        lambda chaos: "desired_error" in chaos.daemon.health(),
        lambda chaos: "1 invalid file in desired/",
        clear=_mend_desired,
    ),
]
