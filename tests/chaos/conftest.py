"""One 1,000-agent emulator and one real daemon process for the whole chaos suite (starting them
is the expensive part), and the summary table printed at the end of the session."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from controller.emulator.generate import generate_org
from controller.emulator.server import start_emulator
from tests.chaos.daemon_harness import DaemonProcess, Oracle, until
from tests.chaos.scenarios import RESULTS, Chaos, summary_table
from tests.support.clock import PINNED_DAY

DESIRED = Path(__file__).resolve().parents[2] / "desired"
AGENTS = 1000
RATE_PER_MINUTE = 600  # the emulator's per-client limit and the daemon's own budget
RESYNC_SECONDS = 10  # the schema's minimum: "two resync intervals" stays short
# The suite's instant, whatever the day it runs: the emulator's clock starts here and the daemon
# runs on it, so a failing run replays. Early afternoon on the pinned day: 303 of 1,000 agents
# logged in, logins and logouts (10 in the first 5 minutes) and activity changes as the suite runs.
FAULTS_AT = datetime.combine(PINNED_DAY, time(13), UTC)


def chaos_desired(target: Path, audit: Path) -> Path:
    """The example desired/ with grace 0 (a hand change is wrong at once, for the daemon and the
    oracle alike), a 10 s resync, the audit log in the test's directory, an ephemeral port."""
    shutil.copytree(DESIRED, target)
    for policy in target.glob("policy-*.yaml"):
        policy.write_text(re.sub(r"graceSeconds: \d+", "graceSeconds: 0", policy.read_text()))
    config = target / "controller.yaml"
    text = config.read_text()
    for old, new in (
        ("ratePerMinute: 300", f"ratePerMinute: {RATE_PER_MINUTE}"),
        ("intervalSeconds: 300", f"intervalSeconds: {RESYNC_SECONDS}"),
        ("path: audit/audit.jsonl", f"path: {audit}"),
        ("bind: 127.0.0.1:9464", "bind: 127.0.0.1:0"),
    ):
        assert old in text, f"the example controller.yaml no longer has {old!r}"
        text = text.replace(old, new)
    config.write_text(text)
    return target


@pytest.fixture(scope="session")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    workdir = tmp_path_factory.mktemp("chaos")
    # A live contact centre: agents start in the presence their schedule implies, so the first
    # resync is a handful of corrections, not a mass change the blast-radius guard would hold.
    org = generate_org(agents=AGENTS, seed=7, start=FAULTS_AT.date() - timedelta(days=1))
    with start_emulator(org=org, rate_limit=RATE_PER_MINUTE, initial_adherence=1.0, start=FAULTS_AT) as emu:
        directory = chaos_desired(workdir / "desired", workdir / "audit.jsonl")
        daemon = DaemonProcess(emu, directory, workdir)
        oracle = Oracle(emu, directory)
        try:
            until(lambda: daemon.full_cycles() > 0, "the daemon's first full resync", daemon.death)
            until(daemon.stream_connected, "the notification stream", daemon.death)
            full = daemon.full_cycles()

            def hopeless() -> str | None:
                if daemon.full_cycles() > full + 2:
                    return f"out of desired after two full resyncs: {sorted(oracle.wrong())[:5]}"
                return daemon.death()

            until(lambda: not oracle.wrong(), "every managed agent in its desired presence", hopeless)
            yield Chaos(emu, daemon, oracle, directory)
        finally:
            oracle.close()
            code = daemon.stop()
            assert code == 0, f"the daemon exited {code} on SIGTERM"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.section("chaos suite")
        terminalreporter.write_line(summary_table(RESULTS))
