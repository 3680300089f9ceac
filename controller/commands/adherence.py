"""`presencectl adherence DIR --from DATE --to DATE`: read the org, the schedules and the timeline,
print the figures (controller.adherence.report), optionally beside Genesys's own or exported."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, timedelta

from controller.adherence.compute import check_range
from controller.adherence.days import Query, compute_days
from controller.adherence.report import (
    AgentDay,
    Comparison,
    per_agent,
    render_csv,
    render_json,
    render_table,
)
from controller.adherence.store import TimelineStore
from controller.commands.connection import open_session_from_args
from controller.core.timeline import day_start
from controller.engine.session import Session, utc_now
from controller.failures import LocalConfigError
from controller.genesys import GenesysClient
from controller.metrics import Metrics


def parse_query(args: argparse.Namespace) -> Query:
    try:
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError as exc:
        raise LocalConfigError(f"--from/--to must be dates like 2026-11-24 ({exc})") from None
    problem = check_range(first, last)
    if problem is not None:
        raise LocalConfigError(problem)
    return Query(first, last, args.agent, args.policy)


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
        rows = client.wfm.historical_adherence(
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
    session = open_session_from_args(args)
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
