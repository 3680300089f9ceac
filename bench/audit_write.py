"""Audit write throughput: records/s with one fsync per batch, on the local disk.

Usage: .venv/bin/python bench/audit_write.py [--batch 100] [--batches 200] [--dir DIR]
Prints records/s and per-batch latency percentiles; not pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.audit import AuditMode, AuditRecord, AuditResult, AuditWriter, PresenceRef


def make_record(i: int) -> AuditRecord:
    return AuditRecord(
        time=datetime(2026, 11, 24, 9, 0, tzinfo=UTC) + timedelta(milliseconds=i),
        agent_id=f"00000000-0000-4000-8000-{i:012d}",
        agent_email=f"agent{i}@example.com",
        policy="front-line",
        mode=AuditMode.ENFORCED,
        result=AuditResult.OK,
        reason="schedule: Break 10:15-10:30 (activity code Break)",
        reason_kind="schedule",
        reason_source="desired/policies/front-line.yaml:12:5",
        cycle_id="c-000123",
        desired=PresenceRef("Break", "227b37e2-f1d0-4dd0-8f50-badd7cf6d158"),
        before=PresenceRef("On Queue", "e08eaf1b-ee47-4fa9-a231-1200e284798f", "IDLE"),
        after=PresenceRef("Break", "227b37e2-f1d0-4dd0-8f50-badd7cf6d158"),
        correlation_id="9f3c2d1e-5b7a-4c3e-8d2f-1a2b3c4d5e6f",
        latency_ms=83.4,
        digest="sha256:3b1f0c",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--dir", help="directory to write in (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        writer = AuditWriter(Path(tmp) / "audit.jsonl", rotate_bytes=10 * 1024 * 1024, keep=3)
        batches = [[make_record(b * args.batch + i) for i in range(args.batch)] for b in range(args.batches)]
        latencies = []
        started = time.perf_counter()
        for batch in batches:
            t0 = time.perf_counter()
            writer.write_batch(batch)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    total = args.batch * args.batches
    q = statistics.quantiles(latencies, n=100)
    print(f"audit write: {total} records in {args.batches} batches of {args.batch} (fsync per batch)")
    print(f"  throughput  {total / elapsed:,.0f} records/s")
    print(f"  batch p50   {q[49] * 1000:.2f} ms   p99 {q[98] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
