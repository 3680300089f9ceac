"""The observed timeline and the export spool in one SQLite file (stdlib sqlite3, WAL mode).

Tables (schema version in `PRAGMA user_version`, migrated forward in order at open):
- `sessions(id, started, heartbeat)`: one row per process that recorded; `heartbeat` moves on
  with every batch, so after a crash the time from the last heartbeat to the next observation
  is a gap (unknown), never a continuation;
- `changes(agent, start, presence_id, system_presence, routing_status, source, observed,
  session)`: a presence/routing-status change of an agent, from `start` until the agent's next
  change or the end of its session, whichever is first (an interval is never invented);
- `spool(id, key, created, range_start, range_end, body, attempts)`: export batches not yet
  delivered, in creation order; `key` is the batch's idempotency key;
- `export_marks(name, until)`: how far a scheduled export has gone.
Instants are integer microseconds since the epoch (exact round trips). One connection, shared
by the threads of one process under a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.adherence.compute import ObservedSpan
from controller.core.presence import RoutingStatus, SystemPresence

DEFAULT_RETENTION_DAYS = 35
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MIGRATIONS: tuple[str, ...] = (
    # 1: the observed timeline
    """
    CREATE TABLE sessions (id INTEGER PRIMARY KEY, started INTEGER NOT NULL, heartbeat INTEGER NOT NULL);
    CREATE TABLE changes (
        agent TEXT NOT NULL, start INTEGER NOT NULL, presence_id TEXT NOT NULL,
        system_presence TEXT NOT NULL, routing_status TEXT NOT NULL, source TEXT NOT NULL,
        observed INTEGER NOT NULL, session INTEGER NOT NULL REFERENCES sessions(id));
    CREATE INDEX changes_by_agent ON changes (agent, start);
    CREATE INDEX changes_by_start ON changes (start);
    """,
    # 2: the export spool
    """
    CREATE TABLE spool (
        id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,
        range_start INTEGER NOT NULL, range_end INTEGER NOT NULL, body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE export_marks (name TEXT PRIMARY KEY, until INTEGER NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def to_us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True)
class Change:
    agent: str
    start: datetime
    presence_id: str
    system_presence: SystemPresence
    routing_status: RoutingStatus
    source: str  # stream | read | write
    observed: datetime


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    id: int
    key: str
    created: datetime
    body: str
    attempts: int


class StoreError(Exception):
    """The database cannot be used (newer schema, not a database): one line for the operator."""


class TimelineStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable adherence database ({exc})") from None

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this presencectl's "
                f"{SCHEMA_VERSION}; upgrade presencectl or point adherence.path elsewhere"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):  # each step atomic with its version
            self._db.executescript(
                f"BEGIN IMMEDIATE; {MIGRATIONS[number - 1]} PRAGMA user_version = {number}; COMMIT;"
            )

    def _tx(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- sessions and changes ----

    def begin_session(self, now: datetime) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO sessions (started, heartbeat) VALUES (?, ?)", (to_us(now), to_us(now))
            )
            return int(cursor.lastrowid or 0)

    def append(self, session: int, changes: Sequence[Change], heartbeat: datetime) -> None:
        """One batch: the changes and the session's heartbeat, in one transaction."""
        rows = [
            (
                c.agent,
                to_us(c.start),
                c.presence_id,
                c.system_presence.value,
                c.routing_status.value,
                c.source,
                to_us(c.observed),
                session,
            )
            for c in changes
        ]
        with self._tx() as db:
            db.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute(
                "UPDATE sessions SET heartbeat = max(heartbeat, ?) WHERE id = ?", (to_us(heartbeat), session)
            )

    def spans(
        self,
        start: datetime,
        end: datetime,
        agents: Collection[str] | None = None,
        *,
        live: tuple[int, datetime] | None = None,
    ) -> dict[str, list[ObservedSpan]]:
        """Each agent's observed spans within [start, end), sorted and disjoint. `live` (session,
        now): the recording process's own session counts as covered up to `now`."""
        a, b = to_us(start), to_us(end)
        wanted = None if agents is None else set(agents)
        with self._lock:
            heartbeats = dict(self._db.execute("SELECT id, heartbeat FROM sessions").fetchall())
            rows = self._db.execute(
                """
                WITH last AS (SELECT agent, max(start) AS s FROM changes WHERE start <= ? GROUP BY agent)
                SELECT c.agent, c.start, c.presence_id, c.system_presence, c.routing_status,
                       c.session, c.rowid
                  FROM changes c JOIN last ON c.agent = last.agent AND c.start = last.s
                UNION ALL
                SELECT agent, start, presence_id, system_presence, routing_status, session, rowid
                  FROM changes WHERE start > ? AND start < ?
                ORDER BY 1, 2, 7
                """,
                (a, a, b),
            ).fetchall()
        if live is not None:
            heartbeats[live[0]] = max(heartbeats.get(live[0], 0), to_us(live[1]))
        out: dict[str, list[ObservedSpan]] = {}
        for i, (agent, s, pid, system, routing, session, _rowid) in enumerate(rows):
            if wanted is not None and agent not in wanted:
                continue
            nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][0] == agent else None
            until = min(heartbeats.get(session, s), nxt[1] if nxt is not None else b)
            lo, hi = max(s, a), min(until, b)
            if lo < hi:
                span = ObservedSpan(
                    from_us(lo), from_us(hi), pid, SystemPresence(system), RoutingStatus(routing)
                )
                out.setdefault(agent, []).append(span)
        return out

    def changes(self, agent: str) -> list[Change]:
        """Every recorded change of one agent, in order (tests and diagnosis)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT agent, start, presence_id, system_presence, routing_status, source, observed"
                " FROM changes WHERE agent = ? ORDER BY start, rowid",
                (agent,),
            ).fetchall()
        return [
            Change(r[0], from_us(r[1]), r[2], SystemPresence(r[3]), RoutingStatus(r[4]), r[5], from_us(r[6]))
            for r in rows
        ]

    def prune(self, now: datetime, retention_days: int = DEFAULT_RETENTION_DAYS) -> int:
        """Forget changes and sessions older than the retention; the number of changes removed."""
        cutoff = to_us(now - timedelta(days=retention_days))
        with self._tx() as db:
            removed = db.execute("DELETE FROM changes WHERE start < ?", (cutoff,)).rowcount
            db.execute(
                "DELETE FROM sessions WHERE heartbeat < ?"
                " AND id NOT IN (SELECT DISTINCT session FROM changes)",
                (cutoff,),
            )
        return int(removed)

    # ---- export spool ----

    def spool(self, batches: Iterable[tuple[str, datetime, datetime, str]], now: datetime) -> int:
        """Add (key, range start, range end, body) batches not spooled yet; how many were added."""
        rows = [(k, to_us(now), to_us(s), to_us(e), body) for k, s, e, body in batches]
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO spool (key, created, range_start, range_end, body)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            return db.total_changes - before

    def spooled(self, limit: int | None = None) -> list[SpooledBatch]:
        """Undelivered batches, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, key, created, body, attempts FROM spool ORDER BY id LIMIT ?", (limit or -1,)
            ).fetchall()
        return [SpooledBatch(r[0], r[1], from_us(r[2]), r[3], r[4]) for r in rows]

    def delivered(self, batch_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM spool WHERE id = ?", (batch_id,))

    def attempted(self, batch_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE spool SET attempts = attempts + 1 WHERE id = ?", (batch_id,))

    def oldest_spooled(self) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT min(created) FROM spool").fetchone()
        return from_us(row[0]) if row and row[0] is not None else None

    def mark(self, name: str) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT until FROM export_marks WHERE name = ?", (name,)).fetchone()
        return from_us(row[0]) if row else None

    def set_mark(self, name: str, until: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO export_marks (name, until) VALUES (?, ?)", (name, to_us(until))
            )


class _Transaction:
    """`with store._tx() as db:` one IMMEDIATE transaction under the store's lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self._lock.release()
