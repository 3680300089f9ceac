"""`presencectl validate DIR`: exit 0 when the desired state is valid, 2 when not (or unreadable).

With connection settings (flags or GENESYS_* variables) and without --offline, the org's presence
catalog and agents are read through the Genesys client, so secondary presence labels, user ids,
e-mails, groups and management units are checked too; otherwise only what needs no org is checked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TextIO

from controller.core.domain import Agent, PresenceCatalog
from controller.log import register_secrets
from controller.model.errors import (
    ERROR,
    SEVERITY_ORDER,
    WARNING,
    DesiredStateError,
    Diagnostic,
    secrets_in,
)
from controller.model.loader import check_files, desired_files
from controller.model.types import DesiredState

VALID, INVALID = 0, 2


def run(args: argparse.Namespace) -> int:
    org: tuple[PresenceCatalog, list[Agent]] | None = None
    if not args.offline and _has_connection(args):
        from controller.genesys import ConfigError, GenesysError  # lazy: offline runs skip the client

        try:
            org = read_org(args)
        except (ConfigError, GenesysError) as exc:
            print(
                f"error: cannot read the org: {exc} (use --offline to validate without it)", file=sys.stderr
            )
            return INVALID
    elif not args.offline:
        print("no connection settings: validating offline (set --api-base or --region)", file=sys.stderr)
    catalog, agents = org if org is not None else (None, None)
    return validate(
        args.directory,
        output=args.output,
        out=sys.stdout,
        catalog=catalog,
        agents=agents,
        strict=getattr(args, "strict", False),
    )


def _has_connection(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "api_base", None) or getattr(args, "region", None))


def read_org(args: argparse.Namespace) -> tuple[PresenceCatalog, list[Agent]]:
    """The org's presence catalog and agents (with groups, and their WFM management units)."""
    from controller.commands.connection import config_from_args
    from controller.genesys import GenesysClient

    # Interactive: one retry is enough to ride out a blip; the daemon's patience is not wanted here.
    config = replace(config_from_args(args), max_retries=1)
    with GenesysClient(config) as client:
        catalog = client.presence.presence_catalog()
        users = client.users.list_users(with_groups=True)
        units = client.wfm.unit_membership([u.id for u in users])
    agents = [
        replace(u, management_unit_id=units[u.id].management_unit_id) if u.id in units else u for u in users
    ]
    return catalog, agents


def validate(
    directory: str,
    *,
    output: str = "text",
    out: TextIO = sys.stdout,
    catalog: PresenceCatalog | None = None,
    agents: Sequence[Agent] | None = None,
    strict: bool = False,
) -> int:
    """Validate against the real clock; prints diagnostics, returns the exit code. `strict`:
    warnings (an expired override) are errors."""
    try:
        files = desired_files(directory)
    except DesiredStateError as exc:
        return report(exc.diagnostics, None, output, out)
    state, diagnostics = check_files(files, now=datetime.now(UTC), catalog=catalog, agents=agents)
    register_secrets(secrets_in(diagnostics))  # an inline secret it found never reaches a log
    if strict and any(d.severity == WARNING for d in diagnostics):
        diagnostics = [replace(d, severity=ERROR) if d.severity == WARNING else d for d in diagnostics]
        state = None
    return report(diagnostics, state, output, out, len(files))


def report(
    diagnostics: Sequence[Diagnostic],
    state: DesiredState | None,
    output: str,
    out: TextIO,
    files: int = 0,
) -> int:
    if output == "json":
        json.dump([d.to_json() for d in diagnostics], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        # Errors first: they are what stops the set; warnings, then notes (unchecked names) follow.
        for diagnostic in sorted(diagnostics, key=lambda d: SEVERITY_ORDER.index(d.severity)):
            out.write(f"{diagnostic}\n")
        out.write(_summary(diagnostics, state, files) + "\n")
    return VALID if state is not None else INVALID


def _summary(diagnostics: Sequence[Diagnostic], state: DesiredState | None, files: int) -> str:
    errors = sum(1 for d in diagnostics if d.severity == ERROR)
    warnings = sum(1 for d in diagnostics if d.severity == WARNING)
    notes = len(diagnostics) - errors - warnings
    noted = (f", {warnings} warning(s)" if warnings else "") + (f", {notes} note(s)" if notes else "")
    if state is None:
        failing = len({d.location.file for d in diagnostics if d.severity == ERROR})
        return f"invalid: {errors} error(s) in {failing} file(s){noted}; nothing will be applied"
    return (
        f"valid: {files} file(s), {len(state.policies)} PresencePolicy, "
        f"{len(state.mappings)} PresenceMapping, {len(state.subscriptions)} EventSubscription"
        f"{noted}; digest {state.digest[:12]}"
    )
