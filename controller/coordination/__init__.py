"""Coordination of replicas that share one org (docs: README "Deployment shapes").

Public API:
- `Coordinator` (protocol) and `Solo` (backend `none`: one process, always allowed to write).
- `Elector(backend, mode, lease_seconds, identity, metrics)`: the one state machine behind every
  engine (`etcd.EtcdBackend`, `kube.LeaseBackend`): campaign and renew on a ticker, and prove
  the lease before every write batch (fencing).
- `build_coordinator(config, metrics, identity=None)`, `replica_identity()`.
- `rendezvous_owner(key, members)` (pure): the member that owns `key`.

Fencing: a replica writes only while it can *prove* it holds the lease. The local proof is a
monotonic deadline, the send time of the last successful renewal plus the lease TTL (the engine
expires the lease no earlier than that, so the deadline passes before anyone else can take
over); each write batch additionally asks the engine (etcd: a transaction comparing the
leadership key's create revision), and the deadline is checked once more right before every
write attempt goes on the wire (`holds`, the client's write guard), after the waits that
can follow the batch's check (the rate budget, a 429 pause, a 5xx retry). A process paused past
its deadline (SIGSTOP) therefore sends nothing on waking. The remaining window is the instant
between that check and the socket write, and a request already on the wire when the pause hits:
Genesys Cloud takes no fencing token, so no client can close it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Protocol

from controller.coordination.core import (
    Backend,
    CoordinationStatus,
    EngineError,
    Proof,
    Role,
    rendezvous_owner,
)
from controller.coordination.elector import Elector
from controller.failures import LocalConfigError
from controller.metrics import Metrics
from controller.model.types import Coordination

__all__ = [
    "Backend",
    "CoordinationStatus",
    "Coordinator",
    "Elector",
    "EngineError",
    "Proof",
    "Role",
    "Solo",
    "build_coordinator",
    "rendezvous_owner",
    "replica_identity",
]


class Coordinator(Protocol):
    identity: str
    on_change: Callable[[], None]  # called (on the coordination thread) when role or members change

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def status(self) -> CoordinationStatus: ...
    def may_write(self) -> bool:
        """Proof, now, that this replica may write presence (checked before every write batch)."""
        ...

    def may_write_cluster(self) -> bool:
        """Proof, now, that this replica is the elected one for cluster-wide work (triggers)."""
        ...

    def holds(self) -> bool:
        """The local part of the proof alone (no I/O): the client's write guard, asked right
        before each presence or trigger write attempt goes on the wire
        (GenesysClient.set_write_guard), after the budget's wait and any retry pause."""
        ...

    def owns(self, user_id: str) -> bool:
        """Whether this replica writes `user_id` (always, except in sharded mode)."""
        ...


class Solo:
    """Backend `none`: the only replica; it always writes."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.on_change: Callable[[], None] = lambda: None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def status(self) -> CoordinationStatus:
        return CoordinationStatus(Role.SINGLE, self.identity)

    def may_write(self) -> bool:
        return True

    def may_write_cluster(self) -> bool:
        return True

    def holds(self) -> bool:
        return True

    def owns(self, user_id: str) -> bool:
        return True


def replica_identity() -> str:
    """`PRESENCECTL_IDENTITY`, else `hostname-pid`."""
    return os.environ.get("PRESENCECTL_IDENTITY") or f"{socket.gethostname()}-{os.getpid()}"


def build_coordinator(config: Coordination, metrics: Metrics, identity: str | None = None) -> Coordinator:
    me = identity or replica_identity()
    if config.backend == "none":
        metrics.leader.set(1)
        return Solo(me)
    backend: Backend
    if config.backend == "etcd":
        from controller.coordination.etcd import EtcdBackend

        backend = EtcdBackend(config, me)
    else:
        from controller.coordination.kube import LeaseBackend

        try:
            backend = LeaseBackend(config, me)
        except EngineError as exc:
            raise LocalConfigError(f"coordination backend kubernetes: {exc}") from exc
    return Elector(backend, config.mode, config.lease_seconds, me, metrics)
