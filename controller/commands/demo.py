"""`presencectl demo` (`make demo`): the daemon on the example desired/ against the embedded
emulator, with agent-made drift injected so a newcomer sees corrections within a minute.

Prints the emulator and daemon URLs, then one summary line every few seconds: agents in their
desired presence, drifted, corrected so far, the next boundary. Ctrl-C stops it cleanly (exit 0).

The emulator, and the daemon with it, run on a weekday afternoon (`demo_start`) whatever the day:
the example desired/ has opinions on weekday office hours, so on a weekend or at night the floor
would be empty and there would be nothing to show.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import CycleResult
from controller.engine.session import connect, session_on
from controller.model.loader import load_desired

SUMMARY_EVERY_SECONDS = 5.0
DRIFT_EVERY_SECONDS = 15.0
DEMO_WEBHOOK_SECRET = "presencectl-demo-webhook-secret"  # demo only; real deployments set their own
# Both example sites are open then (London, and New York from 15:00 UTC, two minutes in: a boundary).
DEMO_TIME = time(14, 58, tzinfo=UTC)


def demo_start(today: date) -> datetime:
    """The emulated instant the demo starts at: DEMO_TIME on the latest weekday up to `today`."""
    day = today - timedelta(days=max(0, today.weekday() - 4))
    return datetime.combine(day, DEMO_TIME)


@dataclass
class _Tally:
    managed: int = 0
    in_line: int = 0
    drifted: int = 0
    corrected: int = 0
    injected: int = 0
    next_boundary: datetime | None = None
    last: str = ""
    in_line_agents: tuple[str, ...] = ()  # candidates for injected drift


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("PRESENCECTL_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET)
    stop = threading.Event()
    # 85 % of on-shift agents start adherent, like a live floor: the first plan then corrects
    # the rest instead of tripping the example's blast-radius guard.
    start = demo_start(datetime.now(UTC).date())
    org = generate_org(agents=args.agents, seed=args.seed, start=start.date() - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=300, initial_adherence=0.85, start=start) as emu:
        tally = _Tally()
        daemon = _daemon(args.directory, emu, tally)
        print(
            f"emulator  API {emu.api_base}  STREAMING {emu.streaming_base}"
            f"  time {start:%a %Y-%m-%d %H:%M} UTC (emulated: a weekday afternoon)",
            flush=True,
        )
        try:
            daemon.start()
            print(
                f"daemon    desired {args.directory}  metrics http://127.0.0.1:{daemon.http_port}/metrics"
                "  (Ctrl-C stops)",
                flush=True,
            )
            _loop(daemon, emu, tally, stop, random.Random(args.seed))
        except KeyboardInterrupt:
            print("demo stopping (Ctrl-C): finishing in-flight writes", flush=True)
        finally:
            daemon.stop()
    print(f"demo stopped: {tally.corrected} corrections, {tally.injected} drifts injected", flush=True)
    return 0


def _daemon(directory: str, emu: RunningEmulator, tally: _Tally) -> Daemon:
    clock = emu.backend.clock.now  # the daemon follows the emulated day
    offline = load_desired(directory, now=clock())
    client = connect(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, offline.config.rate_per_minute
    )
    session = session_on(client, directory, clock())
    state = session.state
    # A busy metrics port (another demo, a real daemon) must not stop the demo: take a free one.
    state = replace(state, config=replace(state.config, http_bind="127.0.0.1:0"))
    strict = frozenset(
        p.name
        for p in state.policies
        if p.rules.allowed_presences is not None
        and "away" not in {n.casefold() for n in p.rules.allowed_presences}
    )
    return Daemon(directory, replace(session, state=state), clock=clock, on_cycle=_on_cycle(tally, strict))


def _on_cycle(tally: _Tally, strict_policies: frozenset[str]) -> Callable[[CycleResult], None]:
    def record(result: CycleResult) -> None:
        ok = result.report.ok if result.report is not None else ()
        if result.full:
            tally.managed = result.plan.managed
            tally.in_line = sum(a.in_desired for a in result.plan.adherence)
            tally.drifted = sum(a.out_of_desired for a in result.plan.adherence)
            tally.next_boundary = result.next_boundary
            in_line = [s.user_id for s in result.plan.skipped if s.kind.value == "in-desired"]
            # Agents of policies that do not allow Away are corrected at once: drift them first.
            strict = [s.user_id for s in result.plan.skipped if s.policy in strict_policies]
            tally.in_line_agents = tuple(a for a in in_line if a in set(strict)) or tuple(in_line)
        tally.in_line += len(ok)
        tally.drifted = max(0, tally.drifted - len(ok))
        tally.corrected += len(ok)
        if ok:
            action = next(a for a in result.plan.actions if a.user_id == ok[0])
            agent = result.agents.get(action.user_id)
            reason = (
                action.reason.detail if len(action.reason.detail) <= 60 else action.reason.detail[:59] + "…"
            )
            who = agent.email if agent else action.user_id
            tally.last = f"{who} {action.from_label} -> {action.to.name} ({reason})"

    return record


def _loop(
    daemon: Daemon, emu: RunningEmulator, tally: _Tally, stop: threading.Event, rng: random.Random
) -> None:
    next_drift = monotonic() + DRIFT_EVERY_SECONDS / 3
    while not stop.wait(SUMMARY_EVERY_SECONDS):
        if monotonic() >= next_drift:
            _inject_drift(emu, tally, rng)
            next_drift = monotonic() + DRIFT_EVERY_SECONDS
        boundary = tally.next_boundary.strftime("%H:%M:%S UTC") if tally.next_boundary else "none"
        now = emu.backend.clock.now()
        print(
            f"{now:%H:%M:%S} in line {tally.in_line}/{tally.managed}  drifted {tally.drifted}  "
            f"corrected {tally.corrected}  next boundary {boundary}"
            + (f"  last: {tally.last}" if tally.last else ""),
            flush=True,
        )


def _inject_drift(emu: RunningEmulator, tally: _Tally, rng: random.Random) -> None:
    """A managed agent in its desired presence wanders off to Away by hand; the stream tells
    the daemon at once, which corrects it now (a policy that does not allow Away) or when the
    agent's grace ends."""
    if not tally.in_line_agents:
        return
    user_id = rng.choice(tally.in_line_agents)
    emu.control.set_presence(user_id, "Away")
    tally.injected += 1
    tally.in_line -= 1
    tally.drifted += 1
    email = next((a.email for a in emu.org.agents if a.id == user_id), user_id)
    print(f"{emu.backend.clock.now():%H:%M:%S} drift: {email} went Away by hand", flush=True)
