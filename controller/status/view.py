"""The status view model: a pure function of what the daemon knows (pure, no I/O).

`build_status(facts, now)` turns the daemon's last cycles, desired-state digest, stream state,
budget use and audit tail into a `StatusView`; `select_agents_page` filters, searches and pages
its agent rows server-side (10,000+ agents never make one huge page); `status_json` is the
document `/status.json` serves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from controller.core.domain import Agent, ObservedAgent, PresenceCatalog
from controller.core.planner import Action, Skip, SkipKind
from controller.core.timeline import Decision
from controller.model.types import NOWHERE, Mode

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


class AgentFilter(StrEnum):
    ALL = "all"
    OUT = "out"  # out of desired presence (a correction is due, held, or a rule leaves it)
    SKIPPED = "skipped"  # left alone by a rule (any skip but in-desired)
    HELD = "held"  # a correction held by the blast-radius guard


@dataclass(frozen=True, slots=True)
class LastWrite:
    """The daemon's last write (or recorded non-write) for one agent."""

    at: datetime
    to: str  # presence label
    result: str  # ok | failed (code) | held | observed | backoff
    latency_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """What the latest cycle that looked at an agent concluded about it."""

    agent: Agent
    policy: str
    decision: Decision
    observed: ObservedAgent | None
    action: Action | None
    skip: Skip | None


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    name: str
    mode: Mode
    suspended: bool
    timezone: str


@dataclass(frozen=True)
class StatusFacts:
    """Everything the page shows, as the daemon's shell gathered it."""

    digest: str
    loaded_at: datetime | None
    desired_error: str
    role: str  # "leader", "standby", or "single" (no leader election)
    stream_connected: bool
    calls_last_minute: int
    budget_per_minute: int
    last_cycle: datetime | None
    next_boundary: datetime | None
    changing_at_next: int
    held_reason: str
    policies: Sequence[PolicyFacts]
    agents: Mapping[str, AgentFacts]
    catalog: PresenceCatalog | None
    last_writes: Mapping[str, LastWrite]
    adherence_today: Mapping[str, float | None]  # policy -> percent over today's full resyncs
    audit_tail: Sequence[Mapping[str, Any]]  # newest last, as read


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: str
    email: str
    name: str
    policy: str
    desired: str  # presence label, or "-" (no opinion)
    why: str
    where: str  # file:line of the rule, "" when built in
    live: str  # presence label, "" when unread
    routing: str
    state: str  # in-desired | correcting | held | observed | a skip kind
    out_of_desired: bool
    last_action: str
    last_result: str
    last_latency_ms: int | None
    last_at: str


@dataclass(frozen=True, slots=True)
class PolicyRow:
    name: str
    mode: str
    suspended: bool
    managed: int
    in_desired: int
    out_of_desired: int
    no_opinion: int
    unobserved: int
    skipped: Mapping[str, int]
    held: int
    held_reason: str
    adherence_now: float | None
    adherence_today: float | None


@dataclass(frozen=True, slots=True)
class Correction:
    time: str
    agent: str
    policy: str
    before: str
    after: str
    mode: str
    result: str
    latency_ms: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Header:
    now: str
    digest: str
    loaded_at: str
    desired_error: str
    role: str
    stream_connected: bool
    calls_last_minute: int
    budget_per_minute: int
    budget_share: float
    last_cycle: str
    next_boundary: str
    changing_at_next: int
    held_reason: str


@dataclass(frozen=True)
class StatusView:
    header: Header
    policies: tuple[PolicyRow, ...]
    agents: tuple[AgentRow, ...]  # sorted by email
    corrections: tuple[Correction, ...]  # newest first
    counts: Mapping[str, int] = field(default_factory=dict)  # per AgentFilter value


@dataclass(frozen=True)
class AgentsPage:
    rows: tuple[AgentRow, ...]
    matching: int  # rows matching the filter and search
    page: int  # 1-based, clamped to what exists
    pages: int
    size: int
    filter: AgentFilter
    query: str


