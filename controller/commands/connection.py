"""The CLI's connection and placement flags (controller.cli) -> the engine's plain settings.

argparse stays in the command layer: the client takes plain settings (ClientConfig.from_settings),
the session a Connection and a Placement.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from datetime import datetime

from controller.engine.session import Connection, Placement, Session, open_session, placement, utc_now
from controller.genesys import ClientConfig
from controller.model.types import DesiredState


def config_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ClientConfig:
    """From the options of controller.cli.add_connection_options (their defaults read the env)."""
    return ClientConfig.from_settings(**asdict(connection_from_args(args)), env=env)


def connection_from_args(args: argparse.Namespace) -> Connection:
    """The connection flags (each None when not given)."""
    return Connection(**{f.name: getattr(args, f.name, None) for f in fields(Connection)})


def placement_from_args(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Placement:
    """`--http-bind`, `--audit-path`, `--database` over their PRESENCECTL_* variables."""
    given = (
        getattr(args, "http_bind", None),
        getattr(args, "audit_path", None),
        getattr(args, "database", None),
    )
    return placement(*given) if environ is None else placement(*given, environ=environ)


def open_session_from_args(
    args: argparse.Namespace,
    clock: Callable[[], datetime] = utc_now,
    check: Callable[[DesiredState], None] | None = None,
    on_call: Callable[[str, str, int, float, int, int], None] | None = None,
) -> Session:
    """controller.engine.session.open_session with the command's flags."""
    return open_session(
        args.directory, connection_from_args(args), placement_from_args(args), clock, check, on_call
    )
