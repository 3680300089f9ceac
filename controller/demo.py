"""`presencectl demo` (emulator-only for now): start the emulator in-process, print its URLs and
a summary, then make a few agents change presence by hand every few seconds (the drift a
reconcile daemon would correct) and print a status line, until Ctrl-C."""

from __future__ import annotations

import argparse
import random
import time

from controller.emulator.server import start_emulator

DRIFT_EVERY_SECONDS = 3.0
DRIFT_PRESENCES = ("Available", "Away", "Busy", "Break", "Meal", "On Queue", "Offline")


def run(args: argparse.Namespace) -> int:
    try:
        _serve(args)
    except KeyboardInterrupt:  # Ctrl-C is how the demo ends
        print("demo stopped (Ctrl-C)", flush=True)
    return 0


def _serve(args: argparse.Namespace) -> None:
    print("presencectl demo: EMULATOR-ONLY demo (the reconcile daemon is not part of it yet).", flush=True)
    rng = random.Random(args.seed)
    with start_emulator(agents=args.agents, seed=args.seed, rate_limit=100_000) as emu:
        summary = emu.control.summary()
        print(f"API {emu.api_base} STREAMING {emu.streaming_base}", flush=True)
        print(
            f"org: {summary['agents']} agents, {summary['managementUnits']} management units, "
            f"{summary['presenceDefinitions']} presence definitions, "
            f"{summary['scheduledNow']} agents scheduled now",
            flush=True,
        )
        print(
            f"OAuth client: {emu.client_id} / {emu.client_secret}; desired state: {args.directory} "
            "(not applied in this demo). Agents drift every few seconds; Ctrl-C stops.",
            flush=True,
        )
        while True:
            time.sleep(DRIFT_EVERY_SECONDS)
            moved = []
            for agent in rng.sample(emu.org.agents, k=min(3, len(emu.org.agents))):
                presence = rng.choice(DRIFT_PRESENCES)
                emu.control.set_presence(agent.id, presence)
                moved.append(f"{agent.name} -> {presence}")
            counts = emu.control.summary()["presenceCounts"]
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"{time.strftime('%H:%M:%S')} drift: {'; '.join(moved)} | now: {shown}", flush=True)