def _iso(t: datetime | None) -> str:
    return t.isoformat(timespec="seconds") if t is not None else ""


def _label(catalog: PresenceCatalog | None, presence_id: str, fallback: str) -> str:
    found = catalog.by_id(presence_id) if catalog is not None else None
    return found.label if found is not None else fallback


def _state(facts: AgentFacts) -> tuple[str, bool]:
    """The agent's state word and whether its live presence differs from the desired one."""
    if facts.action is not None:
        word = (
            "held" if facts.action.held else "observed" if facts.action.mode is Mode.OBSERVE else "correcting"
        )
        return word, True
    if facts.skip is None:
        return "in-desired", False
    target, live = facts.decision.target, facts.observed
    out = target is not None and live is not None and live.presence_id != target.definition_id
    return facts.skip.kind.value, out


def _agent_row(facts: AgentFacts, last: LastWrite | None, catalog: PresenceCatalog | None) -> AgentRow:
    target, live, reason = facts.decision.target, facts.observed, facts.decision.reason
    state, out = _state(facts)
    desired = "-" if target is None else _label(catalog, target.definition_id or "", target.name)
    live_label = "" if live is None else _label(catalog, live.presence_id, live.system_presence.label)
    return AgentRow(
        user_id=facts.agent.id,
        email=facts.agent.email,
        name=facts.agent.name,
        policy=facts.policy,
        desired=desired,
        why=reason.detail,
        where=""
        if reason.location == NOWHERE
        else f"{Path(reason.location.file).name}:{reason.location.line}",
        live=live_label,
        routing="" if live is None else live.routing_status.value,
        state=state,
        out_of_desired=out,
        last_action=f"set {last.to}" if last is not None else "",
        last_result=last.result if last is not None else "",
        last_latency_ms=(
            round(last.latency_seconds * 1000) if last and last.latency_seconds is not None else None
        ),
        last_at=_iso(last.at) if last is not None else "",
    )


def _policy_rows(facts: StatusFacts, rows: Sequence[AgentRow]) -> tuple[PolicyRow, ...]:
    out: list[PolicyRow] = []
    for p in facts.policies:
        mine = [r for r in rows if r.policy == p.name]
        states = Counter(r.state for r in mine)
        unobserved = sum(1 for r in mine if r.live == "" and r.desired != "-")
        no_opinion = sum(1 for r in mine if r.desired == "-")
        judged = [r for r in mine if r.desired != "-" and r.live != ""]
        in_desired = sum(1 for r in judged if not r.out_of_desired)
        skipped = {
            k.value: states[k.value] for k in SkipKind if k is not SkipKind.IN_DESIRED and states[k.value]
        }
        out.append(
            PolicyRow(
                name=p.name,
                mode=p.mode.value,
                suspended=p.suspended,
                managed=len(mine),
                in_desired=in_desired,
                out_of_desired=len(judged) - in_desired,
                no_opinion=no_opinion,
                unobserved=unobserved,
                skipped=skipped,
                held=states["held"],
                held_reason=facts.held_reason if states["held"] else "",
                adherence_now=100.0 * in_desired / len(judged) if judged else None,
                adherence_today=facts.adherence_today.get(p.name),
            )
        )
    return tuple(out)


def _presence_text(ref: Any) -> str:
    if not isinstance(ref, Mapping):
        return ""
    return str(ref.get("label") or ref.get("system_presence") or ref.get("id") or "")


def _result_text(result: Any) -> str:
    if not isinstance(result, Mapping):
        return str(result or "")
    code = result.get("error_code")
    return f"{result.get('status', '')} ({code})" if code else str(result.get("status", ""))


