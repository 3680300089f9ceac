"""deploy/prometheus/alerts.yaml checked by promtool: syntax, and unit tests in which each alert
fires on synthetic series of its failure and none fires on a healthy daemon's series."""

from __future__ import annotations

import subprocess
from typing import Any

import yaml

from tests.deploy.conftest import ALERTS, ALERTS_TEST, require_binary

INSTALL = "apt-get install prometheus"


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_rules() -> None:
    promtool = require_binary("promtool", INSTALL)
    done = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_pass() -> None:
    promtool = require_binary("promtool", INSTALL)
    done = subprocess.run(
        [promtool, "test", "rules", ALERTS_TEST.name],
        cwd=ALERTS_TEST.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_runbook_and_a_firing_and_a_quiet_unit_test() -> None:
    alerts = _alerts()
    names = {a["alert"] for a in alerts}
    for rule in alerts:
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(ALERTS_TEST.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fired == names, f"alerts never shown firing: {names - fired}"
    assert quiet == names, f"alerts never shown quiet: {names - quiet}"
