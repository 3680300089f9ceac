"""Append-only audit trail: one JSON line per write, per drift observed, per plan held.

Public API:
- `AuditRecord` (+ `PresenceRef`, `AuditMode`, `AuditResult`): one record, typed.
- `AuditWriter(path, rotate_bytes, keep)`: `write_batch(records)` appends a batch, flushes and
  fsyncs once per batch; rotates by size (`path.1` newest ... `path.keep` oldest) only between
  records, so a record is never split or lost. Thread-safe, and safe across processes (an
  advisory `flock` on `path.lock`; each batch reopens the file, so another process's rotation is
  seen). Every string is scrubbed of registered secrets.
- `read_audit(path, agent=None, since=None, until=None, on_problem=None) -> Iterator[dict]`:
  records of the rotated files, oldest first; a torn or corrupt line is reported, never fatal.
- `run_cli(args) -> int`: `presencectl audit` (text table or JSON lines).

Record shape (keys of one JSON line):
  time, agent{id,email}, policy, desired{label,id}, before{label,id,routing_status},
  after{label,id}, reason{text,kind,source}, mode (enforced|observed|held),
  result{status (ok|failed|skipped), error_code}, correlation_id, latency_ms, digest, cycle_id
A trigger change (`TriggerAuditRecord`) has the same envelope (time, reason, mode, result,
correlation_id, digest, cycle_id) plus "kind": "trigger", trigger{name,id}, action
(create|update|replace|delete) and changes[{field,before,after}] in place of the agent and
presences.
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

from controller.log import scrub

_log = logging.getLogger(__name__)


class AuditMode(StrEnum):
    ENFORCED = "enforced"  # the daemon wrote (or tried to write)
    OBSERVED = "observed"  # observe mode: drift recorded, nothing written
    HELD = "held"  # the blast-radius guard held the plan: nothing written


class AuditResult(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


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

    def to_json(self) -> dict[str, Any]:
        return {
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

    def to_json(self) -> dict[str, Any]:
        return {
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


AuditEntry = AuditRecord | TriggerAuditRecord


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
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: AuditEntry) -> None:
        self.write_batch([record])

    def write_batch(self, records: Sequence[AuditEntry]) -> None:
        """Append all records; returns once they are on disk (one fsync per file touched)."""
        if not records:
            return
        lines = [encode(r) for r in records]
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when lock_file closes
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
            # A crash may have left a torn last line: start ours on a fresh line so it stays whole.
            if end > 0 and os.pread(fd, 1, end - 1) != b"\n":
                prefix = b"\n"
            data = prefix + b"".join(lines)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        paths = rotated_paths(self.path, self.keep)  # oldest first; paths[0] falls off
        paths[0].unlink(missing_ok=True)
        for older, newer in itertools.pairwise(paths):
            if newer.exists():
                newer.rename(older)
        _fsync_dir(self.path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _matches_agent(record: dict[str, Any], agent: str) -> bool:
    who = record.get("agent") or {}
    return agent == who.get("id") or agent.casefold() == (who.get("email") or "").casefold()


def read_audit(
    path: str | os.PathLike[str],
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Records of `path` and its rotations, oldest first, filtered by agent (id or email) and
    time (`since <= time < until`). Unreadable lines (a torn last line after a crash, anything
    corrupt) are passed to `on_problem` (default: a log warning) and skipped."""
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
                record = json.loads(raw)
                when = _parse_time(record["time"])
            except (ValueError, KeyError, TypeError):
                torn = number == len(lines)  # no newline after it: the write never completed
                what = "torn last line (incomplete write)" if torn else "unreadable line"
                report(f"{file}:{number}: {what}, skipped")
                continue
            if agent is not None and not _matches_agent(record, agent):
                continue
            if since is not None and when < since:
                continue
            if until is not None and when >= until:
                continue
            yield record


# ---- presencectl audit ----


def _presence_text(ref: dict[str, Any] | None) -> str:
    if not ref:
        return "-"
    label = str(ref.get("label") or ref.get("id") or "?")
    routing = ref.get("routing_status")
    return f"{label} ({routing})" if routing else label


def _agent_text(record: dict[str, Any]) -> str:
    if record.get("kind") == "trigger":
        return f"trigger:{(record.get('trigger') or {}).get('name', '?')}"
    who = record.get("agent") or {}
    return str(who.get("email") or who.get("id") or "?")


def _change_text(record: dict[str, Any]) -> str:
    if record.get("kind") == "trigger":
        fields = ", ".join(str(c.get("field")) for c in record.get("changes") or ())
        return f"{record.get('action', '?')} trigger" + (f" ({fields})" if fields else "")
    after = record.get("after") or record.get("desired")
    return f"{_presence_text(record.get('before'))} -> {_presence_text(after)}"


def _row(record: dict[str, Any]) -> list[str]:
    result = record.get("result") or {}
    mode = str(record.get("mode", "?"))
    status = str(result.get("status", "?"))
    if status != "ok":
        mode += f"/{status}" + (f" ({result['error_code']})" if result.get("error_code") else "")
    return [
        str(record.get("time", "?")),
        _agent_text(record),
        _change_text(record),
        mode,
        str((record.get("reason") or {}).get("text", "")),
    ]


def format_table(records: Sequence[dict[str, Any]]) -> str:
    header = ["TIME", "AGENT", "BEFORE -> AFTER", "MODE", "REASON"]
    rows = [header] + [_row(r) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    out = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _cli_time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        return _parse_time(text)
    except ValueError:
        hint = "an ISO-8601 time (e.g. 2026-11-24T09:00Z)"
        raise ValueError(f"presencectl audit: {flag} {text!r} is not {hint}") from None


def run_cli(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`presencectl audit`: exit 0 on success (even with no matches), 2 on a usage error."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        since = _cli_time(args.since, "--since")
        until = _cli_time(args.until, "--until")
    except ValueError as exc:
        print(exc, file=err)
        return 2
    path = Path(args.path)
    if not existing_audit_files(path):
        print(f"presencectl audit: no audit log at {path} (set --path to the daemon's audit_path)", file=err)
        return 2

    def warn(text: str) -> None:
        print(f"warning: {text}", file=err)

    records = read_audit(path, agent=args.agent, since=since, until=until, on_problem=warn)
    if args.output == "json":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        rows = list(records)
        print(format_table(rows), file=out)
        if not rows:
            print("no audit records match these filters", file=err)
    return 0