def _correction(record: Mapping[str, Any]) -> Correction | None:
    agent = record.get("agent")
    if not isinstance(agent, Mapping):  # a trigger change, not a presence correction
        return None
    if record.get("phase") == "intent":  # the write-ahead half; its outcome record follows
        return None
    reason = record.get("reason") if isinstance(record.get("reason"), Mapping) else {}
    latency = record.get("latency_ms")
    return Correction(
        time=str(record.get("time", "")),
        agent=str(agent.get("email") or agent.get("id") or ""),
        policy=str(record.get("policy", "")),
        before=_presence_text(record.get("before")),
        after=_presence_text(record.get("after") or record.get("desired")),
        mode=str(record.get("mode", "")),
        result=_result_text(record.get("result")),
        latency_ms=int(latency) if isinstance(latency, int | float) else None,
        reason=str(reason.get("text", "")) if isinstance(reason, Mapping) else "",
    )


def build_status(facts: StatusFacts, now: datetime, corrections: int = 50) -> StatusView:
    """The whole view at `now` (pure); `corrections` caps the recent-corrections list."""
    rows = tuple(
        sorted(
            (_agent_row(f, facts.last_writes.get(uid), facts.catalog) for uid, f in facts.agents.items()),
            key=lambda r: (r.email or r.user_id).casefold(),
        )
    )
    recent: list[Correction] = []
    for record in reversed(facts.audit_tail):
        c = _correction(record)
        if c is not None:
            recent.append(c)
        if len(recent) >= corrections:
            break
    budget = max(1, facts.budget_per_minute)
    header = Header(
        now=_iso(now),
        digest=facts.digest,
        loaded_at=_iso(facts.loaded_at),
        desired_error=facts.desired_error,
        role=facts.role,
        stream_connected=facts.stream_connected,
        calls_last_minute=facts.calls_last_minute,
        budget_per_minute=facts.budget_per_minute,
        budget_share=round(facts.calls_last_minute / budget, 4),
        last_cycle=_iso(facts.last_cycle),
        next_boundary=_iso(facts.next_boundary),
        changing_at_next=facts.changing_at_next,
        held_reason=facts.held_reason,
    )
    counts = {f.value: sum(1 for r in rows if _matches(r, f)) for f in AgentFilter}
    return StatusView(header, _policy_rows(facts, rows), rows, tuple(recent), counts)


def _matches(row: AgentRow, which: AgentFilter) -> bool:
    if which is AgentFilter.OUT:
        return row.out_of_desired
    if which is AgentFilter.SKIPPED:
        return row.state in {k.value for k in SkipKind if k is not SkipKind.IN_DESIRED}
    if which is AgentFilter.HELD:
        return row.state == "held"
    return True


def parse_filter(text: str | None) -> AgentFilter:
    try:
        return AgentFilter(text or "all")
    except ValueError:
        return AgentFilter.ALL


def select_agents_page(
    view: StatusView,
    which: AgentFilter = AgentFilter.ALL,
    query: str = "",
    page: int = 1,
    size: int = PAGE_SIZE,
) -> AgentsPage:
    """One page of the agents matching `which` and containing `query` (case-insensitive, in
    email, name, policy, presences or state)."""
    size = min(max(1, size), MAX_PAGE_SIZE)
    needle = query.strip().casefold()
    found = [
        r
        for r in view.agents
        if _matches(r, which)
        and (
            not needle
            or any(
                needle in v.casefold()
                for v in (r.email, r.name, r.user_id, r.policy, r.desired, r.live, r.state)
            )
        )
    ]
    pages = max(1, -(-len(found) // size))
    page = min(max(1, page), pages)
    rows = tuple(found[(page - 1) * size : page * size])
    return AgentsPage(rows, len(found), page, pages, size, which, query.strip())


def status_json(view: StatusView, agents: AgentsPage) -> dict[str, Any]:
    return {
        "header": asdict(view.header),
        "policies": [asdict(p) for p in view.policies],
        "counts": dict(view.counts),
        "agents": {
            "filter": agents.filter.value,
            "query": agents.query,
            "page": agents.page,
            "pages": agents.pages,
            "size": agents.size,
            "matching": agents.matching,
            "rows": [asdict(r) for r in agents.rows],
        },
        "corrections": [asdict(c) for c in view.corrections],
    }
