"""Audit records for overrides whose `until` has passed: each is recorded once, then ignored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from controller.audit import AuditMode, AuditRecord, AuditResult, PresenceRef
from controller.engine.org_reader import Directory
from controller.model.types import ExpiredOverride


def expiry_records(
    expired: Iterable[ExpiredOverride], directory: Directory, now: datetime, cycle_id: str, digest: str
) -> list[AuditRecord]:
    records = []
    for e in expired:
        o = e.override
        agent = directory.find(o.agent)
        records.append(
            AuditRecord(
                time=now,
                agent_id=agent.id if agent is not None else o.agent,
                agent_email=agent.email if agent is not None else None,
                policy=e.policy,
                mode=AuditMode.OBSERVED,
                result=AuditResult.SKIPPED,
                reason=f"override until {o.until.isoformat(timespec='seconds')} expired; it is ignored",
                cycle_id=cycle_id,
                desired=PresenceRef(o.presence.name, o.presence.definition_id),
                reason_kind="override_expired",
                reason_source=str(e.location),
                digest=digest,
            )
        )
    return records
