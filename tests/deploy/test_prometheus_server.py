"""A real Prometheus server scrapes a daemon running on the emulator with drift injected, loads
deploy/prometheus/alerts.yaml, and evaluates every PromQL expression of the rules and of the
Grafana dashboard through its HTTP API: each parses, each rule evaluates without error, and every
dashboard panel (and template variable) returns data.

The drift is chosen so that every panel has data: the first resync runs seconds before a schedule
boundary (boundary -> write), agents change presence by hand (stream event -> correction, event
lag, write -> confirmation) and a 429 burst meets the corrections (429s and retries).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
import yaml

from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.reconciler import Reconciler
from controller.engine.session import Session
from controller.metrics import Metrics
from tests.deploy.conftest import ALERTS, DASHBOARD, require_binary
from tests.engine.conftest import DAY, desired_copy, emulator_clock, open_test_session
from tests.support.net import free_port
from tests.support.waiting import wait_for

JOB = "presencectl"
# What Grafana would put in place of its variables: every instance and policy, and a range that
# spans the whole test, so counters have two samples and histograms see every observation.
GRAFANA_VARIABLES = {
    "$__rate_interval": "2m",
    "$__range": "2m",
    "$__interval": "1s",
    "$job": JOB,
    "$instance": ".*",
    "$policy": ".*",
}
INSTALL = "apt-get install prometheus"
HAND_CHANGES = 4
BOUNDARY_LEAD_SECONDS = 10
RESYNC_SECONDS = 5


def substitute(expr: str) -> str:
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):  # $__range before $__r...
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    assert "$" not in expr, f"a dashboard variable the test does not know: {expr}"
    return expr


def dashboard_panels() -> list[dict[str, Any]]:
    def walk(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in panels:
            yield panel
            yield from walk(panel.get("panels", []))

    return [p for p in walk(json.loads(DASHBOARD.read_text())["panels"]) if p["type"] != "row"]


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule.get("alert") or rule["record"]: rule["expr"] for g in groups for rule in g["rules"]}


class Prometheus:
    def __init__(self, binary: str, target_port: int, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(ALERTS)],
            "scrape_configs": [
                {"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}
            ],
        }
        config_file = workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        self.log = (workdir / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def api(self, path: str, **params: str) -> Any:
        answer = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = answer.json()
        assert body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def ready(self) -> bool:
        assert self.process.poll() is None, "prometheus exited; see prometheus.log in the test's tmp_path"
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def scraped_twice(self) -> bool:
        result = self.api("query", query=f'count_over_time(up{{job="{JOB}"}}[1m]) >= 2 and up == 1')
        return bool(result["result"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def has_data(result: dict[str, Any]) -> bool:
    """A query result with at least one number (a histogram quantile of no observations is NaN)."""
    samples = result["result"] if result["resultType"] in ("vector", "matrix") else [result]
    values = [s["value"][1] for s in samples if "value" in s] + [
        v[1] for s in samples for v in s.get("values", [])
    ]
    return any(not math.isnan(float(v)) for v in values)


class Running(NamedTuple):
    daemon: Daemon
    emu: RunningEmulator
    prometheus: Prometheus


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """Prometheus first (scraping a port nobody serves yet), then the daemon on that port with the
    emulator's clock BOUNDARY_LEAD_SECONDS before a schedule boundary: Prometheus has scraped it
    before the boundary, so the boundary's write shows as a rise in the histogram."""
    binary = require_binary("prometheus", INSTALL)  # skip before starting anything
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "test-webhook-secret-0123456789")
    org = generate_org(agents=60, seed=1, start=DAY - timedelta(days=1), days=3)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        emu.control.set_clock(datetime.combine(DAY, time(10), UTC))
        directory = desired_copy(tmp_path, grace_seconds=0)
        session = open_test_session(emu, directory)
        probe = Reconciler(session.client, session.org_reader, Metrics(), emulator_clock(emu))
        boundary = probe.cycle(session.state, write=False).next_boundary
        assert boundary is not None
        port = free_port()
        prometheus = Prometheus(binary, port, tmp_path)
        try:
            wait_for(prometheus.ready, what="prometheus /-/ready")
            emu.control.set_clock(boundary - timedelta(seconds=BOUNDARY_LEAD_SECONDS))
            config = replace(
                session.state.config,
                audit_path=str(tmp_path / "audit.jsonl"),
                http_bind=f"127.0.0.1:{port}",
                resync_interval_seconds=RESYNC_SECONDS,
            )
            session = Session(session.client, session.org_reader, replace(session.state, config=config))
            daemon = Daemon(str(directory), session, clock=emulator_clock(emu))
            daemon.start()
            try:
                wait_for(lambda: daemon.health().ready, what="the first full resync")
                wait_for(lambda: daemon.wait_streaming(0), "the notification stream")
                yield Running(daemon, emu, prometheus)
            finally:
                daemon.stop()
        finally:
            prometheus.stop()


