"""Inline secrets found by validation are registered with the log scrubber by the command that
reports them (validation itself is pure: tests/model/test_loader.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from controller.commands.validate import validate
from controller.failures import report
from controller.log import scrub
from controller.model.errors import DesiredStateError
from controller.model.loader import load_desired
from tests.model.conftest import NOW

BAD = Path(__file__).resolve().parents[1] / "model" / "bad" / "config-inline-secret.yaml"


def _desired(tmp_path: Path, secret: str) -> Path:
    (tmp_path / "config.yaml").write_text(BAD.read_text().replace("hunter2-very-secret", secret))
    return tmp_path


def test_validate_registers_what_it_found(tmp_path: Path) -> None:
    secret = "validate-command-secret-91c2"
    out = io.StringIO()
    assert validate(str(_desired(tmp_path, secret)), out=out) == 2
    assert secret not in out.getvalue()
    assert scrub(f"echoed {secret}") == "echoed ***"


def test_a_rejected_state_reported_by_plan_apply_or_run_registers_it(tmp_path: Path) -> None:
    secret = "reported-command-secret-44d0"
    with pytest.raises(DesiredStateError) as caught:
        load_desired(_desired(tmp_path, secret), now=NOW)
    assert scrub(secret) == secret
    err = io.StringIO()
    assert report(caught.value, err) == 2
    assert secret not in err.getvalue() and scrub(f"echoed {secret}") == "echoed ***"
