"""In-process electors on a real etcd with an injected monotonic clock (a paused process is one
whose clock jumped), shared by the coordination tests."""

from __future__ import annotations

from dataclasses import replace

from controller.coordination import Elector
from controller.coordination.etcd import EtcdBackend
from controller.metrics import Metrics
from controller.model.types import Coordination
from tests.coordination.etcd_cluster import EtcdCluster

METRICS: dict[str, Metrics] = {}  # each replica's metrics, by identity


class Clock:
    """An injected monotonic clock: a paused process is one whose clock jumped."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def elector(etcd: EtcdCluster, name: str, clock: Clock, mode: str = "active-standby") -> Elector:
    config = replace(
        Coordination(), backend="etcd", mode=mode, lease_seconds=2, etcd_endpoints=tuple(etcd.client_urls)
    )
    METRICS[name] = Metrics()
    return Elector(EtcdBackend(config, name), mode, 2, name, METRICS[name], monotonic=clock)


def metric(e: Elector, name: str) -> float:
    return METRICS[e.identity].registry.get_sample_value(name) or 0.0
