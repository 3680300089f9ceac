"""Logs: quiet readable lines for a person at a terminal, JSON lines for the daemon and for
anything that is not a terminal; `--log-format`, `-v`; apscheduler's internals at WARNING."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path

import pytest

from controller.cli import log_choice
from controller.emulator.server import RunningEmulator
from controller.log import register_secret, setup_logging
from tests.commands.tty import ROOT, clean_env, on_terminal


@pytest.mark.parametrize(
    ("command", "level", "verbose", "fmt", "tty", "expected"),
    [
        ("plan", None, 0, None, True, ("WARNING", "text")),
        ("validate", None, 0, None, True, ("WARNING", "text")),
        ("audit", None, 0, None, True, ("WARNING", "text")),
        ("apply", None, 1, None, True, ("INFO", "text")),
        ("apply", None, 2, None, True, ("DEBUG", "text")),
        ("plan", None, 0, None, False, ("INFO", "json")),  # CI, a pipe: as before
        ("run", None, 0, None, True, ("INFO", "json")),  # the daemon keeps JSON lines
        ("run", None, 0, "text", True, ("INFO", "text")),
        ("plan", "ERROR", 2, "json", True, ("ERROR", "json")),  # --log-level wins over -v
    ],
)
def test_log_choice(
    command: str, level: str | None, verbose: int, fmt: str | None, tty: bool, expected: tuple[str, str]
) -> None:
    choice = log_choice(command, level, verbose, fmt, tty)
    assert (choice.level, choice.format) == expected


def test_text_lines_carry_the_fields_and_are_scrubbed() -> None:
    register_secret("text-format-secret-1234")
    stream = io.StringIO()
    setup_logging("INFO", stream, fmt="text")
    try:
        logging.getLogger("controller.genesys").warning(
            "retrying", extra={"route": "/api/v2/users", "token": "text-format-secret-1234"}
        )
    finally:
        setup_logging("INFO")
    assert stream.getvalue() == "WARNING controller.genesys: retrying (route=/api/v2/users, token=***)\n"


def test_apscheduler_internals_stay_at_warning() -> None:
    setup_logging("DEBUG")
    try:
        assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
        assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.WARNING)
    finally:
        setup_logging("INFO")


def _connection(emu: RunningEmulator) -> dict[str, str]:
    return {
        "GENESYS_API_BASE": emu.api_base,
        "GENESYS_LOGIN_BASE": emu.login_base,
        "GENESYS_CLIENT_ID": emu.client_id,
        "GENESYS_CLIENT_SECRET": emu.client_secret,
        "PRESENCECTL_WEBHOOK_SECRET": "terminal-webhook-secret-0123456789",
    }


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "desired", tmp_path / "desired")
    return tmp_path


def test_plan_on_a_terminal_shows_no_api_call_lines(emulator: RunningEmulator, workdir: Path) -> None:
    shown = on_terminal(["plan", "desired"], workdir, clean_env(_connection(emulator)))
    assert shown.code in (0, 1), shown.text
    assert "genesys call" not in shown.text and '{"time"' not in shown.text
    assert "managed agent(s)" in shown.text


def test_verbose_on_a_terminal_is_readable_lines(emulator: RunningEmulator, workdir: Path) -> None:
    shown = on_terminal(["plan", "desired", "-v"], workdir, clean_env(_connection(emulator)))
    calls = [line for line in shown.text.splitlines() if "genesys call" in line]
    assert calls and all(line.startswith("INFO controller.genesys: genesys call (method=") for line in calls)


def test_log_format_json_on_a_terminal(emulator: RunningEmulator, workdir: Path) -> None:
    shown = on_terminal(
        ["--log-format", "json", "plan", "desired", "-v"], workdir, clean_env(_connection(emulator))
    )
    calls = [json.loads(line) for line in shown.text.splitlines() if '"genesys call"' in line]
    assert calls and all(c["level"] == "INFO" and c["correlation_id"] for c in calls)
