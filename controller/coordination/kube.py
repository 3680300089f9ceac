"""Kubernetes engine: `coordination.k8s.io/v1` Leases through the official `kubernetes` client,
with the rules of client-go's leader election. The holder renews `renewTime`; another replica
takes over only after it has seen the Lease unchanged for `leaseDurationSeconds` on its own
monotonic clock (no clock comparison across machines), bumping `leaseTransitions`. Every update
carries the resourceVersion it read, so two replicas cannot both win (409 Conflict). The fencing
token is the holder with its `leaseTransitions`: a write batch reads the Lease and compares them.
Sharded mode adds one Lease per member (`kube_members.py`).

In-cluster configuration when running in a pod, else the kubeconfig; the service account needs
get, list, create and update on leases in the namespace (deploy/kubernetes/role.yaml).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from controller.coordination.core import EngineError, Proof
from controller.coordination.kube_members import LeaseMembership
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


class LeaseClient:
    """The Lease calls of one namespace, failures as one-line EngineErrors (404 and 409 are answers)."""

    def __init__(self, api: Any, namespace: str, timeout: float) -> None:
        from kubernetes import client

        self.models = client
        self._api, self.namespace, self._timeout = api, namespace, timeout

    def _call(self, what: str, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as exc:
            if exc.status in (404, 409):
                raise
            lease = f"{self.namespace}/{name}"
            raise EngineError(
                f"Kubernetes refused {what} lease {lease}: HTTP {exc.status} {exc.reason}"
            ) from exc
        except (HTTPError, OSError) as exc:
            raise EngineError(f"Kubernetes API unreachable ({what} lease): {type(exc).__name__}") from exc

    def read(self, name: str) -> Any | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._call("read", name, self._api.read_namespaced_lease, name, self.namespace)
        except ApiException:  # 404: nobody ever held it
            return None

    def list(self, selector: str) -> list[Any]:
        listed = self._call(
            "list", selector, self._api.list_namespaced_lease, self.namespace, label_selector=selector
        )
        return list(listed.items or [])

    def write(
        self, lease: Any | None, name: str, spec: Any, labels: dict[str, str] | None = None
    ) -> Any | None:
        """Create or (with the resourceVersion read) replace; None when another replica won the race."""
        from kubernetes.client.exceptions import ApiException

        try:
            if lease is None:
                meta = self.models.V1ObjectMeta(name=name, namespace=self.namespace, labels=labels)
                body = self.models.V1Lease(metadata=meta, spec=spec)
                return self._call("create", name, self._api.create_namespaced_lease, self.namespace, body)
            lease.spec = spec
            return self._call("update", name, self._api.replace_namespaced_lease, name, self.namespace, lease)
        except ApiException:  # 409 Conflict (or the Lease appeared meanwhile): lost the race
            return None

    def spec(self, holder: str | None, duration: int, acquired: datetime, transitions: int) -> Any:
        return self.models.V1LeaseSpec(
            holder_identity=holder,
            lease_duration_seconds=duration,
            acquire_time=acquired,
            renew_time=datetime.now(UTC),
            lease_transitions=transitions,
        )


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
        self.identity = identity
        self._name = config.k8s_lease_name
        self._duration = config.lease_seconds
        timeout = max(0.5, min(5.0, config.lease_seconds / 3))
        self._leases = LeaseClient(api if api is not None else default_api(), config.k8s_namespace, timeout)
        self._monotonic = monotonic
        self._seen: tuple[str, float] | None = None  # (resourceVersion, when it was first seen)
        self._members = LeaseMembership(self._leases, self._name, identity, self._duration, monotonic)

    def _expired(self, lease: Any) -> bool:
        """Unchanged for its duration on our clock since we first saw this version."""
        version = lease.metadata.resource_version
        now = self._monotonic()
        if self._seen is None or self._seen[0] != version:
            self._seen = (version, now)
        duration = lease.spec.lease_duration_seconds or self._duration
        return now - self._seen[1] >= duration

    def _campaign(self) -> tuple[bool, str, str]:
        """(leader, holder, fencing token) after one try to hold or take the leadership Lease."""
        lease = self._leases.read(self._name)
        spec = lease.spec if lease is not None else None
        holder = (spec.holder_identity or "") if spec is not None else ""
        now = datetime.now(UTC)
        transitions = (spec.lease_transitions or 0) if spec is not None else 0
        if spec is not None and holder == self.identity:
            acquired = spec.acquire_time or now
        elif lease is None or not holder or self._expired(lease):
            acquired, transitions = now, (transitions + 1 if lease is not None else 0)
        else:
            return False, holder, ""
        new = self._leases.spec(self.identity, self._duration, acquired, transitions)
        written = self._leases.write(lease, self._name, new)
        if written is None:
            return False, "", ""
        self._seen = (written.metadata.resource_version, self._monotonic())
        return True, self.identity, str(transitions)

    def renew(self, sharded: bool) -> Proof:
        leader, holder, token = self._campaign()
        members, view = self._members.renew() if sharded else ((), 0)
        return Proof(leader, holder, float(self._duration), token, members, view)

    def confirm(self, proof: Proof, *, leadership: bool, membership: bool) -> bool:
        if leadership:
            lease = self._leases.read(self._name)
            if lease is None or lease.spec is None:
                return False
            if (
                lease.spec.holder_identity != self.identity
                or str(lease.spec.lease_transitions or 0) != proof.token
            ):
                return False
        return not membership or self._members.confirm(proof.view)

    def release(self) -> None:
        self._members.release()
        lease = self._leases.read(self._name)
        if lease is not None and lease.spec is not None and lease.spec.holder_identity == self.identity:
            spec = lease.spec
            spec.holder_identity, spec.lease_duration_seconds = None, 1
            self._leases.write(lease, self._name, spec)