def drift(running: Running) -> None:
    """The boundary's write (the daemon meets it live), then a 429 burst and agents leaving On
    Queue by hand (grace 0: corrected from the stream). The hand changes wait for the boundary's
    cycle, so their event wake is not coalesced with it."""
    daemon, emu, _ = running
    wait_for(
        lambda: sample(daemon, "presencectl_boundary_to_write_seconds_count") >= 1,
        what="the boundary write",
    )
    live = daemon.client.presence.observe(daemon.org_reader.directory(daemon.now()).by_id)
    on_queue = sorted(u for u, a in live.items() if a.system_presence.value == "OnQueue")
    assert len(on_queue) >= HAND_CHANGES, "too few agents On Queue after the first resync"
    emu.control.faults(burst429={"count": 2, "retryAfter": 1})
    for user_id in on_queue[:HAND_CHANGES]:
        emu.control.set_presence(user_id, "Away")
    wait_for(
        lambda: sample(daemon, "presencectl_event_to_correction_seconds_count") >= 1,
        what="a stream-driven correction",
    )


def sample(daemon: Daemon, name: str) -> float:
    return daemon.metrics.registry.get_sample_value(name) or 0.0


def test_prometheus_scrapes_the_daemon_and_every_rule_and_panel_evaluates(running: Running) -> None:
    prometheus = running.prometheus
    wait_for(prometheus.scraped_twice, what="two scrapes of the daemon")
    assert sample(running.daemon, "presencectl_boundary_to_write_seconds_count") == 0, (
        "the boundary came before Prometheus scraped: raise BOUNDARY_LEAD_SECONDS"
    )
    drift(running)
    check_everything(prometheus, running.daemon)


def check_everything(prometheus: Prometheus, daemon: Daemon) -> None:
    panels = dashboard_panels()
    queries = {f"{p['title']} [{t['refId']}]": substitute(t["expr"]) for p in panels for t in p["targets"]}
    assert len(queries) >= len(panels) > 20

    def empty_panels() -> list[str]:
        return [name for name, expr in queries.items() if not has_data(prometheus.api("query", query=expr))]

    missing: list[str] = []

    def all_panels_have_data() -> bool:
        missing[:] = empty_panels()
        return not missing

    try:
        wait_for(all_panels_have_data, what="data in every dashboard panel")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; panels without data: {missing}") from None

    for expr in rule_expressions().values():  # parses and evaluates (an alert may be empty)
        prometheus.api("query", query=expr)
    wait_for(rules_evaluated(prometheus), what="every rule evaluated once")
    for group in prometheus.api("rules")["groups"]:
        for rule in group["rules"]:
            assert rule["health"] == "ok", f"{rule['name']}: {rule.get('lastError')}"

    variables = [v for v in json.loads(DASHBOARD.read_text())["templating"]["list"] if v["type"] == "query"]
    for variable in variables:
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", substitute(variable["definition"]))
        assert match is not None, variable
        series = prometheus.api("series", **{"match[]": match.group(1)})
        assert any(match.group(2) in s for s in series), f"variable {variable['name']} has no values"
    assert {v["name"] for v in variables} == {"job", "instance", "policy"}


def rules_evaluated(prometheus: Prometheus) -> Callable[[], bool]:
    def check() -> bool:
        rules = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        return len(rules) == len(rule_expressions()) and all(
            not r["lastEvaluation"].startswith("0001-") for r in rules
        )

    return check
