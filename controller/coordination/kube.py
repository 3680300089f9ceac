"""Kubernetes engine: a `coordination.k8s.io/v1` Lease through the official `kubernetes` client,
with the rules of client-go's leader election. The holder renews `renewTime`; another replica
takes over only after it has seen the Lease unchanged for `leaseDurationSeconds` on its own
monotonic clock (no clock comparison across machines), bumping `leaseTransitions`. Every update
carries the resourceVersion it read, so two replicas cannot both win (409 Conflict). The fencing
token is the holder with its `leaseTransitions`: a write batch reads the Lease and compares them.

In-cluster configuration when running in a pod, else the kubeconfig; the service account needs
get, create and update on leases in the namespace. Sharded mode needs the etcd backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from controller.coordination.core import EngineError, Proof
from controller.model.types import Coordination


def default_api() -> Any:
    """CoordinationV1Api from the pod's service account, else the kubeconfig."""
    from kubernetes import client, config

    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        try:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        except (config.ConfigException, OSError) as exc:
            raise EngineError(f"no Kubernetes configuration (in-cluster or kubeconfig): {exc}") from exc
    return client.CoordinationV1Api()


class LeaseBackend:
    name = "kubernetes"

    def __init__(
        self,
        config: Coordination,
        identity: str,
        *,
        api: Any = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from kubernetes import client

        self._models = client
        self.identity = identity
        self._namespace, self._name = config.k8s_namespace, config.k8s_lease_name
        self._duration = config.lease_seconds
        self._timeout = max(0.5, min(5.0, config.lease_seconds / 3))
        self._api = api if api is not None else default_api()
        self._monotonic = monotonic
        self._seen: tuple[str, float] | None = None  # (resourceVersion, when it was first seen)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=self._timeout)
        except ApiException as exc:
            if exc.status in (404, 409):
                raise
            lease = f"{self._namespace}/{self._name}"
            raise EngineError(
                f"Kubernetes refused {what} lease {lease}: HTTP {exc.status} {exc.reason}"
            ) from exc
        except (HTTPError, OSError) as exc:
            raise EngineError(f"Kubernetes API unreachable ({what} lease): {type(exc).__name__}") from exc

    def _read(self) -> Any | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._call("read", self._api.read_namespaced_lease, self._name, self._namespace)
        except ApiException:  # 404: nobody ever held it
            return None

    def _write(self, lease: Any | None, spec: Any) -> Any | None:
        """Create or (with the resourceVersion read) replace; None when another replica won the race."""
        from kubernetes.client.exceptions import ApiException

        try:
            if lease is None:
                body = self._models.V1Lease(
                    metadata=self._models.V1ObjectMeta(name=self._name, namespace=self._namespace), spec=spec
                )
                return self._call("create", self._api.create_namespaced_lease, self._namespace, body)
            lease.spec = spec
            return self._call(
                "update", self._api.replace_namespaced_lease, self._name, self._namespace, lease
            )
        except ApiException:  # 409 Conflict (or the Lease appeared meanwhile): lost the race
            return None

    def _expired(self, lease: Any) -> bool:
        """Unchanged for its duration on our clock since we first saw this version."""
        version = lease.metadata.resource_version
        now = self._monotonic()
        if self._seen is None or self._seen[0] != version:
            self._seen = (version, now)
        duration = lease.spec.lease_duration_seconds or self._duration
        return now - self._seen[1] >= duration

    def renew(self, sharded: bool) -> Proof:
        if sharded:
            raise EngineError("sharded mode needs the etcd backend")
        lease = self._read()
        spec = lease.spec if lease is not None else None
        holder = (spec.holder_identity or "") if spec is not None else ""
        now = datetime.now(UTC)
        transitions = (spec.lease_transitions or 0) if spec is not None else 0
        if spec is not None and holder == self.identity:
            new = self._spec(spec.acquire_time or now, now, transitions)
        elif lease is None or not holder or self._expired(lease):
            transitions = transitions + 1 if lease is not None else 0
            new = self._spec(now, now, transitions)
        else:
            return Proof(False, holder, float(self._duration))
        written = self._write(lease, new)
        if written is None:
            return Proof(False, "", float(self._duration))
        self._seen = (written.metadata.resource_version, self._monotonic())
        return Proof(True, self.identity, float(self._duration), str(transitions))

    def _spec(self, acquired: datetime, renewed: datetime, transitions: int) -> Any:
        return self._models.V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=self._duration,
            acquire_time=acquired,
            renew_time=renewed,
            lease_transitions=transitions,
        )

    def confirm(self, proof: Proof, *, leadership: bool, membership: bool) -> bool:
        lease = self._read()
        if lease is None or lease.spec is None:
            return False
        return bool(
            lease.spec.holder_identity == self.identity
            and str(lease.spec.lease_transitions or 0) == proof.token
        )

    def release(self) -> None:
        lease = self._read()
        if lease is not None and lease.spec is not None and lease.spec.holder_identity == self.identity:
            spec = lease.spec
            spec.holder_identity, spec.lease_duration_seconds = None, 1
            self._write(lease, spec)
