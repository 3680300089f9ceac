"""Human and machine renderings of a cycle: the `plan`/`apply` diff (read like `terraform plan`
or `flux diff`: the HELD notice and the summary first, then the rows grouped by policy and
transition, coloured on a terminal), its JSON form (with a format `version`), and the Markdown a
pull-request check posts as a comment (`plan --output markdown`)."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from controller.core.planner import SAFETY_SKIPS, Action, Skip
from controller.engine.reconciler import CycleResult
from controller.subscriptions.plan import TriggerStep

# Past this many rows the Markdown change table is folded into <details>, so a large plan does not
# bury the summary (or the rest of the pull request's conversation).
MARKDOWN_OPEN_ROWS = 20
# The version of `plan --output json` (and of a plan saved by `plan --out`): raised when a field
# changes meaning or goes away, not when one is added.
PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Style:
    """ANSI colour for a terminal; plain text otherwise (and always under NO_COLOR)."""

    color: bool = False

    @classmethod
    def for_stream(cls, stream: TextIO, environ: Mapping[str, str] = os.environ) -> Style:
        return cls(stream.isatty() and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb")

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def bold(self, text: str) -> str:
        return self._paint(text, "1")

    def held(self, text: str) -> str:
        return self._paint(text, "1;31")

    def before(self, text: str) -> str:
        return self._paint(text, "31")

    def after(self, text: str) -> str:
        return self._paint(text, "32")

    def dim(self, text: str) -> str:
        return self._paint(text, "2")


def agent_label(result: CycleResult, user_id: str) -> str:
    agent = result.agents.get(user_id)
    return agent.email if agent is not None and agent.email else user_id


def _row(result: CycleResult, a: Action) -> dict[str, Any]:
    live = result.observed.get(a.user_id)
    return {
        "agent": agent_label(result, a.user_id),
        "userId": a.user_id,
        "policy": a.policy,
        "live": a.from_label,
        "liveId": a.from_presence_id,
        "routingStatus": live.routing_status.value if live is not None else "",
        "desired": a.to.name + (" (signs out)" if a.signs_out else ""),
        "signsOut": a.signs_out,
        "desiredId": a.to.definition_id,
        "mode": "held" if a.held else a.mode.value,
        "reason": a.reason.detail,
        "reasonKind": a.reason.kind.value,
        "source": str(a.reason.location),
        "message": a.message,
    }


def _safety_row(result: CycleResult, s: Skip, desired: str) -> dict[str, Any]:
    live = result.observed.get(s.user_id)
    label = ""
    if live is not None:
        found = result.catalog.by_id(live.presence_id)
        label = found.label if found is not None else live.system_presence.label
    return {
        "agent": agent_label(result, s.user_id),
        "userId": s.user_id,
        "policy": s.policy,
        "live": label,
        "routingStatus": live.routing_status.value if live is not None else "",
        "skipped": s.kind.value,
        "desired": desired,
    }


def _safety_rows(result: CycleResult) -> list[dict[str, Any]]:
    """Agents a safety rule protects (logged out, out of office, not responding), one row each."""
    targets = {d.user_id: d.decision.target for d in result.plan.decisions}
    rows = []
    for s in result.plan.skipped:
        if s.kind in SAFETY_SKIPS:
            target = targets.get(s.user_id)
            rows.append(_safety_row(result, s, target.name if target is not None else ""))
    return rows


def _table(rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> list[str]:
    """Left-aligned columns; the last one is never padded."""
    headers = [h for h, _ in columns]
    keys = [k for _, k in columns]
    widths = [max(len(h), *(len(str(r[k])) for r in rows)) for h, k in zip(headers, keys, strict=True)]
    widths[-1] = len(headers[-1])
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in rows:
        lines.append("  ".join(str(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip())
    return lines


def plan_json(result: CycleResult) -> dict[str, Any]:
    p = result.plan
    skipped = Counter(s.kind.value for s in p.skipped)
    return {
        "version": PLAN_FORMAT_VERSION,
        "now": result.now.isoformat(),
        "managed": p.managed,
        "summary": [
            {"policy": policy, "live": live, "desired": desired, "mode": mode, "agents": n}
            for (policy, live, desired, mode), n in _groups(result).items()
        ],
        "changes": [_row(result, a) for a in p.actions],
        "held": p.held,
        "heldReason": p.held_reason,
        "blastRadiusLimit": p.limit,
        "skipped": dict(sorted(skipped.items())),
        "leftAlone": _safety_rows(result),
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


def _groups(result: CycleResult) -> dict[tuple[str, str, str, str], int]:
    """Changes per (policy, live, desired, mode), sorted: the plan's summary."""
    counts = Counter(
        (r["policy"], r["live"], r["desired"], r["mode"])
        for r in map(lambda a: _row(result, a), result.plan.actions)
    )
    return dict(sorted(counts.items()))


