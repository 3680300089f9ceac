"""The daemon's trigger reconcile against the in-process emulator (prints numbers; never gates).

1. Trigger API calls per pass with no drift, counted in the emulator's request log over many
   passes, and what that makes per hour at the default cadence (ControllerConfig
   triggers.intervalSeconds, 120 s).
2. Time from a hand-deleted trigger to its recreation by the daemon, in cadence units, for
   deletes at random phases of the cadence (the cadence is shortened to keep the run short; the
   figure in units of the cadence carries over to any interval).

    python -m bench triggers_daemon [--interval SECONDS] [--passes N] [--deletes N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.session import Session, connect, session_on, trigger_owner
from controller.genesys import RateBudget
from controller.model.types import ControllerConfig
from controller.subscriptions.plan import marker_owner
from tests.support.waiting import after, wait_for

DESIRED = Path(__file__).resolve().parents[1] / "desired"
NAME = "not-responding-alert"


def _owned_ids(emu: RunningEmulator) -> list[str]:
    """Owned triggers of NAME, read in-process (polling over HTTP would add to the count)."""
    return [
        t.id
        for t in emu.backend.triggers.all()
        if t.fields.name == NAME and (marker_owner(t.fields.description or "") or ("",))[0] == trigger_owner()
    ]


def _trigger_calls(emu: RunningEmulator) -> int:
    return sum(n for k, n in emu.control.request_counts().items() if "/processautomation/triggers" in k)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=int, default=1, help="shortened trigger cadence, seconds")
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--deletes", type=int, default=15)
    args = parser.parse_args()
    default = ControllerConfig().trigger_interval_seconds
    day = datetime.now(UTC).date() + timedelta(days=8)
    org = generate_org(agents=100, seed=1, start=day - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=100_000) as emu, tempfile.TemporaryDirectory() as tmp:
        emu.control.set_clock(datetime.combine(day, clock_time(10), UTC))
        directory = Path(tmp) / "desired"
        shutil.copytree(DESIRED, directory)
        client = connect(
            emu.api_base,
            emu.login_base,
            emu.client_id,
            emu.client_secret,
            100_000,
            budget=RateBudget(100_000),
        )
        session = session_on(client, str(directory), emu.backend.clock.now())
        config = replace(
            session.state.config,
            audit_path=str(Path(tmp) / "audit.jsonl"),
            http_bind="127.0.0.1:0",
            webhook_secret=None,
            trigger_interval_seconds=args.interval,
            resync_interval_seconds=3600,  # keep presence resyncs out of the window
        )
        daemon = Daemon(
            str(directory),
            Session(client, session.org_reader, replace(session.state, config=config)),
            clock=emu.backend.clock.now,
            stream=False,
        )
        daemon.start()
        try:
            wait_for(lambda: bool(_owned_ids(emu)), "the triggers created", after(30))
            time.sleep(args.interval)  # let the start's pass finish
            emu.control.clear_requests()
            started = time.monotonic()
            time.sleep(args.passes * args.interval)
            elapsed = time.monotonic() - started
            calls = _trigger_calls(emu)
            counted_passes = elapsed / args.interval
            per_pass = calls / counted_passes
            writes = sum(
                n
                for k, n in emu.control.request_counts().items()
                if "/processautomation/triggers" in k and not k.startswith("GET")
            )
            print(
                f"no drift: {calls} trigger calls in {elapsed:.1f} s = {counted_passes:.1f} passes "
                f"({per_pass:.2f} calls a pass, {writes} writes); at the default {default} s cadence: "
                f"{per_pass * 3600 / default:.0f} calls an hour"
            )

            rand = random.Random(1)
            units: list[float] = []
            for _ in range(args.deletes):
                time.sleep(rand.uniform(0, args.interval))  # a random phase of the cadence
                (trigger_id,) = _owned_ids(emu)
                deleted = time.monotonic()
                client.triggers.delete_trigger(trigger_id)
                wait_for(
                    lambda: bool(_owned_ids(emu)), "the trigger recreated", after(10 * args.interval + 10)
                )
                units.append((time.monotonic() - deleted) / args.interval)
            units.sort()
            print(
                f"hand delete -> recreated, in cadence units over {len(units)} deletes: min {units[0]:.2f}, "
                f"median {units[len(units) // 2]:.2f}, max {units[-1]:.2f} "
                f"(at the default {default} s: median {units[len(units) // 2] * default:.0f} s, "
                f"max {units[-1] * default:.0f} s)"
            )
        finally:
            daemon.stop()


if __name__ == "__main__":
    main()
