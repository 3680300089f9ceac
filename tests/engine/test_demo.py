"""`make demo` as a newcomer runs it: emulator + daemon on the example desired/, Ctrl-C stops."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from controller.commands.demo import DEMO_TIME, demo_start

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def test_demo_corrects_agents_prints_a_summary_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", "demo", str(DESIRED), "--agents", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,  # the example's audit path is relative: keep it out of the checkout
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("emulator  API http://127.0.0.1:")
        assert "metrics http://127.0.0.1:" in process.stdout.readline()
        summary = process.stdout.readline()
        while "drift:" in summary:
            summary = process.stdout.readline()
        assert "in line" in summary and "next boundary" in summary
        corrected = int(summary.split("corrected ")[1].split()[0])
        assert corrected > 0, summary
        process.send_signal(signal.SIGINT)
        out, err = process.communicate()  # it finishes its in-flight writes first: no wall-clock limit
        assert process.returncode == 0, err[-2000:]
        assert "demo stopped:" in out
        assert (tmp_path / "audit" / "audit.jsonl").stat().st_size > 0
    finally:
        process.kill()
        process.communicate()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_the_demo_runs_on_the_latest_weekday_afternoon_whatever_the_day(today: date) -> None:
    """The example desired/ has opinions on weekday office hours: a demo started on a weekend or
    at night runs on a weekday afternoon, so it has a floor to correct (and its test no hour)."""
    start = demo_start(today)
    assert start.weekday() < 5
    assert today - timedelta(days=2) <= start.date() <= today
    assert start.date() == today or today.weekday() >= 5
    assert start.timetz() == DEMO_TIME