def _summary(result: CycleResult, style: Style) -> list[str]:
    """The HELD notice, the totals, then the changes per policy and per transition."""
    p = result.plan
    lines = [style.held(f"HELD: {p.held_reason}")] if p.held else []
    skipped = Counter(s.kind.value for s in p.skipped)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
    lines.append(
        f"{len(p.actions)} change(s) for {p.managed} managed agent(s)"
        + (f"; skipped: {summary}" if summary else "")
    )
    per_policy: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    for (policy, live, desired, mode), n in _groups(result).items():
        per_policy[policy].append((live, desired, mode, n))
    width = max(
        (len(f"{live} -> {desired}") for rows in per_policy.values() for live, desired, _, _ in rows),
        default=0,
    )
    for policy, transitions in per_policy.items():
        total = sum(n for *_, n in transitions)
        lines.append(f"  {style.bold(policy)}: {total} change(s)")
        for live, desired, mode, n in transitions:
            pad = " " * (width - len(f"{live} -> {desired}"))
            shown_mode = style.held(mode) if mode == "held" else mode
            lines.append(f"    {style.before(live)} -> {style.after(desired)}{pad}  {n:>5}  {shown_mode}")
    return lines


def plan_table(result: CycleResult, style: Style = Style(), also: Sequence[str] = ()) -> str:
    """The diff of `plan`/`apply`; `also`: more summary lines (e.g. the trigger changes)."""
    p = result.plan
    lines = _summary(result, style) + [f"  {line}" for line in also]
    rows = sorted(
        (_row(result, a) for a in p.actions), key=lambda r: (r["policy"], r["live"], r["desired"], r["agent"])
    )
    columns = (
        ("AGENT", "agent"),
        ("LIVE", "live"),
        ("DESIRED", "desired"),
        ("MODE", "mode"),
        ("REASON", "reason"),
    )
    if rows:
        table = _table(rows, columns)
        lines += ["", "    " + table[0]]
        group: tuple[str, str, str] | None = None
        for row, line in zip(rows, table[1:], strict=True):
            key = (row["policy"], row["live"], row["desired"])
            if key != group:
                group = key
                transition = f"{style.before(row['live'])} -> {style.after(row['desired'])}"
                lines.append(f"  {style.bold(row['policy'])}: {transition}")
            lines.append("    " + line)
    left_alone = _safety_rows(result)
    if left_alone:
        lines += ["", "left alone (never written):"]
        lines += _table(
            left_alone,
            (
                ("AGENT", "agent"),
                ("POLICY", "policy"),
                ("LIVE", "live"),
                ("ROUTING", "routingStatus"),
                ("SKIPPED", "skipped"),
                ("DESIRED", "desired"),
            ),
        )
    notes = []
    if any(a.signs_out for a in p.actions):
        notes.append("(signs out): Offline signs a logged-in agent's presence out; they stay logged in")
    notes += [f"conflict: {c}" for c in p.conflicts]
    if result.next_boundary is not None:
        notes.append(style.dim(f"next boundary: {result.next_boundary.isoformat()}"))
    return "\n".join(lines + (["", *notes] if notes else []))


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, line breaks flattened."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
    return lines


def plan_markdown(result: CycleResult, triggers: Sequence[TriggerStep] = ()) -> str:
    """Summary first (changes by policy and desired presence, held, skipped, triggers), then the
    change table, folded into <details> when longer than MARKDOWN_OPEN_ROWS."""
    p = result.plan
    rows = sorted((_row(result, a) for a in p.actions), key=lambda r: (r["policy"], r["desired"], r["agent"]))
    trigger_changes = [t for t in triggers if t.action.value != "unchanged"]
    lines = [
        f"**presencectl plan**: {len(rows)} presence change(s) for {p.managed} managed agent(s), "
        f"{len(trigger_changes)} trigger change(s)",
        "",
    ]
    if p.held:
        lines += [f"> [!WARNING]\n> Held by the blast-radius guard: {_cell(p.held_reason)}", ""]
    by_group = Counter((r["policy"], r["desired"], r["mode"]) for r in rows)
    if by_group:
        lines += _md_table(
            ("policy", "desired presence", "mode", "agents"),
            [(*key, n) for key, n in sorted(by_group.items())],
        )
        lines.append("")
    skipped = Counter(s.kind.value for s in p.skipped)
    if skipped:
        lines += ["Skipped: " + ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items())), ""]
    lines += [f"Conflict: {_cell(c)}" for c in p.conflicts]
    if trigger_changes:
        lines += _md_table(
            ("trigger action", "trigger", "reason"),
            [
                (t.action.value if t.write else f"({t.action.value})", t.name, t.reason)
                for t in trigger_changes
            ],
        )
        lines.append("")
    if rows:
        table = _md_table(
            ("agent", "policy", "live", "desired", "mode", "reason", "rule"),
            [
                (r["agent"], r["policy"], r["live"], r["desired"], r["mode"], r["reason"], r["source"])
                for r in rows
            ],
        )
        if len(rows) > MARKDOWN_OPEN_ROWS:
            lines += [f"<details><summary>All {len(rows)} changes</summary>", "", *table, "", "</details>"]
        else:
            lines += table
        lines.append("")
    if result.next_boundary is not None:
        lines.append(f"Next boundary: {result.next_boundary.isoformat()}")
    return "\n".join(lines).rstrip() + "\n"
