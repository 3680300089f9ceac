"""Audit records and `presencectl audit` arguments for the audit tests (one place, so test
modules do not import one another)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from controller.audit import AuditMode, AuditRecord, AuditResult, PresenceRef

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def record(i: int, agent: str = "u-1", email: str | None = "a@example.com", **kw: object) -> AuditRecord:
    fields: dict[str, object] = {
        "time": T0 + timedelta(seconds=i),
        "agent_id": agent,
        "agent_email": email,
        "policy": "front-line",
        "mode": AuditMode.ENFORCED,
        "result": AuditResult.OK,
        "reason": f"schedule activity {i}",
        "reason_kind": "schedule",
        "reason_source": "desired/policies.yaml:4:3",
        "cycle_id": f"c{i}",
        "desired": PresenceRef("On Queue", "def-oq"),
        "before": PresenceRef("Break", "def-br", "OFF_QUEUE"),
        "after": PresenceRef("On Queue", "def-oq"),
        "correlation_id": f"corr-{i}",
        "latency_ms": 12.5,
        "digest": "sha256:abc",
    }
    fields.update(kw)
    return AuditRecord(**fields)  # type: ignore[arg-type]


def cli_args(path: Path, **kw: object) -> argparse.Namespace:
    """The namespace `presencectl audit --path PATH` parses to, with `kw` changed."""
    base: dict[str, object] = {"path": str(path), "agent": None, "since": None, "until": None}
    base.update(output="text", policy=None, limit=None, follow=False, intents=False)
    base.update(kw)
    return argparse.Namespace(**base)
