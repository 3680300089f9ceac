"""`presencectl audit`: read the audit log the daemon and `apply` write (controller/audit.py).

Records are shown sorted by time (several processes may append to one log), filtered by agent,
policy and time; `--limit N` keeps the N most recent; `--follow` then prints new records as they
are appended, across rotations, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from controller.audit import Phase, decode_line, existing_audit_files, matches_agent, read_audit
from controller.core.timestamps import parse_iso

AUDIT_PATH_ENV = "PRESENCECTL_AUDIT_PATH"
DEFAULT_AUDIT_PATH = "audit/audit.jsonl"
FOLLOW_POLL_SECONDS = 0.5  # how often --follow looks for new lines
HEADER = ["TIME", "AGENT", "BEFORE -> AFTER", "MODE", "REASON"]


def default_path(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(AUDIT_PATH_ENV, "").strip() or DEFAULT_AUDIT_PATH


# ---- one record as a table row ----


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


def _line(row: Sequence[str], widths: Sequence[int]) -> str:
    """Left-aligned cells; the last column (the reason) is never padded."""
    cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
    return "  ".join(cells).rstrip()


def column_widths(records: Sequence[dict[str, Any]]) -> list[int]:
    rows = [HEADER] + [_row(r) for r in records]
    return [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]


def format_table(records: Sequence[dict[str, Any]]) -> str:
    widths = column_widths(records)
    return "\n".join(_line(row, widths) for row in [HEADER] + [_row(r) for r in records])


# ---- filters ----


@dataclass(frozen=True)
class Filters:
    agent: str | None = None
    policy: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    intents: bool = False

    def keep(self, record: dict[str, Any], when: datetime) -> bool:
        """Agent (id or email), policy (trigger records have none), `since <= time < until`."""
        if not self.intents and record.get("phase") == Phase.INTENT:
            return False
        if self.agent is not None and not matches_agent(record, self.agent):
            return False
        if self.policy is not None and record.get("policy") != self.policy:
            return False
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when < self.until


def _cli_time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        hint = "an ISO-8601 time (e.g. 2026-11-24T09:00Z)"
        raise ValueError(f"presencectl audit: {flag} {text!r} is not {hint}") from None


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(
        agent=args.agent,
        policy=args.policy,
        since=_cli_time(args.since, "--since"),
        until=_cli_time(args.until, "--until"),
        intents=bool(args.intents),
    )


def history(path: Path, filters: Filters, on_problem: Callable[[str], None]) -> list[dict[str, Any]]:
    """The matching records of the log and its rotations, sorted by time (stable: records of
    one instant keep the order they were written in)."""
    records = read_audit(path, on_problem=on_problem, intents=True)
    kept = [r for r in records if filters.keep(r, parse_iso(r["time"]))]
    return sorted(kept, key=lambda r: parse_iso(r["time"]))


# ---- --follow ----


class Tail:
    """New complete lines of the live log file, across rotations: the open file is read to its
    end, then every rotation written after it (several may happen between two looks), then the
    new live file, so no line is lost at a rotation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = self._open(path, at_end=True)
        self._partial = b""

    @staticmethod
    def _open(path: Path, at_end: bool) -> BinaryIO | None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - held open across polls on purpose
        except FileNotFoundError:
            return None
        if at_end:
            handle.seek(0, os.SEEK_END)
        return handle

    def lines(self) -> list[bytes]:
        out = self._drain()
        if not self._rotated():
            return out
        for later in self._rotations_after_ours():
            with contextlib.suppress(FileNotFoundError):
                out += [line for line in later.read_bytes().split(b"\n") if line.strip()]
        if self._file is not None:
            self._file.close()
        self._file, self._partial = self._open(self.path, at_end=False), b""
        return out + self._drain()

    def _drain(self) -> list[bytes]:
        if self._file is None:
            return []
        data = self._partial + self._file.read()
        *complete, self._partial = data.split(b"\n")
        return [line for line in complete if line.strip()]

    def _rotated(self) -> bool:
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False  # between the rename and the new file: look again next time
        return self._file is None or os.fstat(self._file.fileno()).st_ino != current.st_ino

    def _rotations_after_ours(self) -> list[Path]:
        """Rotated files newer than the one held open (all of them when ours is gone)."""
        rotated = existing_audit_files(self.path)[:-1]  # oldest first; the live file last
        if self._file is None:
            return []
        ours = os.fstat(self._file.fileno()).st_ino
        inodes = []
        for file in rotated:
            try:
                inodes.append(file.stat().st_ino)
            except FileNotFoundError:
                inodes.append(-1)
        return rotated[inodes.index(ours) + 1 :] if ours in inodes else rotated

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def follow(
    tail: Tail, filters: Filters, on_problem: Callable[[str], None], poll: float = FOLLOW_POLL_SECONDS
) -> Iterator[dict[str, Any]]:
    while True:
        for raw in tail.lines():
            try:
                record, when = decode_line(raw)
            except ValueError:
                on_problem(f"{tail.path}: unreadable line, skipped")
                continue
            if filters.keep(record, when):
                yield record
        time.sleep(poll)  # polling a file: nothing to wait on


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`presencectl audit`: exit 0 on success (even with no matches), 2 on a usage error."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        filters = _filters(args)
    except ValueError as exc:
        print(exc, file=err)
        return 2
    if args.limit is not None and args.limit < 1:
        print(f"presencectl audit: --limit {args.limit}: give a number of records, 1 or more", file=err)
        return 2
    path = Path(args.path)
    if not existing_audit_files(path):
        print(
            f"presencectl audit: no audit log at {path} (set --path or ${AUDIT_PATH_ENV} to the file the "
            "daemon writes: audit.path in desired/'s ControllerConfig, or run's --audit-path)",
            file=err,
        )
        return 2

    def warn(text: str) -> None:
        print(f"warning: {text}", file=err)

    tail = Tail(path) if args.follow else None  # opened first: nothing appended meanwhile is missed
    records = history(path, filters, warn)
    if args.limit is not None:
        records = records[-args.limit :]
    widths = column_widths(records)
    if args.output == "json":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        print(format_table(records), file=out)
        if not records and tail is None:
            print("no audit records match these filters", file=err)
    if tail is None:
        return 0
    out.flush()
    try:
        for record in follow(tail, filters, warn):
            text = (
                json.dumps(record, ensure_ascii=False)
                if args.output == "json"
                else _line(_row(record), widths)
            )
            print(text, file=out, flush=True)
    except KeyboardInterrupt:  # Ctrl-C is how --follow ends
        return 0
    finally:
        tail.close()
    return 0
