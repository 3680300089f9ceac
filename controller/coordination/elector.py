"""The coordination state machine, the same for every engine: renew on a ticker, hold a local
monotonic deadline, and prove the lease before each write batch (see the package docstring)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from controller.coordination.core import (
    Backend,
    CoordinationStatus,
    EngineError,
    Proof,
    Role,
    rendezvous_owner,
)
from controller.metrics import Metrics

_log = logging.getLogger(__name__)

SHARDED = "sharded"


class Elector:
    def __init__(
        self,
        backend: Backend,
        mode: str,
        lease_seconds: float,
        identity: str,
        metrics: Metrics,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identity = identity
        self._backend = backend
        self._sharded = mode == SHARDED
        self._lease = float(lease_seconds)
        self._metrics = metrics
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._proof: Proof | None = None
        self._deadline = 0.0  # monotonic instant the last proof stops counting
        self._error = ""  # the engine's last failure, while it lasts
        self._published: tuple[Role, tuple[str, ...]] = (Role.FENCED, ())
        self._stop = threading.Event()
        self._kick = threading.Event()  # renew now (a write was refused: the view may have moved)
        self._thread = threading.Thread(target=self._run, name="coordination", daemon=True)
        self.on_change: Callable[[], None] = lambda: None  # role or membership changed
        metrics.leader.set(0)

    @property
    def interval(self) -> float:
        """Renewal period: three tries within one lease."""
        return self._lease / 3

    # ---- lifecycle ----

    def start(self) -> None:
        self.tick()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread.is_alive():
            self._thread.join(self._lease)
        with self._lock:
            self._deadline = 0.0
        try:
            self._backend.release()
        except EngineError as exc:  # the lease then simply expires
            _log.warning("could not release the coordination lease", extra={"error": str(exc)})
        self._publish()

    def _run(self) -> None:
        while True:
            self._kick.wait(self.interval)
            self._kick.clear()
            if self._stop.is_set():
                return
            self.tick()

    def tick(self) -> None:
        """One renewal (the ticker calls it; tests may too)."""
        sent = self._monotonic()
        try:
            proof = self._backend.renew(self._sharded)
        except EngineError as exc:
            with self._lock:
                self._error = str(exc)
        else:
            with self._lock:
                self._proof, self._error = proof, ""
                self._deadline = sent + proof.ttl
        self._publish()

    # ---- state ----

    def _valid(self) -> Proof | None:
        with self._lock:
            proof, deadline = self._proof, self._deadline
        return proof if proof is not None and self._monotonic() < deadline else None

    def status(self) -> CoordinationStatus:
        proof = self._valid()
        with self._lock:
            error = self._error
        engine = self._backend.name
        if self._stop.is_set():
            return CoordinationStatus(Role.FENCED, self.identity, "stopped; the lease is given up")
        if proof is None:
            why = f"{engine} unreachable or lease lost: {error}" if error else f"no valid {engine} lease"
            return CoordinationStatus(
                Role.FENCED,
                self.identity,
                f"cannot prove this replica holds its lease ({why}); writing nothing",
            )
        if proof.leader:
            return CoordinationStatus(Role.LEADER, self.identity, "", proof.members)
        if self._sharded:
            return CoordinationStatus(Role.MEMBER, self.identity, "", proof.members)
        return CoordinationStatus(
            Role.STANDBY, self.identity, f"standby: {proof.holder or 'nobody'} holds the lease", proof.members
        )

    def _publish(self) -> None:
        status = self.status()
        now = (status.role, status.members)
        with self._publish_lock:  # the ticker and write threads may both notice a change
            if now == self._published:
                return
            before, self._published = self._published, now
        writing = status.role in (Role.LEADER, Role.MEMBER)
        self._metrics.leader.set(1 if status.role is Role.LEADER else 0)
        if (before[0] is Role.LEADER) != (status.role is Role.LEADER):
            self._metrics.leader_transitions_total.inc()
        log = _log.info if writing or status.role is Role.STANDBY else _log.warning
        log(
            "coordination role changed",
            extra={
                "role": status.role.value,
                "was": before[0].value,
                "reason": status.reason,
                "members": list(status.members),
            },
        )
        self.on_change()

    # ---- fencing ----

    def _confirm(self, *, leadership: bool) -> bool:
        proof = self._valid()
        if proof is None or (leadership and not proof.leader):
            self._metrics.fenced_writes_total.inc()
            self._publish()  # says why at once, without waiting for a renewal stuck on the engine
            return False
        try:
            ok = self._backend.confirm(
                proof, leadership=leadership, membership=self._sharded and not leadership
            )
        except EngineError as exc:
            ok, error = False, str(exc)
        else:
            error = "" if ok else "the engine no longer confirms this replica's lease or membership view"
        if not ok:
            with self._lock:  # drop the proof: nothing is written until a renewal re-establishes it
                self._deadline, self._error = 0.0, error
            self._metrics.fenced_writes_total.inc()
            self._publish()
            self._kick.set()
        return ok

    def may_write(self) -> bool:
        return self._confirm(leadership=not self._sharded)

    def may_write_cluster(self) -> bool:
        return self._confirm(leadership=True)

    def holds(self) -> bool:
        """The deadline of the last renewal has not passed: a process paused since its last
        check (SIGSTOP, a long GC or swap) wakes past it before anyone else can have taken over."""
        if self._valid() is not None:
            return True
        self._metrics.fenced_writes_total.inc()
        self._publish()
        return False

    def owns(self, user_id: str) -> bool:
        if not self._sharded:
            return True
        proof = self._valid()
        return proof is not None and rendezvous_owner(user_id, proof.members) == self.identity
