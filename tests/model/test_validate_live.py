"""`presencectl validate` against the emulator: secondary labels, agents and units checked live."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.cli import main
from controller.emulator.server import RunningEmulator, start_emulator

DESIRED = Path(__file__).resolve().parents[2] / "desired"
BAD = Path(__file__).parent / "bad"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with start_emulator(agents=50, seed=1) as emu:
        yield emu


def _connection(emu: RunningEmulator, tmp_path: Path) -> list[str]:
    (tmp_path / "id").write_text(emu.client_id)
    (tmp_path / "secret").write_text(emu.client_secret)
    return [
        "--api-base",
        emu.api_base,
        "--login-base",
        emu.login_base,
        "--client-id-file",
        str(tmp_path / "id"),
        "--client-secret-file",
        str(tmp_path / "secret"),
    ]


def test_example_is_valid_against_the_live_org(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(DESIRED), *_connection(emulator, tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "note:" not in out  # every secondary label was checked against the org
    assert out.startswith("valid: 5 file(s)")


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            "presence-unknown.yaml",
            "presence-unknown.yaml:14:17: error: unknown presence 'Lunchh' (did you mean 'Lunch'?",
        ),
        ("agents-unknown-email.yaml", "agents-unknown-email.yaml:8:14: error: unknown e-mail 'agent99999@"),
        (
            "two-policies-same-agents-resolved.yaml",
            "same-agents-resolved.yaml:22:5: error: policies 'p1' and 'p2' both select 21 agent(s)",
        ),
    ],
)
def test_live_checks_reject(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str, expected: str
) -> None:
    desired = tmp_path / "desired"
    desired.mkdir()
    shutil.copy(BAD / bad, desired)
    assert main(["validate", str(desired), *_connection(emulator, tmp_path)]) == 2
    out = capsys.readouterr().out
    assert expected in out


def test_unreachable_org_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "id").write_text("x")
    (tmp_path / "secret").write_text("y")
    args = ["--api-base", "http://127.0.0.1:9", "--login-base", "http://127.0.0.1:9"]
    args += ["--client-id-file", str(tmp_path / "id"), "--client-secret-file", str(tmp_path / "secret")]
    assert main(["validate", str(DESIRED), *args]) == 2
    assert "cannot read the org" in capsys.readouterr().err
