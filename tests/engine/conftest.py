"""Engine fixtures: a session (client + org reader + resolved desired/) against a running emulator."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import sleep as real_sleep
from typing import Any

import pytest

from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import CycleResult
from controller.engine.session import Session, connect, session_on
from controller.genesys import GenesysClient, RateBudget
from tests.support.clock import PINNED_DAY
from tests.support.waiting import wait_for

DESIRED = Path(__file__).resolve().parents[2] / "desired"
SECRET = "test-webhook-secret-0123456789"  # the daemon tests' webhook secret


DAY = PINNED_DAY  # a failing run is reproducible: see PINNED_DAY


def client_for(
    emu: RunningEmulator, rate_per_minute: int = 6000, sleep: Callable[[float], None] = real_sleep
) -> GenesysClient:
    """A client with its own budget, so tests never share the process-wide one (`sleep`: its
    retry pauses)."""
    return connect(
        emu.api_base,
        emu.login_base,
        emu.client_id,
        emu.client_secret,
        rate_per_minute,
        budget=RateBudget(rate_per_minute),
        sleep=sleep,
    )


def emulator_clock(emu: RunningEmulator) -> Callable[[], datetime]:
    """The daemon's clock following the emulator's, which time travel moves (in-process read of
    the same clock GET /_emulator/clock serves, without an HTTP call per reading)."""
    return emu.backend.clock.now


def desired_copy(tmp_path: Path, grace_seconds: int) -> Path:
    """The example desired/ in tmp_path with every policy's graceSeconds set (0: correct at once)."""
    target = tmp_path / "desired"
    shutil.copytree(DESIRED, target)
    for policy in target.glob("policy-*.yaml"):
        text = re.sub(r"graceSeconds: \d+", f"graceSeconds: {grace_seconds}", policy.read_text())
        policy.write_text(text)
    return target


def open_test_session(emu: RunningEmulator, directory: Path = DESIRED, rate: int = 6000) -> Session:
    return session_on(client_for(emu, rate), str(directory), emu.control.now())


@contextmanager
def streaming_daemon(
    emu: RunningEmulator, tmp_path: Path, **options: Any
) -> Iterator[tuple[Daemon, list[CycleResult]]]:
    """A Daemon (with `options`) on a copy of desired/ with grace 0 and no webhook, on the
    emulator's clock, with the cycles it completes; yielded once its first full resync is done and
    its notification stream is up, stopped on leaving."""
    directory = desired_copy(tmp_path, grace_seconds=0)
    session = daemon_session(emu, tmp_path, directory, webhook_secret=None)
    cycles: list[CycleResult] = []  # appended by the daemon's worker (list.append is atomic)
    daemon = Daemon(str(directory), session, clock=emulator_clock(emu), on_cycle=cycles.append, **options)
    daemon.start()
    try:
        wait_for(lambda: daemon.health().ready, what="the first full resync")
        wait_for(lambda: daemon.wait_streaming(0), "the notification stream")
        yield daemon, cycles
    finally:
        daemon.stop()


def daemon_session(
    emu: RunningEmulator, tmp_path: Path, directory: Path = DESIRED, *, rate: int = 6000, **config: Any
) -> Session:
    """A session for a Daemon under test: its audit log in `tmp_path`, its HTTP server on a free
    port, and `config` (ControllerConfig fields) over what desired/controller.yaml says."""
    session = open_test_session(emu, directory, rate)
    settings = replace(
        session.state.config, audit_path=str(tmp_path / "audit.jsonl"), http_bind="127.0.0.1:0", **config
    )
    return Session(session.client, session.org_reader, replace(session.state, config=settings))


@pytest.fixture
def day_emulator() -> Iterator[RunningEmulator]:
    """60 agents with published schedules around DAY, the clock at 10:00 UTC (05:00 New York)."""
    assert datetime.now(UTC).date() < DAY, f"the pinned test day {DAY} is past: move it ahead"
    org = generate_org(agents=60, seed=1, start=DAY - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(datetime.combine(DAY, time(10), UTC))
        yield emu
