"""`make demo` as a newcomer runs it: emulator + daemon on the example desired/, Ctrl-C stops."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

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
