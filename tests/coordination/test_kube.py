"""The Kubernetes Lease engine behind the same state machine, through the official client,
against a Lease endpoint whose requests and answers go through the client's V1Lease model
(tests/coordination/lease_server.py; no kube-apiserver is on PATH here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

pytest.importorskip(
    "kubernetes", reason="the kubernetes client is a test dependency: pip install -e '.[test]'"
)

from controller.coordination import Elector, Role
from controller.coordination.kube import LeaseBackend
from controller.metrics import Metrics
from controller.model.types import Coordination
from tests.coordination.electors import Clock
from tests.coordination.lease_server import LeaseServer

CONFIG = replace(
    Coordination(),
    backend="kubernetes",
    lease_seconds=6,
    k8s_namespace="presencectl",
    k8s_lease_name="demo-org",
)


@pytest.fixture
def server() -> Iterator[LeaseServer]:
    running = LeaseServer()
    yield running
    running.stop()


def elector(server: LeaseServer, name: str, clock: Clock, metrics: Metrics | None = None) -> Elector:
    backend = LeaseBackend(CONFIG, name, api=server.coordination_api(), monotonic=clock)
    return Elector(
        backend, "active-standby", CONFIG.lease_seconds, name, metrics or Metrics(), monotonic=clock
    )


def test_the_standby_takes_over_only_after_the_lease_went_unrenewed_for_its_duration(
    server: LeaseServer,
) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = elector(server, "a", clock_a), elector(server, "b", clock_b)
    a.tick()
    b.tick()
    assert a.status().role is Role.LEADER and a.may_write()
    assert b.status().role is Role.STANDBY and not b.may_write()
    lease = server.leases[("presencectl", "demo-org")]
    assert lease.spec.holder_identity == "a" and lease.spec.lease_duration_seconds == 6
    assert lease.spec.renew_time is not None and lease.spec.lease_transitions == 0
    clock_b.now += 5  # renewed or not, not yet a full duration as b sees it
    b.tick()
    assert b.status().role is Role.STANDBY
    # a stops renewing (paused): once b has seen the Lease unchanged for its duration, b takes it.
    clock_b.now += 6
    b.tick()
    assert b.status().role is Role.LEADER and b.may_write()
    assert server.leases[("presencectl", "demo-org")].spec.lease_transitions == 1
    # a wakes with time left on its clock: the per-batch read shows another holder.
    assert not a.may_write()
    a.tick()
    assert a.status().role is Role.STANDBY and "b holds the lease" in a.status().reason


def test_a_renewing_leader_keeps_the_lease_and_a_clean_stop_hands_it_over(server: LeaseServer) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = elector(server, "a", clock_a), elector(server, "b", clock_b)
    a.tick()
    for _ in range(4):  # a renews every third of the duration; b never sees it unchanged for long
        clock_a.now += 2
        clock_b.now += 2
        a.tick()
        b.tick()
        assert b.status().role is Role.STANDBY and a.may_write()
    a.stop()  # releases: holder cleared, duration 1 s
    assert server.leases[("presencectl", "demo-org")].spec.holder_identity is None
    b.tick()
    assert b.status().role is Role.LEADER


def test_an_unreachable_api_server_fences_the_leader_and_says_why(server: LeaseServer) -> None:
    clock = Clock()
    metrics = Metrics()
    a = elector(server, "a", clock, metrics)
    a.tick()
    assert a.may_write() and metrics.registry.get_sample_value("presencectl_leader") == 1
    server.down = True
    clock.now += 2
    a.tick()  # the renewal fails; the last proof still counts until its deadline...
    assert a.status().role is Role.LEADER
    assert not a.may_write()  # ...but the per-batch read cannot confirm it
    clock.now += 6
    a.tick()
    status = a.status()
    assert (
        status.role is Role.FENCED
        and "Kubernetes refused read lease presencectl/demo-org: HTTP 503" in status.reason
    )
    assert metrics.registry.get_sample_value("presencectl_leader") == 0
