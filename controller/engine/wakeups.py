"""Why the daemon wakes, and how pending wake-ups coalesce into one cycle (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class WakeReason(StrEnum):
    START = "start"
    BOUNDARY = "boundary"  # a managed agent's desired presence changes now
    RESYNC = "resync"  # periodic full resync (jittered)
    DESIRED = "desired"  # desired/ changed on disk
    EVENT = "event"  # a notification (stream) named agents
    WEBHOOK = "webhook"  # a signed webhook delivery named agents
    POLL = "poll"  # the stream is down (poll everyone) or refused some topics (poll those agents)
    BACKOFF = "backoff"  # a backed-off agent is due again
    RECHECK = "recheck"  # an agent's grace or tolerated break ends
    TRIGGERS = "triggers"  # the trigger-reconcile cadence: keep the declared triggers in existence


@dataclass(frozen=True, slots=True)
class Wake:
    reason: WakeReason
    agents: frozenset[str] | None = None  # None: every managed agent (a full resync); empty: none
    # The boundary instant, or when the event was received: always on the daemon's clock
    # (Daemon.now(): the wall clock in production, the emulator's in time-travel tests), never
    # the wall clock beside it, so wake-ups sort and coalesce on one time line.
    at: datetime | None = None
    triggers: bool = False  # also reconcile the EventSubscription triggers
    # A full resync whose reads were made off the worker, into the observed cache, from this
    # instant on: plan everyone against those entries (None: read everyone now).
    read_since: datetime | None = None

    @property
    def full(self) -> bool:
        return self.agents is None

    @property
    def plans_presence(self) -> bool:
        """False for a trigger-only wake (no agent to plan)."""
        return self.agents is None or bool(self.agents)


def triggers_wake() -> Wake:
    """The trigger cadence's wake: triggers only, no presence cycle."""
    return Wake(WakeReason.TRIGGERS, frozenset(), triggers=True)


def coalesce(wakes: Sequence[Wake]) -> Wake:
    """One wake that covers all of `wakes`: full if any is full; agents united otherwise.

    The reason kept is the most specific for latency accounting: a boundary (its instant is what
    boundary -> write measures), else the earliest event, else the first. Triggers are reconciled
    when any wake asks for it. A full wake plans against a background read only when every full
    wake of the batch came from one.
    """
    if not wakes:
        raise ValueError("nothing to coalesce")
    boundaries = [w for w in wakes if w.reason is WakeReason.BOUNDARY]
    timed = sorted((w for w in wakes if w.at is not None), key=lambda w: w.at or datetime.min)
    lead = boundaries[0] if boundaries else (timed[0] if timed else wakes[0])
    triggers = any(w.triggers for w in wakes)
    full = [w for w in wakes if w.full]
    if full:
        # Entries read since the earliest background read serve only when no wake asks for a read.
        since = [w.read_since for w in full]
        read_since = None if None in since else min(t for t in since if t is not None)
        return Wake(lead.reason, None, lead.at, triggers, read_since)
    agents: frozenset[str] = frozenset().union(*(w.agents or frozenset() for w in wakes))
    return Wake(lead.reason, agents, lead.at, triggers)
