"""Append-only audit trail: one JSON line per write, per drift observed, per plan held.

Public API:
- `AuditRecord` (+ `PresenceRef`, `AuditMode`, `AuditResult`, `Phase`, `Outcome`): one record.
- `AuditWriter(path, rotate_bytes, keep)`: `write_batch(records)` appends a batch, flushes and
  fsyncs once per batch; rotates by size (`path.1` newest ... `path.keep` oldest) only between
  records, so a record is never split or lost. A batch that cannot be written (disk full, file
  size limit, I/O error) is cut back off the file, so no torn line stays, and raises
  `AuditUnavailable`; `error` then says why until a batch (or `probe()`) succeeds. Opening the writer
  repairs a torn last line left by a crash (truncated to the last complete line, logged).
  Thread-safe, and safe across processes (an advisory `flock` on `path.lock`; each batch reopens
  the file, so another process's rotation is seen). Every string is scrubbed of registered secrets.
- `read_audit(path, agent=None, since=None, until=None, on_problem=None, intents=False)`:
  records of the rotated files, oldest first; a torn or corrupt line is reported, never fatal.
  Write intents are left out unless `intents=True` (each write also has its outcome record).
- `pending_intents(path) -> list[AuditRecord]`: intents with no outcome yet (the process died
  between the write and its outcome); the executor resolves them on start.
  `pending_trigger_intents(path)`: the same for trigger writes (the trigger pass resolves them).
- `decode_line(raw) -> (record, time)`: one line of the log (ValueError when unreadable).
(The reader command, `presencectl audit`, is `controller.commands.audit`.)

Record shape (keys of one JSON line):
  time, agent{id,email}, policy, desired{label,id}, before{label,id,routing_status},
  after{label,id}, reason{text,kind,source}, mode (enforced|observed|held),
  result{status (ok|failed|skipped|pending), error_code}, correlation_id, latency_ms, digest,
  cycle_id, and for a presence write: phase (intent|outcome), write_id, outcome
  (confirmed|failed|unknown; outcome records only).
A trigger change (`TriggerAuditRecord`) has the same envelope (time, reason, mode, result,
correlation_id, digest, cycle_id) plus "kind": "trigger", trigger{name,id}, action
(create|update|replace|delete) and changes[{field,before,after}] in place of the agent and
presences; a written change is recorded write-ahead too (phase, write_id, outcome).

A presence write is recorded twice, write-ahead: an `intent` (result `pending`), fsync'd before
the request is sent, and an `outcome` with the same `write_id` once it is known. So whatever
instant the process dies at, every write Genesys may have accepted has at least its intent on
disk, and the next start reads the agent back and records the outcome.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

from controller.core.timestamps import parse_iso
from controller.log import scrub

_log = logging.getLogger(__name__)
_T = TypeVar("_T")


class AuditMode(StrEnum):
    ENFORCED = "enforced"  # the daemon wrote (or tried to write)
    OBSERVED = "observed"  # observe mode: drift recorded, nothing written
    HELD = "held"  # the blast-radius guard held the plan: nothing written


class AuditResult(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"  # an intent: the write is about to be sent


class Phase(StrEnum):
    INTENT = "intent"  # on disk before the write is sent
    OUTCOME = "outcome"  # what became of it


class Outcome(StrEnum):
    CONFIRMED = "confirmed"  # the read-back shows the target
    FAILED = "failed"  # refused by the API, or never sent
    UNKNOWN = "unknown"  # sent, but nobody saw the result (read-back failed, abandoned, differed)


class AuditUnavailable(OSError):
    """The audit log cannot be written (disk full, size limit, I/O error): nothing may be
    written to Genesys until it can."""

    code = "audit-unavailable"  # the error code of every write not sent because of it


@dataclass(frozen=True, slots=True)
class PresenceRef:
    """A presence as recorded: its label, definition id and (for a live state) routing status."""

    label: str
    id: str | None = None
    routing_status: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "id": self.id}
        if self.routing_status is not None:
            out["routing_status"] = self.routing_status
        return out


@dataclass(frozen=True, slots=True)
class AuditRecord:
    time: datetime  # aware
    agent_id: str
    policy: str
    mode: AuditMode
    result: AuditResult
    reason: str  # human text: why the agent should be in `desired`
    cycle_id: str
    desired: PresenceRef | None = None
    before: PresenceRef | None = None
    after: PresenceRef | None = None
    agent_email: str | None = None
    reason_kind: str = ""  # e.g. schedule, window, override, off_shift
    reason_source: str | None = None  # file:line:column of the rule that decided
    error_code: str | None = None  # e.g. "backoff", "bad.request", "http.503"
    correlation_id: str | None = None  # inin-correlation-id of the write
    latency_ms: float | None = None  # write -> confirmed
    digest: str = ""  # desired-state digest in force
    phase: Phase | None = None  # presence writes only: intent, then outcome
    write_id: str | None = None  # joins a write's intent and outcome
    outcome: Outcome | None = None  # outcome records only

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time.astimezone(UTC).isoformat(timespec="milliseconds"),
            "agent": {"id": self.agent_id, "email": self.agent_email},
            "policy": self.policy,
            "desired": self.desired.to_json() if self.desired else None,
            "before": self.before.to_json() if self.before else None,
            "after": self.after.to_json() if self.after else None,
            "reason": {"text": self.reason, "kind": self.reason_kind, "source": self.reason_source},
            "mode": str(self.mode),
            "result": {"status": str(self.result), "error_code": self.error_code},
            "correlation_id": self.correlation_id,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "digest": self.digest,
            "cycle_id": self.cycle_id,
        }
        return out | _phase_json(self.phase, self.write_id, self.outcome)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> AuditRecord:
        """The inverse of `to_json` (raises KeyError/ValueError on a record it did not write)."""
        return cls(
            agent_id=doc["agent"]["id"],
            agent_email=doc["agent"].get("email"),
            policy=doc["policy"],
            **_envelope(doc),
            desired=_ref(doc.get("desired")),
            before=_ref(doc.get("before")),
            after=_ref(doc.get("after")),
            latency_ms=doc.get("latency_ms"),
        )


def _ref(doc: dict[str, Any] | None) -> PresenceRef | None:
    if not doc:
        return None
    return PresenceRef(doc["label"], doc.get("id"), doc.get("routing_status"))


@dataclass(frozen=True, slots=True)
class TriggerAuditRecord:
    """One trigger change, written or not (observe mode, held plan), shaped like a presence record."""

    time: datetime  # aware
    trigger: str  # the trigger's name (the EventSubscription's)
    action: str  # create | update | replace | delete
    mode: AuditMode
    result: AuditResult
    reason: str
    cycle_id: str
    trigger_id: str | None = None  # the trigger acted on, or the one created
    changes: tuple[tuple[str, str, str], ...] = ()  # (field, before, after)
    reason_kind: str = ""  # missing, desired-changed, hand-edited, topic-changed, not-desired
    reason_source: str | None = None  # file:line:column of the EventSubscription
    error_code: str | None = None
    correlation_id: str | None = None
    digest: str = ""
    phase: Phase | None = None  # written changes only: intent, then outcome (as presence writes)
    write_id: str | None = None
    outcome: Outcome | None = None  # outcome records only

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time.astimezone(UTC).isoformat(timespec="milliseconds"),
            "kind": "trigger",
            "trigger": {"name": self.trigger, "id": self.trigger_id},
            "action": self.action,
            "changes": [{"field": f, "before": b, "after": a} for f, b, a in self.changes],
            "reason": {"text": self.reason, "kind": self.reason_kind, "source": self.reason_source},
            "mode": str(self.mode),
            "result": {"status": str(self.result), "error_code": self.error_code},
            "correlation_id": self.correlation_id,
            "digest": self.digest,
            "cycle_id": self.cycle_id,
        }
        return out | _phase_json(self.phase, self.write_id, self.outcome)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TriggerAuditRecord:
        """The inverse of `to_json` (raises KeyError/ValueError on a record it did not write)."""
        return cls(
            trigger=doc["trigger"]["name"],
            trigger_id=doc["trigger"].get("id"),
            action=doc["action"],
            **_envelope(doc),
            changes=tuple((c["field"], c["before"], c["after"]) for c in doc.get("changes", ())),
        )


AuditEntry = AuditRecord | TriggerAuditRecord
_R = TypeVar("_R", bound=AuditEntry)


class OutcomeBacklog(Generic[_R]):
    """Outcome records the audit refused, written first with the next batch. Only outcomes are
    kept: their intents are on disk, so dropping one would leave a write without its end; the
    other records of a refused batch (drift, held, skipped) may go."""

    def __init__(self) -> None:
        self.records: list[_R] = []

    def __len__(self) -> int:
        return len(self.records)

    def write(self, write_batch: Callable[[Sequence[_R]], None], records: Sequence[_R]) -> None:
        """`write_batch(kept + records)`; AuditUnavailable propagates after keeping the outcomes."""
        batch = [*self.records, *records]
        try:
            write_batch(batch)
        except AuditUnavailable:
            self.records = [r for r in batch if r.phase is Phase.OUTCOME]
            raise
        self.records = []


def _phase_json(phase: Phase | None, write_id: str | None, outcome: Outcome | None) -> dict[str, Any]:
    """The write-ahead keys of a written change's record (none for other records)."""
    if phase is None:
        return {}
    out: dict[str, Any] = {"phase": str(phase), "write_id": write_id}
    if outcome is not None:
        out["outcome"] = str(outcome)
    return out


