"""Sharded membership on Kubernetes: one Lease per member, labelled with the org's leadership
Lease name, renewed with the leadership Lease. A member is live while its Lease keeps changing:
another replica drops it once it has seen that Lease unchanged for `leaseDurationSeconds` on its
own monotonic clock (client-go's rule; no clock comparison across machines), and at once when
its holder gives it up (clean shutdown). A member whose own renewals lapsed for a duration
rejoins with a new `acquireTime`, so the others see a join, not the old membership continuing.

Fencing (as etcd's "nobody joined since my view"): a view is the set of (holder, acquireTime)
of every held member Lease listed with it; before a write batch the member lists again and
writes only if its own Lease is still its membership and no Lease shows a pair outside the view.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from controller.coordination.core import EngineError

if TYPE_CHECKING:
    from controller.coordination.kube import LeaseClient

MEMBER_LABEL = "presencectl.io/members-of"
_VIEWS_KEPT = 4  # a proof being confirmed is one of the last few renewals


def _dns_safe(text: str, limit: int) -> str:
    """`text` as a DNS label (lower case, [a-z0-9-]), with a hash when it had to change."""
    safe = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if safe == text and len(text) <= limit:
        return text
    digest = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
    return f"{safe[: limit - 9].rstrip('-')}-{digest}".lstrip("-")


def member_lease_name(group: str, identity: str) -> str:
    return _dns_safe(f"{group}-member-{identity}", 253)


def _generation(lease: Any) -> tuple[str, str]:
    acquired = lease.spec.acquire_time
    return lease.spec.holder_identity, acquired.isoformat() if acquired is not None else ""


class LeaseMembership:
    def __init__(
        self, leases: LeaseClient, group: str, identity: str, duration: int, monotonic: Callable[[], float]
    ) -> None:
        self.identity = identity
        self._leases, self._duration, self._monotonic = leases, duration, monotonic
        self._name = member_lease_name(group, identity)
        self._labels = {MEMBER_LABEL: _dns_safe(group, 63)}
        self._selector = f"{MEMBER_LABEL}={self._labels[MEMBER_LABEL]}"
        self._mine: tuple[str, str] | None = None  # (holder, acquireTime) of this membership
        self._renewed: float | None = None  # monotonic send time of the last successful renewal
        self._seen: dict[str, tuple[str, float]] = {}  # Lease name -> (resourceVersion, first seen)
        self._views: dict[int, frozenset[tuple[str, str]]] = {}
        self._view = 0

    def renew(self) -> tuple[tuple[str, ...], int]:
        """Renew (or rejoin with) this member's Lease, then list the live members: (members, view)."""
        sent = self._monotonic()
        lease = self._leases.read(self._name)
        spec = lease.spec if lease is not None else None
        continuous = (
            spec is not None
            and self._mine is not None
            and _generation(lease) == self._mine
            and self._renewed is not None
            and sent - self._renewed < self._duration
        )
        transitions = (spec.lease_transitions or 0) if spec is not None else 0
        if continuous and spec is not None:
            acquired = spec.acquire_time
        else:  # a (re)join: a new generation the others' views do not have
            acquired = datetime.now(UTC)
            transitions = transitions + 1 if spec is not None else 0
        written = self._leases.write(
            lease,
            self._name,
            self._leases.spec(self.identity, self._duration, acquired, transitions),
            self._labels,
        )
        if written is None:
            raise EngineError(f"member lease {self._leases.namespace}/{self._name} changed meanwhile (409)")
        self._mine, self._renewed = _generation(written), sent
        return self._list()

    def _live(self, lease: Any, now: float) -> bool:
        name, version = lease.metadata.name, lease.metadata.resource_version
        seen = self._seen.get(name)
        if seen is None or seen[0] != version:
            self._seen[name] = (version, now)
            return True
        return now - seen[1] < (lease.spec.lease_duration_seconds or self._duration)

    def _list(self) -> tuple[tuple[str, ...], int]:
        now = self._monotonic()
        held = [x for x in self._leases.list(self._selector) if x.spec is not None and x.spec.holder_identity]
        members = {
            x.spec.holder_identity for x in held if x.metadata.name == self._name or self._live(x, now)
        }
        self._view += 1
        self._views[self._view] = frozenset(_generation(x) for x in held)
        self._views.pop(self._view - _VIEWS_KEPT, None)
        return tuple(sorted(members)), self._view

    def confirm(self, view: int) -> bool:
        """Still this membership, and nobody joined (or rejoined) since `view`."""
        known = self._views.get(view)
        if known is None or self._mine is None:
            return False
        held = [x for x in self._leases.list(self._selector) if x.spec is not None and x.spec.holder_identity]
        mine = [x for x in held if x.metadata.name == self._name]
        return (
            bool(mine) and _generation(mine[0]) == self._mine and all(_generation(x) in known for x in held)
        )

    def release(self) -> None:
        """Give the membership up (clean shutdown): the others drop this member at their next renewal."""
        if self._mine is None:
            return
        self._mine = None
        lease = self._leases.read(self._name)
        if lease is not None and lease.spec is not None and lease.spec.holder_identity == self.identity:
            spec = lease.spec
            spec.holder_identity, spec.lease_duration_seconds = None, 1
            self._leases.write(lease, self._name, spec, self._labels)
