"""`presencectl emulator` as a real process."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "controller", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_emulator_command_prints_urls_first_and_stops_on_sigterm() -> None:
    process = _spawn("emulator", "--agents", "10", "--client-id", "me", "--client-secret", "my-secret-1")
    try:
        assert process.stdout is not None
        first = process.stdout.readline().split()
        assert first[0] == "API" and first[2] == "STREAMING"
        api_base, ws_base = first[1], first[3]
        assert api_base.startswith("http://127.0.0.1:") and ws_base == api_base.replace("http://", "ws://")
        assert "10 agents" in process.stdout.readline()
        token = requests.post(
            f"{api_base}/oauth/token",
            auth=("me", "my-secret-1"),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert requests.get(f"{api_base}/api/v2/users", headers=headers, timeout=10).json()["total"] == 10
        process.send_signal(signal.SIGTERM)
        assert process.wait() == 0
    finally:
        process.kill()
        process.communicate()


def test_emulator_command_reports_a_missing_org_file() -> None:
    process = _spawn("emulator", "--org", "/nonexistent/org.yaml")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2 and "org" in err
