"""An override whose `until` has passed is simply over: a warning (validate, plan), left out of
the state the planner sees, never an error that turns a set nobody touched invalid; and every
problem of a document is reported in one pass, unknown fields included."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.cli import main
from controller.emulator.server import RunningEmulator
from controller.model.errors import ERROR, WARNING
from controller.model.loader import check_files, load_desired
from tests.model.conftest import NOW
from tests.model.documents import override_policy

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def test_an_expired_override_is_a_warning_and_left_out(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(override_policy(until="2026-11-24T06:00"))  # 11:00 UTC, NOW is 12:00
    state, diagnostics = check_files([tmp_path / "p.yaml"], now=NOW)
    assert state is not None, "\n".join(map(str, diagnostics))
    (warning,) = diagnostics
    assert warning.severity == WARNING and (warning.location.line, warning.location.column) == (12, 14)
    assert "override for a@x.io in policy 'p' expired at 2026-11-24T11:00:00+00:00" in warning.message
    assert state.policies[0].overrides == ()  # the planner never sees it
    (expired,) = state.expired
    assert expired.policy == "p" and expired.override.until == datetime(2026, 11, 24, 11, tzinfo=UTC)


def test_the_same_set_stays_valid_as_an_override_expires(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(override_policy(until="2026-11-24T08:00"))  # 13:00 UTC
    before = load_desired(tmp_path, now=NOW)
    after = load_desired(tmp_path, now=NOW + timedelta(hours=2))  # the instant passed: still valid
    assert len(before.policies[0].overrides) == 1 and after.policies[0].overrides == ()
    assert before.expired_overrides(NOW) == ()
    (later,) = before.expired_overrides(NOW + timedelta(hours=2))  # expired while in force
    assert later.override == before.policies[0].overrides[0]


def test_validate_shows_the_warning_and_strict_fails_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(override_policy(until="2020-01-01T00:00"))
    assert main(["validate", str(tmp_path), "--offline"]) == 0
    out = capsys.readouterr().out
    assert (
        "p.yaml:12:14: warning: override for a@x.io in policy 'p' expired at 2020-01-01T05:00:00+00:00" in out
    )
    assert "1 warning(s)" in out.splitlines()[-1]
    assert main(["validate", str(tmp_path), "--offline", "--strict"]) == 2
    out = capsys.readouterr().out
    assert "p.yaml:12:14: error: override for a@x.io" in out and out.splitlines()[-1].startswith(
        "invalid: 1 error(s)"
    )


def test_unknown_fields_do_not_hide_the_documents_other_errors(tmp_path: Path) -> None:
    text = (DESIRED / "policy-emea-support.yaml").read_text()
    broken = text.replace("graceSeconds", "grace").replace(
        "timezone: Europe/London", "timezone: Europe/Londn"
    )
    (tmp_path / "policy.yaml").write_text(broken)
    state, diagnostics = check_files([tmp_path / "policy.yaml"], now=NOW)
    errors = [d.message for d in diagnostics if d.severity == ERROR]
    assert state is None and len(errors) == 2, errors
    assert any("unknown field 'grace'" in e for e in errors)
    assert any("unknown time zone 'Europe/Londn'" in e for e in errors)


def test_other_schema_errors_still_stop_the_document_alone(tmp_path: Path) -> None:
    text = (DESIRED / "policy-emea-support.yaml").read_text()
    broken = text.replace("graceSeconds: 30", "graceSeconds: soon").replace("Europe/London", "Europe/Londn")
    (tmp_path / "policy.yaml").write_text(broken)
    state, diagnostics = check_files([tmp_path / "policy.yaml"], now=NOW)
    errors = [d.message for d in diagnostics if d.severity == ERROR]
    # A wrong type leaves the document unusable: judging the rest would add follow-up noise.
    assert state is None and len(errors) == 1 and "graceSeconds" in errors[0], errors


def test_plan_warns_of_an_expired_override(
    tmp_path: Path,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(DESIRED, tmp_path / "desired")
    policy = tmp_path / "desired" / "policy-customer-care.yaml"
    policy.write_text(
        policy.read_text().replace('until: "2030-01-01T00:00:00-05:00"', 'until: "2020-01-01T00:00"')
    )
    for name, value in {
        "GENESYS_API_BASE": emulator.api_base,
        "GENESYS_LOGIN_BASE": emulator.login_base,
        "GENESYS_CLIENT_ID": emulator.client_id,
        "GENESYS_CLIENT_SECRET": emulator.client_secret,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["plan", str(tmp_path / "desired")]) in (0, 1)  # changes or none: not an error
    err = capsys.readouterr().err
    assert (
        "warning: override for agent00003@demo.example.com in policy 'customer-care-schedule' "
        "expired at 2020-01-01T05:00:00+00:00"
    ) in err