def _envelope(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields every record kind shares, read back from its JSON (`from_json`)."""
    reason, result = doc.get("reason") or {}, doc["result"]
    return {
        "time": parse_iso(doc["time"]),
        "mode": AuditMode(doc["mode"]),
        "result": AuditResult(result["status"]),
        "error_code": result.get("error_code"),
        "reason": reason.get("text", ""),
        "reason_kind": reason.get("kind", ""),
        "reason_source": reason.get("source"),
        "cycle_id": doc["cycle_id"],
        "correlation_id": doc.get("correlation_id"),
        "digest": doc.get("digest", ""),
        "phase": Phase(doc["phase"]) if doc.get("phase") else None,
        "write_id": doc.get("write_id"),
        "outcome": Outcome(doc["outcome"]) if doc.get("outcome") else None,
    }


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def encode(record: AuditEntry) -> bytes:
    """One JSON line, secrets scrubbed, newline-terminated."""
    text = json.dumps(_scrubbed(record.to_json()), ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode()


def rotated_paths(path: Path, keep: int) -> list[Path]:
    """`path.keep` ... `path.1`, `path`: oldest first."""
    return [path.with_name(f"{path.name}.{i}") for i in range(keep, 0, -1)] + [path]


def existing_audit_files(path: Path) -> list[Path]:
    """The rotations of `path` present on disk and `path` itself if present: oldest first."""
    numbered = []
    if path.parent.is_dir():
        for candidate in path.parent.iterdir():
            suffix = candidate.name[len(path.name) + 1 :]
            if candidate.name.startswith(path.name + ".") and suffix.isdigit():
                numbered.append((int(suffix), candidate))
    files = [p for _, p in sorted(numbered, reverse=True)]
    return [*files, path] if path.exists() else files


class AuditWriter:
    """Appends batches of records durably; see the module docstring."""

    def __init__(self, path: str | os.PathLike[str], rotate_bytes: int = 10 * 1024 * 1024, keep: int = 10):
        if rotate_bytes <= 0 or keep < 1:
            raise ValueError("audit rotate_bytes must be > 0 and keep >= 1")
        self.path = Path(path)
        self.rotate_bytes = rotate_bytes
        self.keep = keep
        self._lock = threading.Lock()
        self.error: str | None = None  # why the last batch could not be written; None when fine
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired_bytes = self._guarded(self._repair_torn_tail)

    def write(self, record: AuditEntry) -> None:
        self.write_batch([record])

    def write_batch(self, records: Sequence[AuditEntry]) -> None:
        """Append all records; returns once they are on disk (one fsync per file touched).
        Raises AuditUnavailable when they cannot be; no torn line is left behind."""
        if not records:
            return
        lines = [encode(r) for r in records]
        self._guarded(lambda: self._write_lines(lines))

    def _guarded(self, action: Callable[[], _T]) -> _T:
        """Run `action` under the in-process and cross-process locks; an OSError becomes
        AuditUnavailable and sets `error` (cleared by the next success)."""
        try:
            with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when lock_file closes
                result = action()
        except OSError as exc:
            self.error = f"cannot write the audit log {self.path}: {exc.strerror or exc}"
            _log.error(
                "audit log write failed; presence writes stop until it works", extra={"error": self.error}
            )
            raise AuditUnavailable(exc.errno or 0, self.error) from None
        self.error = None
        return result

    def probe(self, size: int = 16 * 1024) -> bool:
        """After a failure: can `size` bytes be written next to the log again (disk freed, limit
        raised)? Writes, fsyncs and removes a scratch file; clears `error` when it could."""
        if self.error is None:
            return True
        scratch = self.path.with_name(self.path.name + ".probe")

        def attempt() -> None:
            try:
                fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
                try:
                    os.write(fd, b"\0" * size)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            finally:
                scratch.unlink(missing_ok=True)

        try:
            self._guarded(attempt)
        except AuditUnavailable:
            return False
        return True

    def _write_lines(self, lines: list[bytes]) -> None:
        pending: list[bytes] = []
        size = self._current_size()
        for line in lines:
            if size > 0 and size + len(line) > self.rotate_bytes:
                self._append(pending)
                pending = []
                self._rotate()
                size = 0
            pending.append(line)
            size += len(line)
        self._append(pending)

    def _current_size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _append(self, lines: list[bytes]) -> None:
        if not lines:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            prefix = b""
            end = os.lseek(fd, 0, os.SEEK_END)
            # Another process may have died mid-line: start ours on a fresh line so it stays whole.
            if end > 0 and os.pread(fd, 1, end - 1) != b"\n":
                prefix = b"\n"
            data = prefix + b"".join(lines)
            view = memoryview(data)
            try:
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            except OSError:
                # Disk full or a size limit mid-batch: cut our partial bytes off again, so the
                # file ends on a complete line and no record is half there.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, end)
                    os.fsync(fd)
                raise
        finally:
            os.close(fd)

    def _repair_torn_tail(self) -> int:
        """Truncate `path` to its last complete line (a crash mid-write tore the last one);
        returns the bytes cut. The torn record was never fsync'd, so no write was sent for it."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return 0
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
                return 0
            keep = _last_newline(fd, size) + 1
            os.ftruncate(fd, keep)
            os.fsync(fd)
        finally:
            os.close(fd)
        _log.warning(
            "audit log ended in a torn line (a crash mid-write); truncated to the last complete line",
            extra={"path": str(self.path), "bytes_removed": size - keep, "size": keep},
        )
        return size - keep

    def _rotate(self) -> None:
        paths = rotated_paths(self.path, self.keep)  # oldest first; paths[0] falls off
        paths[0].unlink(missing_ok=True)
        for older, newer in itertools.pairwise(paths):
            if newer.exists():
                newer.rename(older)
        _fsync_dir(self.path.parent)


def _last_newline(fd: int, size: int, block: int = 64 * 1024) -> int:
    """Offset of the last b"\\n" before `size` in `fd`, or -1."""
    end = size
    while end > 0:
        start = max(0, end - block)
        found = os.pread(fd, end - start, start).rfind(b"\n")
        if found >= 0:
            return start + found
        end = start
    return -1


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def decode_line(raw: bytes) -> tuple[dict[str, Any], datetime]:
    """One line of the log and its time; ValueError when it is torn or corrupt."""
    try:
        record = json.loads(raw)
        return record, parse_iso(record["time"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def matches_agent(record: dict[str, Any], agent: str) -> bool:
    who = record.get("agent") or {}
    return agent == who.get("id") or agent.casefold() == (who.get("email") or "").casefold()


def read_audit(
    path: str | os.PathLike[str],
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    on_problem: Callable[[str], None] | None = None,
    intents: bool = False,
) -> Iterator[dict[str, Any]]:
    """Records of `path` and its rotations, oldest first, filtered by agent (id or email) and
    time (`since <= time < until`); write intents only with `intents`. Unreadable lines (a torn
    last line after a crash, anything corrupt) are passed to `on_problem` (default: a log
    warning) and skipped."""
    report = on_problem or _log.warning
    for file in existing_audit_files(Path(path)):
        try:
            data = file.read_bytes()
        except FileNotFoundError:  # rotated away while we read the others
            continue
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record, when = decode_line(raw)
            except ValueError:
                torn = number == len(lines)  # no newline after it: the write never completed
                what = "torn last line (incomplete write)" if torn else "unreadable line"
                report(f"{file}:{number}: {what}, skipped")
                continue
            if not intents and record.get("phase") == Phase.INTENT:
                continue
            if agent is not None and not matches_agent(record, agent):
                continue
            if since is not None and when < since:
                continue
            if until is not None and when >= until:
                continue
            yield record


def _pending(path: str | os.PathLike[str], trigger: bool) -> list[dict[str, Any]]:
    """Write intents (of presence writes, or of trigger writes) of `path` and its rotations that
    have no outcome record, oldest first."""
    intents: dict[str, dict[str, Any]] = {}
    for record in read_audit(path, intents=True, on_problem=lambda _: None):
        write_id = record.get("write_id")
        if not write_id or (record.get("kind") == "trigger") is not trigger:
            continue
        if record.get("phase") == Phase.INTENT:
            intents[write_id] = record
        else:
            intents.pop(write_id, None)
    return list(intents.values())


def _decoded(records: list[dict[str, Any]], decode: Callable[[dict[str, Any]], _T]) -> list[_T]:
    out = []
    for record in records:
        try:
            out.append(decode(record))
        except (KeyError, ValueError, TypeError):
            _log.warning("unreadable write intent in the audit log", extra={"write_id": record["write_id"]})
    return out


def pending_intents(path: str | os.PathLike[str]) -> list[AuditRecord]:
    """Presence write intents that have no outcome record (the process died mid-write)."""
    return _decoded(_pending(path, trigger=False), AuditRecord.from_json)


def pending_trigger_intents(path: str | os.PathLike[str]) -> list[TriggerAuditRecord]:
    """Trigger write intents that have no outcome record (the process died mid-write)."""
    return _decoded(_pending(path, trigger=True), TriggerAuditRecord.from_json)
