"""Adherence per agent per local day, a per-policy summary and the Genesys comparison (pure).

The shell (controller.commands.adherence) reads the org, the schedules and the timeline; this
module only computes and formats. An agent-day record is also the unit the export sends.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from controller.adherence.compute import (
    DEFAULT_EXCEPTION_THRESHOLD,
    ZERO,
    AgentAdherence,
    ObservedSpan,
    agent_adherence,
    local_days,
    total,
)
from controller.core.domain import ActivityCode, Agent, AgentSchedule, PresenceCatalog
from controller.model.types import PresencePolicy


@dataclass(frozen=True)
class AgentDay:
    policy: PresencePolicy
    agent: Agent
    day: date
    figures: AgentAdherence


@dataclass(frozen=True)
class Comparison:
    agent: Agent
    ours: float | None
    genesys: float | None

    @property
    def difference(self) -> float | None:
        return None if self.ours is None or self.genesys is None else self.ours - self.genesys


def agent_days(
    managed: Mapping[str, PresencePolicy],
    agents: Sequence[Agent],
    schedules: Mapping[str, AgentSchedule],
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    spans: Mapping[str, Sequence[ObservedSpan]],
    first: date,
    last: date,
    threshold: timedelta = DEFAULT_EXCEPTION_THRESHOLD,
) -> list[AgentDay]:
    """Every managed agent's figures for each local day of [first, last] in its policy's zone.
    Agents without any scheduled time in the range (no opinion) are left out."""
    out: list[AgentDay] = []
    for agent in sorted(agents, key=lambda a: (managed[a.id].name, a.email, a.id)):
        policy = managed[agent.id]
        mine = [
            AgentDay(
                policy,
                agent,
                day,
                agent_adherence(
                    policy,
                    agent,
                    schedules.get(agent.id),
                    codes,
                    catalog,
                    spans.get(agent.id, ()),
                    a,
                    b,
                    threshold,
                ),
            )
            for day, a, b in local_days(first, last, policy.timezone)
        ]
        if any(d.figures.scheduled > ZERO for d in mine):
            out.extend(mine)
    return out


def per_agent(days: Sequence[AgentDay]) -> dict[str, AgentAdherence]:
    """The range total of each agent (days summed)."""
    grouped: dict[str, list[AgentDay]] = {}
    for d in days:
        grouped.setdefault(d.agent.id, []).append(d)
    return {
        uid: total([d.figures for d in ds], ds[0].figures.start, ds[-1].figures.end, uid)
        for uid, ds in grouped.items()
    }


def per_policy(days: Sequence[AgentDay]) -> dict[str, AgentAdherence]:
    """The range total of each policy over its agents (time-weighted, unknown excluded)."""
    grouped: dict[str, list[AgentDay]] = {}
    for d in days:
        grouped.setdefault(d.policy.name, []).append(d)
    return {
        name: total(
            [d.figures for d in ds], min(d.figures.start for d in ds), max(d.figures.end for d in ds), name
        )
        for name, ds in grouped.items()
    }


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def record(day: AgentDay) -> dict[str, Any]:
    """The JSON of one agent-day (the report's JSON and the export's unit)."""
    f = day.figures
    return {
        "agentId": day.agent.id,
        "email": day.agent.email,
        "policy": day.policy.name,
        "date": day.day.isoformat(),
        "timeZone": day.policy.timezone,
        "start": _iso(f.start),
        "end": _iso(f.end),
        "scheduledSeconds": f.scheduled.total_seconds(),
        "scheduledByCategory": {
            k.value: v.total_seconds() for k, v in sorted(f.scheduled_by_category.items())
        },
        "inAdherenceSeconds": f.in_adherence.total_seconds(),
        "outOfAdherenceSeconds": f.out_of_adherence.total_seconds(),
        "unknownSeconds": f.unknown.total_seconds(),
        "adherencePercent": _pct(f.adherence_percent),
        "conformancePercent": _pct(f.conformance_percent),
        "exceptions": [
            {
                "start": _iso(e.start),
                "end": _iso(e.end),
                "scheduled": e.scheduled,
                "scheduledCategory": e.scheduled_category.value,
                "systemPresence": e.actual.value,
                "presenceId": e.presence_id,
                "routingStatus": e.routing_status.value,
                "impact": e.impact,
            }
            for e in f.exceptions
        ],
    }


def _hms(t: timedelta) -> str:
    seconds = int(t.total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


_COLUMNS = (
    "date",
    "agent",
    "policy",
    "scheduled",
    "in",
    "out",
    "unknown",
    "adherence%",
    "conformance%",
    "exceptions",
)


def _row(label_day: str, who: str, policy: str, f: AgentAdherence) -> list[str]:
    return [
        label_day,
        who,
        policy,
        _hms(f.scheduled),
        _hms(f.in_adherence),
        _hms(f.out_of_adherence),
        _hms(f.unknown),
        _fmt(f.adherence_percent),
        _fmt(f.conformance_percent),
        str(len(f.exceptions)),
    ]


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    )


def render_table(days: Sequence[AgentDay], comparisons: Sequence[Comparison] = ()) -> str:
    rows = [_row(d.day.isoformat(), d.agent.email or d.agent.id, d.policy.name, d.figures) for d in days]
    summary = [_row("all", "(all agents)", name, f) for name, f in sorted(per_policy(days).items())]
    parts = [_table(rows, _COLUMNS) if rows else "no managed agent has scheduled time in this range"]
    if summary:
        parts += ["", "per policy:", _table(summary, _COLUMNS)]
    exceptions = [
        [
            d.agent.email or d.agent.id,
            _iso(e.start),
            _iso(e.end),
            e.scheduled,
            e.actual.label,
            e.routing_status.value,
            e.impact,
        ]
        for d in days
        for e in d.figures.exceptions
    ]
    if exceptions:
        header = ["agent", "from", "until", "scheduled", "actual", "routing", "impact"]
        parts += ["", "exceptions:", _table(exceptions, header)]
    if comparisons:
        parts += ["", "compared with Genesys historical adherence:", render_comparison(comparisons)]
    return "\n".join(parts)


def render_comparison(comparisons: Sequence[Comparison]) -> str:
    rows = [
        [c.agent.email or c.agent.id, _fmt(c.ours), _fmt(c.genesys), _fmt(c.difference)] for c in comparisons
    ]
    return _table(rows, ["agent", "presencectl%", "genesys%", "difference"])


def render_json(days: Sequence[AgentDay], comparisons: Sequence[Comparison] = ()) -> str:
    doc: dict[str, Any] = {
        "agentDays": [record(d) for d in days],
        "policies": [
            {
                "policy": name,
                "scheduledSeconds": f.scheduled.total_seconds(),
                "inAdherenceSeconds": f.in_adherence.total_seconds(),
                "outOfAdherenceSeconds": f.out_of_adherence.total_seconds(),
                "unknownSeconds": f.unknown.total_seconds(),
                "adherencePercent": _pct(f.adherence_percent),
                "conformancePercent": _pct(f.conformance_percent),
            }
            for name, f in sorted(per_policy(days).items())
        ],
    }
    if comparisons:
        doc["genesys"] = [
            {
                "agentId": c.agent.id,
                "email": c.agent.email,
                "presencectlPercent": _pct(c.ours),
                "genesysPercent": _pct(c.genesys),
                "difference": _pct(c.difference),
            }
            for c in comparisons
        ]
    return json.dumps(doc, indent=2)


def render_csv(days: Sequence[AgentDay]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "date",
            "agent_id",
            "email",
            "policy",
            "scheduled_s",
            "in_adherence_s",
            "out_of_adherence_s",
            "unknown_s",
            "adherence_pct",
            "conformance_pct",
            "exceptions",
        ]
    )
    for d in days:
        f = d.figures
        writer.writerow(
            [
                d.day.isoformat(),
                d.agent.id,
                d.agent.email,
                d.policy.name,
                f.scheduled.total_seconds(),
                f.in_adherence.total_seconds(),
                f.out_of_adherence.total_seconds(),
                f.unknown.total_seconds(),
                _fmt(f.adherence_percent) if f.adherence_percent is not None else "",
                _fmt(f.conformance_percent) if f.conformance_percent is not None else "",
                len(f.exceptions),
            ]
        )
    return out.getvalue()
