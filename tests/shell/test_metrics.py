"""Metrics: names, types, labels and exposition validity (prometheus_client's parser, and
`promtool check metrics` when promtool is installed)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from controller.core.presence import SystemPresence
from controller.metrics import Metrics, default_metrics, status_class

EXPECTED_FAMILIES = {
    "presencectl_reconcile_duration_seconds": ("histogram", set()),
    "presencectl_reconcile_cycles": ("counter", {"result"}),
    "presencectl_managed_agents": ("gauge", set()),
    "presencectl_agents_out_of_desired": ("gauge", {"policy"}),
    "presencectl_agents_unobserved": ("gauge", {"policy"}),
    "presencectl_agents_skipped": ("gauge", {"reason"}),
    "presencectl_agents_in_desired": ("gauge", {"policy"}),
    "presencectl_corrections": ("counter", {"presence", "result"}),
    "presencectl_plans_held": ("counter", set()),
    "presencectl_api_calls": ("counter", {"endpoint", "status_class"}),
    "presencectl_api_retries": ("counter", {"endpoint"}),
    "presencectl_api_rate_limited": ("counter", {"endpoint"}),
    "presencectl_api_call_duration_seconds": ("histogram", {"endpoint"}),
    "presencectl_event_lag_seconds": ("histogram", set()),
    "presencectl_boundary_to_write_seconds": ("histogram", set()),
    "presencectl_write_to_event_seconds": ("histogram", set()),
    "presencectl_event_to_correction_seconds": ("histogram", set()),
    "presencectl_next_boundary_timestamp_seconds": ("gauge", set()),
    "presencectl_last_successful_resync_timestamp_seconds": ("gauge", set()),
    "presencectl_webhook_requests": ("counter", {"result"}),
    "presencectl_adherence_ratio": ("gauge", {"policy"}),
    "presencectl_agents_in_desired_ratio": ("gauge", {"policy"}),
    "presencectl_adherence_export_batches": ("counter", {"result"}),
    "presencectl_adherence_export_oldest_spooled_seconds": ("gauge", set()),
    "presencectl_stream_connected": ("gauge", set()),
    "presencectl_stream_topics": ("gauge", {"state"}),
    "presencectl_triggers": ("gauge", {"state"}),
    "presencectl_trigger_changes": ("counter", {"action", "result"}),
    "presencectl_audit_writable": ("gauge", set()),
    "presencectl_audit_write_failures": ("counter", set()),
    "presencectl_desired_state_valid": ("gauge", set()),
    "presencectl_resync_interval_seconds": ("gauge", set()),
    "presencectl_rate_budget_per_minute": ("gauge", set()),
    "presencectl_desired_reloads": ("counter", {"result"}),
    "presencectl_leader": ("gauge", set()),
    "presencectl_leader_transitions": ("counter", set()),
    "presencectl_fenced_writes": ("counter", set()),
}
BULK = "/api/v2/users/presences/bulk"


def exercised() -> Metrics:
    m = Metrics()
    m.observe_cycle("ok", 0.2)
    m.observe_cycle("failed", 3.0)
    m.managed_agents.set(120)
    m.agents_out_of_desired.labels(policy="front-line").set(4)
    m.agents_unobserved.labels(policy="front-line").set(2)
    m.agents_skipped.labels(reason="logged-out").set(3)
    m.agents_in_desired.labels(policy="front-line").set(110)
    m.observe_correction(SystemPresence.ON_QUEUE, "ok")
    m.observe_correction(SystemPresence.BREAK, "failed")
    m.plans_held_total.inc()
    m.observe_api_call(BULK, 200, 0.05)
    m.observe_api_call(BULK, 200, 2.5, retries=2, rate_limited=2)
    m.observe_api_call("/api/v2/users/{userId}/presences/purecloud", None, 30.0, retries=5)
    m.event_lag_seconds.observe(0.3)
    m.boundary_to_write_seconds.observe(0.4)
    m.write_to_event_seconds.observe(0.1)
    m.event_to_correction_seconds.observe(0.2)
    m.next_boundary_timestamp_seconds.set(1_795_000_000)
    m.last_successful_resync_timestamp_seconds.set(1_794_999_000)
    m.webhook_requests_total.labels(result="accepted").inc()
    m.adherence_ratio.labels(policy="front-line").set(0.95)
    m.agents_in_desired_ratio.labels(policy="front-line").set(0.9)
    m.stream_connected.set(1)
    m.observe_triggers({"in_sync": 1, "missing": 1}, [("create", "ok"), ("create", "skipped")])
    m.audit_write_failures_total.inc()
    m.desired_state_valid.set(1)
    m.resync_interval_seconds.set(60)
    m.rate_budget_per_minute.set(300)
    return m


def families(m: Metrics) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(m.render().decode())}


def test_every_metric_is_exposed_with_its_type_and_labels() -> None:
    fams = families(exercised())
    assert set(fams) == set(EXPECTED_FAMILIES)
    for name, (kind, labels) in EXPECTED_FAMILIES.items():
        fam = fams[name]
        assert fam.type == kind, name  # type: ignore[attr-defined]
        seen = set().union(*(s.labels.keys() for s in fam.samples)) - {"le"}  # type: ignore[attr-defined]
        assert seen == labels, name
        assert "agent" not in seen and "user_id" not in seen


def sample(m: Metrics, name: str, **labels: str) -> float:
    for fam in text_string_to_metric_families(m.render().decode()):
        for s in fam.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    raise AssertionError(f"no sample {name} {labels}")


def test_api_call_adapter_counts_calls_retries_and_429s() -> None:
    m = exercised()
    assert sample(m, "presencectl_api_calls_total", endpoint=BULK, status_class="2xx") == 2
    assert sample(m, "presencectl_api_retries_total", endpoint=BULK) == 2
    assert sample(m, "presencectl_api_rate_limited_total", endpoint=BULK) == 2
    assert sample(m, "presencectl_api_call_duration_seconds_count", endpoint=BULK) == 2
    single = "/api/v2/users/{userId}/presences/purecloud"
    assert sample(m, "presencectl_api_calls_total", endpoint=single, status_class="error") == 1
    assert sample(m, "presencectl_api_call_duration_seconds_bucket", endpoint=single, le="10.0") == 0
    assert sample(m, "presencectl_api_call_duration_seconds_bucket", endpoint=single, le="30.0") == 1


def test_known_label_values_start_at_zero_and_unknown_ones_are_refused() -> None:
    m = Metrics()
    assert sample(m, "presencectl_reconcile_cycles_total", result="held") == 0
    assert sample(m, "presencectl_webhook_requests_total", result="bad_signature") == 0
    with pytest.raises(ValueError, match="cycle result"):
        m.observe_cycle("weird", 1.0)
    with pytest.raises(ValueError, match="correction result"):
        m.observe_correction(SystemPresence.AWAY, "maybe")


def test_instances_are_independent_and_default_is_shared() -> None:
    a, b = Metrics(), Metrics()
    a.plans_held_total.inc()
    assert sample(a, "presencectl_plans_held_total") == 1
    assert sample(b, "presencectl_plans_held_total") == 0
    assert default_metrics() is default_metrics()


@pytest.mark.parametrize(
    ("status", "expected"), [(200, "2xx"), (429, "4xx"), (503, "5xx"), (None, "error"), (0, "error")]
)
def test_status_class(status: int | None, expected: str) -> None:
    assert status_class(status) == expected


def test_promtool_check_metrics() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip(
            "promtool not on PATH (Debian: apt-get install prometheus); parser checks above still ran"
        )
    done = subprocess.run(
        [promtool, "check", "metrics"],
        input=exercised().render(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr).decode()
    assert done.stdout.strip() == b"" and done.stderr.strip() == b"", "promtool lint findings"
