"""`presencectl adherence DIR --from DATE --to DATE`: read the org, the schedules and the timeline,
print the figures (controller.adherence.report), optionally beside Genesys's own or exported."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from controller.adherence.compute import check_range
from controller.adherence.report import (
    AgentDay,
    Comparison,
    agent_days,
    per_agent,
    render_csv,
    render_json,
    render_table,
)
from controller.adherence.store import TimelineStore
from controller.engine.session import Session, open_session, utc_now
from controller.failures import LocalConfigError
from controller.genesys import GenesysClient
from controller.localtime import day_start
from controller.metrics import Metrics
from controller.model.types import PresencePolicy
from controller.selection import select_agents


@dataclass(frozen=True)
class Query:
    first: date
    last: date
    agent: str | None = None
    policy: str | None = None


def parse_query(args: argparse.Namespace) -> Query:
    try:
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError as exc:
        raise LocalConfigError(f"--from/--to must be dates like 2026-11-24 ({exc})") from None
    problem = check_range(first, last)
    if problem is not None:
        raise LocalConfigError(problem)
    return Query(first, last, args.agent, args.policy)


def compute_days(session: Session, query: Query, database: str, now: datetime) -> list[AgentDay]:
    """The agent-days of the query from the live org and the timeline database."""
    state = session.state
    directory = session.world.directory(now)
    managed = select_agents(state, directory.agents).by_agent
    if query.policy is not None and query.policy not in {p.name for p in state.policies}:
        names = ", ".join(sorted(p.name for p in state.policies))
        raise LocalConfigError(f"--policy {query.policy}: no such PresencePolicy (there are: {names})")
    chosen = {a: p for a, p in managed.items() if query.policy is None or p.name == query.policy}
    if query.agent is not None:
        agent = directory.find(query.agent)
        if agent is None or agent.id not in chosen:
            raise LocalConfigError(
                f"--agent {query.agent}: not an agent managed by {query.policy or 'any policy'}"
            )
        chosen = {agent.id: chosen[agent.id]}
    if not Path(database).exists():
        raise LocalConfigError(
            f"no adherence database at {database}: the daemon (presencectl run) records it"
        )
    start, end = _bounds(chosen.values(), query.first, query.last)
    schedules = session.world.schedules_between(directory, chosen, start - timedelta(days=1), end, now)
    store = TimelineStore(database)
    try:
        spans = store.spans(start, end, chosen)
    finally:
        store.close()
    agents = [directory.by_id[a] for a in chosen]
    catalog = session.client.presence_catalog()
    return agent_days(
        chosen, agents, schedules.by_agent, schedules.codes, catalog, spans, query.first, query.last
    )


def _bounds(policies: Iterable[PresencePolicy], first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC span of the local days [first, last] in every zone involved."""
    zones = {p.timezone for p in policies} or {"UTC"}
    return (
        min(day_start(first, z) for z in zones),
        max(day_start(last + timedelta(days=1), z) for z in zones),
    )


def compare_with_genesys(
    client: GenesysClient, days: Sequence[AgentDay], first: date, last: date
) -> list[Comparison]:
    """Genesys's historical adherence for the same agents and local range, one query per
    management unit and policy time zone (agents outside WFM have no Genesys figure)."""
    ours = per_agent(days)
    agents = {d.agent.id: d.agent for d in days}
    zone_of = {d.agent.id: d.policy.timezone for d in days}
    groups: dict[tuple[str, str], list[str]] = {}
    for uid, agent in agents.items():
        if agent.management_unit_id is not None:
            groups.setdefault((agent.management_unit_id, zone_of[uid]), []).append(uid)
    theirs: dict[str, float | None] = {}
    for (mu, zone), user_ids in sorted(groups.items()):
        start, end = day_start(first, zone), day_start(last + timedelta(days=1), zone)
        rows = client.historical_adherence(
            mu, start, end, sorted(user_ids), time_zone=zone, include_exceptions=False
        )
        theirs.update((r.user_id, r.adherence_percentage) for r in rows)
    return [
        Comparison(agents[uid], ours[uid].adherence_percent, theirs.get(uid))
        for uid in sorted(agents, key=lambda u: (agents[u].email, u))
    ]


def render(days: Sequence[AgentDay], comparisons: Sequence[Comparison], output: str) -> str:
    if output == "json":
        return render_json(days, comparisons)
    if output == "csv":
        return render_csv(days)
    return render_table(days, comparisons)


def run(args: argparse.Namespace) -> int:
    query = parse_query(args)  # a bad range fails before any call
    session = open_session(args)
    database = args.database or session.state.config.adherence_database
    days = compute_days(session, query, database, utc_now())
    comparisons = (
        compare_with_genesys(session.client, days, query.first, query.last) if args.compare_genesys else []
    )
    print(render(days, comparisons, args.output))
    if args.export:
        return export_now(session, days, query, database)
    return 0


def export_now(session: Session, days: Sequence[AgentDay], query: Query, database: str) -> int:
    """--export: spool the range's batches in the timeline database and deliver the spool; what
    is not delivered now is delivered by the daemon (or the next --export), in order."""
    from controller.adherence.daily import exporter_for  # the daemon's module, imported on use

    store = TimelineStore(database)
    try:
        exporter = exporter_for(session.state.config, store, Metrics(), utc_now)
        if exporter is None:
            raise LocalConfigError("--export needs adherenceExport.url in ControllerConfig")
        left = exporter.export(days, query.first, query.last)
    finally:
        store.close()
    print(f"export: {len(days)} agent-day records; {left} batch(es) spooled for later delivery")
    return 0 if left == 0 else 1
