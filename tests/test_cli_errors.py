"""Every CLI command, given broken input, answers with one clear line and exit 2: never a
traceback. Local configuration (secret, audit path, port) is checked before the first network
call, so the emulator sees no request at all."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.audit import AuditMode, AuditRecord, AuditResult, AuditWriter
from controller.emulator.server import RunningEmulator

DESIRED = Path(__file__).resolve().parents[1] / "desired"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(DESIRED, tmp_path / "desired")
    return tmp_path


def connection(emu: RunningEmulator) -> dict[str, str]:
    return {
        "GENESYS_API_BASE": emu.api_base,
        "GENESYS_LOGIN_BASE": emu.login_base,
        "GENESYS_CLIENT_ID": emu.client_id,
        "GENESYS_CLIENT_SECRET": emu.client_secret,
    }


def presencectl(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS_", "PRESENCECTL_"))}
    done = subprocess.run(
        [sys.executable, "-m", "controller", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_one_line_config_error(outcome: Outcome, *words: str) -> None:
    assert "Traceback" not in outcome.err, outcome.err
    assert outcome.code == 2, outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("configuration error: "), lines[0]
    for word in words:
        assert word in lines[0]


def edit_config(workdir: Path, old: str, new: str) -> None:
    path = workdir / "desired" / "controller.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_run_without_the_webhook_secret_names_the_variable_before_any_api_call(
    workdir: Path, emulator: RunningEmulator
) -> None:
    outcome = presencectl(workdir, "run", "desired", env=connection(emulator))
    assert_one_line_config_error(outcome, "PRESENCECTL_WEBHOOK_SECRET")
    assert emulator.control.requests_log() == []
    # The audit path was checked (it comes first) without creating the log: its appearance is
    # what tells an operator, and the daemon test, that the first record was written.
    assert (workdir / "audit").is_dir() and not (workdir / "audit" / "audit.jsonl").exists()


@pytest.mark.parametrize("command", ["apply", "run"])
def test_an_unwritable_audit_path_is_a_config_error_before_any_api_call(
    workdir: Path, emulator: RunningEmulator, command: str
) -> None:
    (workdir / "not-a-directory").write_text("a file where the audit directory should be")
    edit_config(workdir, "path: audit/audit.jsonl", "path: not-a-directory/audit.jsonl")
    env = {**connection(emulator), "PRESENCECTL_WEBHOOK_SECRET": "a-long-enough-secret"}
    outcome = presencectl(workdir, command, "desired", env=env)
    assert_one_line_config_error(outcome, "not-a-directory/audit.jsonl", "audit.path")
    assert emulator.control.requests_log() == []


def test_a_busy_http_port_is_a_config_error_before_any_api_call(
    workdir: Path, emulator: RunningEmulator, busy_port: int
) -> None:
    edit_config(workdir, "bind: 127.0.0.1:9464", f"bind: 127.0.0.1:{busy_port}")
    env = {**connection(emulator), "PRESENCECTL_WEBHOOK_SECRET": "a-long-enough-secret"}
    outcome = presencectl(workdir, "run", "desired", env=env)
    assert_one_line_config_error(outcome, f"127.0.0.1:{busy_port}", "already in use", "http.bind")
    assert emulator.control.requests_log() == []


def test_an_unknown_log_level_is_a_config_error(workdir: Path) -> None:
    assert_one_line_config_error(
        presencectl(workdir, "--log-level", "bogus", "validate", "desired", "--offline"), "'bogus'", "INFO"
    )
    outcome = presencectl(workdir, "validate", "desired", "--offline", env={"PRESENCECTL_LOG_LEVEL": "loud"})
    assert_one_line_config_error(outcome, "PRESENCECTL_LOG_LEVEL")


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "desired"),  # no connection settings
        ("apply", "desired", "--api-base", "http://127.0.0.1:9"),  # no login base
        ("run", "desired", "--region", "mars_north_1"),
    ],
)
def test_missing_or_wrong_connection_settings_are_one_line(workdir: Path, args: tuple[str, ...]) -> None:
    outcome = presencectl(workdir, *args, env={"PRESENCECTL_WEBHOOK_SECRET": "a-long-enough-secret"})
    assert_one_line_config_error(outcome)


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "missing"),
        ("plan", "missing"),
        ("apply", "missing"),
        ("run", "missing"),
        ("demo", "missing"),
        ("audit", "--path", "missing/audit.jsonl"),
        ("audit", "--since", "yesterday"),
        ("emulator", "--org", "missing.yaml"),
        ("emulator", "--agents", "-1"),
    ],
)
def test_every_command_refuses_broken_input_without_a_traceback(workdir: Path, args: tuple[str, ...]) -> None:
    outcome = presencectl(workdir, *args)
    assert "Traceback" not in outcome.err, outcome.err
    assert outcome.code == 2, outcome.err
    assert outcome.err.strip(), "no message"


def test_audit_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    writer = AuditWriter(log)
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    record = AuditRecord(at, "agent-1", "policy", AuditMode.ENFORCED, AuditResult.OK, "why", "cycle")
    writer.write_batch([record] * 5000)  # far more than a pipe buffer holds
    for output in ("text", "json"):
        reader = subprocess.Popen(
            [sys.executable, "-m", "controller", "audit", "--path", str(log), "--output", output],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.readline()
        reader.stdout.close()  # `| head -1`
        err = reader.stderr.read().decode()
        assert reader.wait(timeout=60) == 141
        assert "Traceback" not in err and "BrokenPipeError" not in err, err
