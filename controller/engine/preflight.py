"""Local configuration checked before the first network call: the audit log can be written, the
webhook secret can be read, the HTTP port is free. A wrong setting then costs no token, no
directory read, and is reported as one `configuration error:` line (exit 2)."""

from __future__ import annotations

import errno
import socket
import tempfile
from pathlib import Path

from controller.adherence.store import StoreError, TimelineStore
from controller.failures import LocalConfigError
from controller.http import parse_bind
from controller.model.types import ControllerConfig
from controller.webhook import load_secret


def check_audit_path(path: str) -> None:
    """The audit log's directory exists (created if missing) and the log can be appended to.
    A missing log is not created here (its appearance means the daemon wrote its first record):
    a scratch file in its directory proves it could be."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            with target.open("a"):
                pass
        else:
            with tempfile.TemporaryFile(dir=target.parent, prefix=".presencectl-preflight-"):
                pass
    except OSError as exc:
        raise LocalConfigError(
            f"audit log {target} cannot be written ({exc.strerror or exc}); "
            "set audit.path in ControllerConfig to a writable file"
        ) from None


def check_adherence_database(path: str) -> None:
    """The timeline database opens (created and migrated if needed)."""
    try:
        TimelineStore(path).close()
    except (StoreError, OSError) as exc:
        raise LocalConfigError(f"{exc}; set adherence.path in ControllerConfig to a writable file") from None


def check_port_free(bind: str) -> None:
    """`bind` parses and nothing listens there (port 0 always passes: a free one is picked)."""
    try:
        host, port = parse_bind(bind)
    except ValueError as exc:
        raise LocalConfigError(f"{exc}; fix http.bind in ControllerConfig") from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise LocalConfigError(
                f"HTTP port {host}:{port} {why}; stop what holds it or set http.bind in ControllerConfig "
                "(port 0 picks a free one)"
            ) from None


def check_local(config: ControllerConfig, *, daemon: bool) -> None:
    """Everything `apply` (daemon=False) or `run` (daemon=True) needs locally; raises LocalConfigError."""
    check_audit_path(config.audit_path)
    if daemon:
        check_adherence_database(config.adherence_database)
        if config.webhook_secret is not None:
            load_secret(config.webhook_secret)
        check_port_free(config.http_bind)
