"""`presencectl plan --output markdown`: the pull-request comment (examples/github-actions/)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from controller.cli import main
from controller.emulator.server import RunningEmulator
from controller.engine.reconciler import CycleResult, Reconciler
from controller.engine.render import MARKDOWN_OPEN_ROWS, plan_markdown
from controller.metrics import Metrics
from tests.engine.conftest import DAY, DESIRED, emulator_clock, open_test_session


def _plan(emu: RunningEmulator) -> CycleResult:
    session = open_test_session(emu)
    return Reconciler(session.client, session.org_reader, Metrics(), emulator_clock(emu)).cycle(
        session.state, write=False
    )


def _table_rows(text: str, first_header: str) -> list[list[str]]:
    """Body rows of the Markdown table whose first header cell is `first_header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("| "):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_summary_by_policy_and_presence_comes_first_then_the_change_table(
    day_emulator: RunningEmulator,
) -> None:
    result = _plan(day_emulator)
    changes = len(result.plan.actions)
    assert 0 < changes <= MARKDOWN_OPEN_ROWS, "the demo org at 10:00 has a short plan"
    text = plan_markdown(result)
    assert text.startswith(f"**presencectl plan**: {changes} presence change(s) for {result.plan.managed}")
    summary = _table_rows(text, "policy")
    assert sum(int(row[3]) for row in summary) == changes
    assert {(row[0], row[1]) for row in summary} == {(a.policy, a.to.name) for a in result.plan.actions}
    assert text.index("| policy |") < text.index("| agent |"), "summary before the table"
    table = _table_rows(text, "agent")
    assert len(table) == changes and "<details>" not in text
    assert all(re.search(r"\.yaml:\d+:\d+$", row[6]) for row in table), "each row names its rule"


def test_a_long_plan_folds_its_table_but_keeps_the_summary_open(day_emulator: RunningEmulator) -> None:
    # 16:00 UTC: Europe's afternoon and New York's morning, most agents logged in and to be moved.
    day_emulator.control.set_clock(datetime.combine(DAY, time(16), UTC))
    result = _plan(day_emulator)
    assert len(result.plan.actions) > MARKDOWN_OPEN_ROWS
    text = plan_markdown(result)
    summary_end = text.index("<details>")
    assert "| policy | desired presence | mode | agents |" in text[:summary_end]
    assert f"<summary>All {len(result.plan.actions)} changes</summary>" in text
    assert len(_table_rows(text, "agent")) == len(result.plan.actions)
    assert text.index("</details>") > text.index("<details>")


def test_the_cli_prints_markdown_and_keeps_the_plan_exit_codes(
    day_emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = day_emulator
    (tmp_path / "id").write_text(emu.client_id)
    (tmp_path / "secret").write_text(emu.client_secret)
    connection = ["--api-base", emu.api_base, "--login-base", emu.login_base]
    connection += ["--client-id-file", str(tmp_path / "id"), "--client-secret-file", str(tmp_path / "secret")]
    code = main(["plan", str(DESIRED), "--output", "markdown", *connection])
    out = capsys.readouterr().out
    match = re.match(r"\*\*presencectl plan\*\*: (\d+) presence change\(s\).*, (\d+) trigger change", out)
    assert match is not None, out
    changes, trigger_changes = int(match.group(1)), int(match.group(2))
    assert code == (1 if changes or trigger_changes else 0)
    assert len(_table_rows(out, "agent")) == changes if changes else "| agent |" not in out
