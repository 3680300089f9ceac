"""Feeding the observed timeline: one small interface the shells call, one SQLite-backed recorder.

The stream (drift.py), the presence reads and our confirmed writes (both in reconciler.py, the
latter as engine/observed.py's `after_write` describes the agent) each call
`recorder.observe(agents, source)`; nothing else about adherence reaches them. Only changes are
stored (an unchanged read costs nothing but a dictionary lookup).

When a change starts: the platform's `presence_modified` when the presence itself changed (it is
when the agent changed it, however late we learn), kept between the agent's previous change and
now; the observation time for a routing-status-only change or when no time is given. The first
observation of an agent in a session starts at the observation time: before it, the agent is
unknown. A change stamped before the agent's last recorded one is stale (a late event) and is
dropped, the next read being the truth.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from controller.adherence.store import Change, TimelineStore
from controller.core.domain import ObservedAgent

_log = logging.getLogger(__name__)

BATCH = 500  # changes per write; a crash loses at most this many, the next read fills the gap
MAX_PENDING = 100_000  # changes kept in memory while the database cannot be written


class PresenceRecorder(Protocol):
    def observe(self, agents: Iterable[ObservedAgent], source: str) -> None: ...


class NoRecorder:
    """For `plan`/`apply` and tests that keep no timeline."""

    def observe(self, agents: Iterable[ObservedAgent], source: str) -> None:
        return None


class TimelineRecorder:
    def __init__(self, store: TimelineStore, clock: Callable[[], datetime], batch: int = BATCH) -> None:
        self.store = store
        self._clock = clock
        self._batch = batch
        self._lock = threading.Lock()
        self._pending: list[Change] = []
        self._last: dict[str, Change] = {}
        self.session = store.begin_session(clock())

    def observe(self, agents: Iterable[ObservedAgent], source: str) -> None:
        now = self._clock()
        with self._lock:
            for agent in agents:
                change = self._change(agent, source, now)
                if change is not None:
                    self._pending.append(change)
                    self._last[agent.user_id] = change
            full = len(self._pending) >= self._batch
        if full:
            self.flush()

    def _change(self, agent: ObservedAgent, source: str, now: datetime) -> Change | None:
        prev = self._last.get(agent.user_id)
        if prev is not None and (prev.presence_id, prev.routing_status) == (
            agent.presence_id,
            agent.routing_status,
        ):
            return None
        start = now
        modified = agent.presence_modified
        if prev is not None and prev.presence_id != agent.presence_id and modified is not None:
            if modified < prev.start:
                return None  # stale: older than what we already hold
            start = min(modified, now)
        return Change(
            agent.user_id,
            start,
            agent.presence_id,
            agent.system_presence,
            agent.routing_status,
            source,
            now,
        )

    def flush(self) -> bool:
        """Write the pending changes and move the session's heartbeat to now (one transaction).
        A failure (disk full, database locked) never reaches the reconcile loop: the batch waits
        for the next flush; past MAX_PENDING it is dropped and a new session begins, so the
        lost stretch reads as unknown, never as a continuation. True when written."""
        with self._lock:
            pending, self._pending = self._pending, []
            try:
                self.store.append(self.session, pending, self._clock())
                return True
            except sqlite3.Error as exc:
                self._pending[:0] = pending
                _log.warning(
                    "adherence timeline not written; kept for the next batch", extra={"error": str(exc)}
                )
                if len(self._pending) > MAX_PENDING:
                    self._restart()
                return False

    def _restart(self) -> None:
        """Forget what could not be written and begin a new session (the gap becomes unknown)."""
        self._pending = []
        self._last = {}
        with contextlib.suppress(sqlite3.Error):  # else the old heartbeat already ends the session
            self.session = self.store.begin_session(self._clock())

    def close(self) -> None:
        self.flush()
