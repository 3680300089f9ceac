"""Human and machine renderings of a cycle: the `plan`/`apply` diff table and its JSON form."""

from __future__ import annotations

from collections import Counter
from typing import Any

from controller.engine.reconciler import CycleResult
from controller.planner import Action


def _agent(result: CycleResult, user_id: str) -> str:
    agent = result.agents.get(user_id)
    return agent.email if agent is not None and agent.email else user_id


def _row(result: CycleResult, a: Action) -> dict[str, Any]:
    return {
        "agent": _agent(result, a.user_id),
        "userId": a.user_id,
        "policy": a.policy,
        "live": a.from_label,
        "liveId": a.from_presence_id,
        "desired": a.to.name,
        "desiredId": a.to.definition_id,
        "mode": "held" if a.held else a.mode.value,
        "reason": a.reason.detail,
        "reasonKind": a.reason.kind.value,
        "source": str(a.reason.location),
        "message": a.message,
    }


def plan_json(result: CycleResult) -> dict[str, Any]:
    p = result.plan
    skipped = Counter(s.kind.value for s in p.skipped)
    return {
        "now": result.now.isoformat(),
        "managed": p.managed,
        "changes": [_row(result, a) for a in p.actions],
        "held": p.held,
        "heldReason": p.held_reason,
        "blastRadiusLimit": p.limit,
        "skipped": dict(sorted(skipped.items())),
        "conflicts": [str(c) for c in p.conflicts],
        "adherence": [
            {
                "policy": a.policy,
                "managed": a.managed,
                "inDesired": a.in_desired,
                "outOfDesired": a.out_of_desired,
                "percent": a.percent,
            }
            for a in p.adherence
        ],
        "nextBoundary": result.next_boundary.isoformat() if result.next_boundary else None,
    }


def plan_table(result: CycleResult) -> str:
    p = result.plan
    rows = [_row(result, a) for a in p.actions]
    lines: list[str] = []
    if rows:
        headers = ("AGENT", "POLICY", "LIVE", "DESIRED", "MODE", "REASON")
        keys = ("agent", "policy", "live", "desired", "mode", "reason")
        widths = [max(len(h), *(len(str(r[k])) for r in rows)) for h, k in zip(headers, keys, strict=True)]
        widths[-1] = len(headers[-1])  # the reason column is last and never padded
        lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        for r in rows:
            lines.append("  ".join(str(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip())
    skipped = Counter(s.kind.value for s in p.skipped)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
    lines.append(
        f"{len(p.actions)} change(s) for {p.managed} managed agent(s)"
        + (f"; skipped: {summary}" if summary else "")
    )
    if p.held:
        lines.append(f"HELD: {p.held_reason}")
    for c in p.conflicts:
        lines.append(f"conflict: {c}")
    if result.next_boundary is not None:
        lines.append(f"next boundary: {result.next_boundary.isoformat()}")
    return "\n".join(lines)
