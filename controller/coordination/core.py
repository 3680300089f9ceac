"""Values shared by the coordination state machine and its engines (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    SINGLE = "single"  # backend none: the only replica
    LEADER = "leader"  # holds the lease: writes (and does the cluster-wide work)
    STANDBY = "standby"  # active-standby: keeps caches warm, writes nothing
    MEMBER = "member"  # sharded: writes its own agents; another member does cluster-wide work
    FENCED = "fenced"  # cannot prove its lease (engine unreachable, quorum lost): writes nothing


class EngineError(Exception):
    """The coordination engine could not be reached or refused a request (one line, no secrets)."""


@dataclass(frozen=True, slots=True)
class Proof:
    """What one successful renewal established; `ttl` counts from when the renewal was sent."""

    leader: bool  # holds the leadership key
    holder: str  # who holds it (for humans)
    ttl: float  # seconds the lease is good for
    token: str = ""  # the engine's fencing token of that leadership (etcd: key create revision)
    members: tuple[str, ...] = ()  # live members (sharded mode), sorted
    view: int = 0  # the engine's revision of that membership view


class Backend(Protocol):
    """One coordination engine. Every call raises EngineError when the engine cannot answer."""

    name: str

    def renew(self, sharded: bool) -> Proof:
        """Keep this replica's lease alive, campaign for leadership, (sharded) register and list members."""
        ...

    def confirm(self, proof: Proof, *, leadership: bool, membership: bool) -> bool:
        """Ask the engine, now, whether `proof` still holds (leadership key, membership view)."""
        ...

    def release(self) -> None:
        """Give the lease up (clean shutdown), so another replica takes over at once."""
        ...


@dataclass(frozen=True, slots=True)
class CoordinationStatus:
    role: Role
    identity: str
    reason: str = ""  # why this replica writes nothing, in words (empty while it may write)
    members: tuple[str, ...] = ()  # live members (sharded mode)


def rendezvous_owner(key: str, members: Sequence[str]) -> str | None:
    """Highest-random-weight hashing (pure): a member joining or leaving moves only its share."""
    if not members:
        return None
    return max(members, key=lambda m: hashlib.blake2b(f"{m}\0{key}".encode(), digest_size=8).digest())
