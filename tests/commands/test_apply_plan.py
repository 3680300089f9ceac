"""`plan --out FILE` then `apply FILE` applies exactly that plan, and refuses with one line (and
writes nothing) when desired/ or the planned agents changed since; `apply` on a terminal shows
the plan and asks, unless `--yes`."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.audit import read_audit
from controller.cli import main
from controller.emulator.server import RunningEmulator
from tests.commands.conftest import Forced
from tests.commands.tty import Terminal, clean_env, plain

PRESENCE_WRITES = ("PATCH", "PUT")


def _presence_writes(emu: RunningEmulator) -> list[str]:
    return [
        r["path"]
        for r in emu.control.requests_log()
        if r["method"] in PRESENCE_WRITES and "presence" in r["path"]
    ]


def _said(err: str) -> list[str]:
    """What the command said on stderr, without its JSON log lines (not a terminal: INFO)."""
    return [line for line in err.strip().splitlines() if not line.startswith("{")]


def _written_agents(forced: Forced) -> set[str]:
    return {
        r["agent"]["email"]
        for r in read_audit(forced.audit)
        if r.get("kind") != "trigger" and r["mode"] == "enforced"
    }


def test_apply_file_writes_exactly_the_saved_plan(
    forced: Forced, emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert (
        main(["plan", str(forced.directory), "--policy", "customer-care-schedule", "--out", str(saved)]) == 1
    )
    assert "apply" in capsys.readouterr().err
    planned = {line for line in saved.read_text().splitlines() if '"agent"' in line}
    emulator.control.clear_requests()
    assert main(["apply", str(saved)]) == 0
    out = capsys.readouterr().out
    for email in forced.emails:
        assert f"wrote {email} " in out
    written = _written_agents(forced)
    assert set(forced.emails) <= written
    assert all(any(email in line for line in planned) for email in written)  # nothing beyond the plan
    assert main(
        ["plan", str(forced.directory), "--policy", "customer-care-schedule", "--output", "json"]
    ) in (0, 1)
    assert not any(email in capsys.readouterr().out for email in forced.emails)  # they are in Busy now


def test_apply_file_refuses_when_a_planned_agent_changed(
    forced: Forced, emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert main(["plan", str(forced.directory), "--out", str(saved)]) == 1
    emulator.control.set_presence(forced.ids[0], "Meal")  # the agent moved on since the plan
    capsys.readouterr()
    emulator.control.clear_requests()
    assert main(["apply", str(saved)]) == 2
    (line,) = _said(capsys.readouterr().err)
    assert line.startswith("apply refused: the org changed since the plan was made: 1 of ")
    assert forced.emails[0] in line and "make a new plan" in line and "nothing was written" in line
    assert _presence_writes(emulator) == []
    assert not forced.audit.exists() or _written_agents(forced) == set()


def test_apply_file_refuses_when_desired_changed(
    forced: Forced, emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert main(["plan", str(forced.directory), "--out", str(saved)]) == 1
    policy = forced.directory / "policy-customer-care.yaml"
    policy.write_text(policy.read_text() + "\n# a reviewed change\n")
    capsys.readouterr()
    emulator.control.clear_requests()
    assert main(["apply", str(saved)]) == 2
    (line,) = _said(capsys.readouterr().err)
    assert line.startswith("apply refused: desired/ changed since the plan was made (digest ")
    assert _presence_writes(emulator) == []


def test_apply_of_something_that_is_not_a_plan_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "plan.json"
    bogus.write_text('{"hello": 1}')
    assert main(["apply", str(bogus)]) == 2
    (line,) = _said(capsys.readouterr().err)
    assert "not a plan saved by `presencectl plan --out`" in line


def test_apply_on_a_terminal_asks_and_no_writes_nothing(forced: Forced, emulator: RunningEmulator) -> None:
    terminal = Terminal(["apply", str(forced.directory)], forced.directory.parent, clean_env(forced.env))
    shown = plain(terminal.read_until("Only 'yes' is accepted"))
    assert "-> Busy" in shown and "change(s) for" in shown
    terminal.type("no\n")
    done = terminal.finish()
    assert done.code == 1 and "Apply cancelled: nothing was written." in done.text
    assert _presence_writes(emulator) == []


def test_apply_on_a_terminal_writes_what_it_showed_after_yes(
    forced: Forced, emulator: RunningEmulator
) -> None:
    terminal = Terminal(
        ["apply", str(forced.directory), "--policy", "customer-care-schedule"],
        forced.directory.parent,
        clean_env(forced.env),
    )
    terminal.read_until("Only 'yes' is accepted")
    terminal.type("yes\n")
    done = terminal.finish()
    assert done.code == 0, done.text
    assert all(f"wrote {email} " in done.text for email in forced.emails)
    assert set(forced.emails) <= _written_agents(forced)


def test_apply_yes_on_a_terminal_does_not_ask(forced: Forced) -> None:
    done = Terminal(
        ["apply", str(forced.directory), "--yes"], forced.directory.parent, clean_env(forced.env)
    ).finish()
    assert "Only 'yes'" not in done.text and done.code in (0, 1)
    assert set(forced.emails) <= _written_agents(forced)
