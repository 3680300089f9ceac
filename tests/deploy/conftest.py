"""Paths of the deploy/ and examples/ files, and how a test finds the real tool that consumes them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# The engine's 60-agent emulator at 10:00 UTC on a future Tuesday, for the image's daemon run.
from tests.engine.conftest import day_emulator  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
ALERTS_TEST = DEPLOY / "prometheus" / "alerts_test.yaml"
DASHBOARD = DEPLOY / "grafana" / "presencectl.json"


def require_binary(name: str, install: str) -> str:
    """The tool's path, or skip saying how to install it (.ci/run installs it on CI machines)."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not on PATH; install it with: {install}")
    return path
