"""`presencectl simulate DIR --date D [--compare OTHER] [--output table|json|svg]`: what a
desired set (and how another differs) would do over one day of the org's published schedules.
Reads the org (directory, presence catalog, schedules), never writes to it."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from controller.commands.connection import open_session_from_args
from controller.commands.simulate_report import day_json, difference_lines, differences, svg_chart, table
from controller.core.selection import select_agents
from controller.core.simulate import Day, OrgSnapshot, simulate_day
from controller.core.timeline import day_start
from controller.engine.session import Session, load_live, utc_now
from controller.failures import LocalConfigError
from controller.model.types import DesiredState


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LocalConfigError(f"--date {text!r}: give a date as YYYY-MM-DD, e.g. 2026-12-15") from None


def _zone(text: str | None, state: DesiredState, agents: Any) -> str:
    """--timezone, else the zone of the policy managing the most agents."""
    if text:
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise LocalConfigError(
                f"--timezone {text!r} is not an IANA time zone, e.g. Europe/London"
            ) from None
        return text
    counts = Counter(p.timezone for p in select_agents(state, agents).by_agent.values())
    if counts:
        return counts.most_common(1)[0][0]
    return state.policies[0].timezone if state.policies else "UTC"


def read_org_snapshot(session: Session, states: list[DesiredState], start: datetime) -> OrgSnapshot:
    """The org's agents, presence catalog and the schedules of every agent either set manages,
    covering the day that begins at `start`."""
    directory = session.org_reader.directory(utc_now())
    managed: set[str] = set()
    for state in states:
        managed |= select_agents(state, directory.agents).by_agent.keys()
    schedules = session.org_reader.schedules(directory, managed, start)
    return OrgSnapshot(
        directory.agents, schedules.by_agent, schedules.codes, session.client.presence.presence_catalog()
    )


def simulate(args: argparse.Namespace) -> tuple[Day, Day | None, str]:
    """(this set's day, the other set's day or None, time zone) for the parsed arguments."""
    day = _day(args.date)
    session = open_session_from_args(args)
    states = [session.state]
    if args.compare:
        states.append(load_live(args.compare, session.client, session.org_reader, utc_now()))
    tz = _zone(args.timezone, session.state, session.org_reader.directory(utc_now()).agents)
    start, end = day_start(day, tz), day_start(day + timedelta(days=1), tz)
    org = read_org_snapshot(session, states, start)
    ours = simulate_day(states[0], org, start, end)
    theirs = simulate_day(states[1], org, start, end) if len(states) > 1 else None
    return ours, theirs, tz


def run(args: argparse.Namespace) -> int:
    ours, theirs, tz = simulate(args)
    here, there = args.directory, args.compare or ""
    when = f"{ours.start.astimezone(ZoneInfo(tz)):%Y-%m-%d} ({tz})"
    if args.output == "json":
        body: dict[str, Any] = {"directory": here, **day_json(ours, tz)}
        if theirs is not None:
            body["compare"] = {
                "directory": there,
                **day_json(theirs, tz),
                "differences": [
                    {"at": d.at.isoformat(), "agents": d.agents, "ours": d.ours, "theirs": d.theirs}
                    for d in differences(ours, theirs, tz)
                ],
            }
        print(json.dumps(body, indent=2))
    elif args.output == "svg":
        days = [(here, ours)] + ([(there, theirs)] if theirs is not None else [])
        print(svg_chart(days, tz, f"presencectl simulate {when}"), end="")
    else:
        print(table(ours, tz, f"{here} on {when}, every agent taking each presence it is told:"))
        if theirs is not None:
            print()
            print(table(theirs, tz, f"{there} on {when}:"))
            print()
            print(f"where {there} differs from {here}, agent by agent:")
            print(difference_lines(differences(ours, theirs, tz), here, there))
    return 0
