"""`presencectl adherence`: bad ranges fail before any call, one line, exit 2; the outputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from controller.adherence.report import AgentDay, render_csv, render_json, render_table
from controller.cli import main
from tests.adherence.fixture_day import AGENT, DAY, FOLLOWS, fixture_figures

DESIRED = Path(__file__).parent / "desired"


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("2026-11-01", "2026-12-02", "the range is 32 days; at most 31 days at once"),
        ("2026-11-02", "2026-11-01", "--to 2026-11-01 is before --from 2026-11-02"),
        ("2026-11-31", "2026-12-01", "--from/--to must be dates like 2026-11-24"),
    ],
)
def test_a_bad_range_is_one_line_and_exit_2(
    first: str, last: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["adherence", str(DESIRED), "--from", first, "--to", last]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and err[0].startswith("configuration error:")


def test_the_outputs_carry_the_same_figures(tmp_path: Path) -> None:
    days = [AgentDay(FOLLOWS, AGENT, DAY, fixture_figures(tmp_path))]
    table = render_table(days)
    assert "96.11" in table and "0:17:30" in table and "per policy:" in table and "exceptions:" in table
    doc = json.loads(render_json(days))
    (row,) = doc["agentDays"]
    assert row["date"] == "2026-11-24" and row["adherencePercent"] == 96.11 and row["unknownSeconds"] == 1800
    assert [e["systemPresence"] for e in row["exceptions"]] == ["Available", "Break"]
    assert doc["policies"][0]["adherencePercent"] == 96.11
    (line,) = list(csv.DictReader(io.StringIO(render_csv(days))))
    assert line["out_of_adherence_s"] == "1050.0" and line["exceptions"] == "2"
