"""Progress on stderr for `plan`/`apply` runs longer than a couple of seconds: on a terminal,
or with `--progress`; nothing for quick runs or in a pipe."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from typing import Any

from controller.commands.progress import Progress
from controller.emulator.server import RunningEmulator
from tests.commands.conftest import Forced
from tests.commands.tty import clean_env, on_terminal

SLOW: dict[str, Any] = {"latencyMs": 1500, "pathPattern": "presence/definitions"}  # each catalog read: 1.5 s


def test_a_slow_plan_on_a_terminal_shows_progress_then_clears_it(
    forced: Forced, emulator: RunningEmulator
) -> None:
    emulator.control.faults(**SLOW)
    shown = on_terminal(["plan", str(forced.directory)], forced.directory.parent, clean_env(forced.env))
    assert shown.code == 1, shown.text
    assert "\r\x1b[Kplan: " in shown.text and "API call(s)" in shown.text
    # The line is cleared before the plan is printed: no progress text after it.
    assert shown.text.rindex("\r\x1b[K") < shown.text.index("change(s) for")


def test_progress_flag_prints_lines_in_a_pipe_and_none_without_it(
    forced: Forced, emulator: RunningEmulator
) -> None:
    emulator.control.faults(**SLOW)
    env = clean_env(forced.env)
    command = [sys.executable, "-m", "controller", "plan", str(forced.directory)]
    flagged = subprocess.run([*command, "--progress"], env=env, capture_output=True, text=True)
    assert flagged.returncode == 1, flagged.stderr[-2000:]
    progress = [line for line in flagged.stderr.splitlines() if line.startswith("plan: ")]
    assert progress and "API call(s)" in progress[-1] and "\x1b" not in flagged.stderr
    quiet = subprocess.run(command, env=env, capture_output=True, text=True)
    assert quiet.returncode == 1 and not [
        line for line in quiet.stderr.splitlines() if line.startswith("plan: ")
    ]


def test_a_quick_run_shows_nothing() -> None:
    stream = io.StringIO()
    with Progress("plan", enabled=True, stream=stream) as progress:
        progress.on_call("GET", "/api/v2/users", 200, 0.01, 0, 0)
    assert stream.getvalue() == ""
    assert re.fullmatch(
        r"plan: starting, \d+ s, 1 API call\(s\) \(last: GET /api/v2/users\)", progress.text()
    )
