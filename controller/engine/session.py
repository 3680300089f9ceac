"""Open a connection to the org and load the desired state against it (shared by plan/apply/run).

Order matters: the desired state is first checked offline (a broken file never reaches the
network), then the client is configured from flags > environment > ControllerConfig, then the
state is loaded again against the live presence catalog and agents, so unknown presences and
agents are reported with file:line before anything is planned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from controller.engine.org_reader import OrgReader
from controller.genesys import ClientConfig, GenesysClient, RateBudget
from controller.model.loader import load_desired
from controller.model.types import DesiredState

DEFAULT_OWNER = "presencectl"


def utc_now() -> datetime:
    return datetime.now(UTC)


def trigger_owner() -> str:
    """The ownership marker of triggers this daemon manages (one per deployment)."""
    return os.environ.get("PRESENCECTL_OWNER", DEFAULT_OWNER)


HTTP_BIND_ENV = "PRESENCECTL_HTTP_BIND"
AUDIT_PATH_ENV = "PRESENCECTL_AUDIT_PATH"
DATABASE_ENV = "PRESENCECTL_DATABASE"


@dataclass(frozen=True)
class Placement:
    """Where this process listens and keeps its state. The machine decides, not desired/: one
    Git repository serves a laptop, a VM and a pod (the image sets PRESENCECTL_HTTP_BIND=0.0.0.0:9464
    so probes and Prometheus reach it, and puts the audit log and database on its volume).
    None leaves desired/'s ControllerConfig in charge."""

    http_bind: str | None = None
    audit_path: str | None = None
    database: str | None = None

    def apply(self, state: DesiredState) -> DesiredState:
        cfg = state.config
        moved = replace(
            cfg,
            http_bind=self.http_bind or cfg.http_bind,
            audit_path=self.audit_path or cfg.audit_path,
            adherence_path=self.database or cfg.adherence_path,
        )
        return state if moved == cfg else replace(state, config=moved)


def placement(
    http_bind: str | None = None,
    audit_path: str | None = None,
    database: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Placement:
    """The given values (the CLI's `--http-bind`, `--audit-path`, `--database`) win over the
    environment (`PRESENCECTL_HTTP_BIND`, `_AUDIT_PATH`, `_DATABASE`)."""

    def pick(given: str | None, variable: str) -> str | None:
        return (given or environ.get(variable, "")).strip() or None

    return Placement(
        pick(http_bind, HTTP_BIND_ENV), pick(audit_path, AUDIT_PATH_ENV), pick(database, DATABASE_ENV)
    )


def with_environment(state: DesiredState, environ: Mapping[str, str] = os.environ) -> DesiredState:
    """`state` placed by the environment alone (no flags)."""
    return placement(environ=environ).apply(state)


@dataclass(frozen=True)
class Connection:
    """Connection settings given on the command line; each unset one falls back to the
    environment (ClientConfig.from_settings), then to desired/'s ControllerConfig."""

    region: str | None = None
    api_base: str | None = None
    login_base: str | None = None
    client_id_file: str | None = None
    client_secret_file: str | None = None
    rate_per_minute: int | None = None

    def client_for(self, state: DesiredState) -> GenesysClient:
        cfg = state.config
        config = ClientConfig.from_settings(
            region=self.region or cfg.region,
            api_base=self.api_base or cfg.api_base,
            login_base=self.login_base or cfg.login_base,
            client_id_file=self.client_id_file,
            client_secret_file=self.client_secret_file,
            rate_per_minute=self.rate_per_minute or cfg.rate_per_minute,
        )
        return GenesysClient(config)


@dataclass
class Session:
    client: GenesysClient
    org_reader: OrgReader
    state: DesiredState  # resolved against the live catalog
    placement: Placement = Placement()  # applied to `state`, and to every reload of the daemon


def load_live(directory: str, client: GenesysClient, org_reader: OrgReader, now: datetime) -> DesiredState:
    """Load `directory` against the live catalog and agents (DesiredStateError on any problem);
    the org reader takes the state's schedule-search settings (at start and on every reload)."""
    catalog = client.presence.presence_catalog(refresh=True)
    agents = org_reader.directory(now).agents
    state = load_desired(directory, now=now, catalog=catalog, agents=agents)
    cfg = state.config
    org_reader.tune_schedule_search(
        cfg.schedule_search_chunk, timedelta(seconds=cfg.schedule_search_wait_seconds)
    )
    return state


def connect(
    api_base: str,
    login_base: str,
    client_id: str,
    client_secret: str,
    rate_per_minute: int,
    *,
    budget: RateBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> GenesysClient:
    """A client for explicit bases and credentials (the emulator, tests, benchmarks); the
    environment is not consulted. `budget` None: the process-wide budget of that client id;
    `sleep`: its retry pauses (tests inject one)."""
    config = ClientConfig.from_settings(
        api_base=api_base,
        login_base=login_base,
        client_id=client_id,
        client_secret=client_secret,
        rate_per_minute=rate_per_minute,
        env={},
    )
    return GenesysClient(config, budget=budget, sleep=sleep)


def session_on(client: GenesysClient, directory: str, now: datetime) -> Session:
    """Load `directory` against the org `client` reaches and bundle it with a fresh org reader."""
    org_reader = OrgReader(client)
    return Session(client, org_reader, load_live(directory, client, org_reader, now))


def open_session(
    directory: str,
    connection: Connection,
    where: Placement,
    clock: Callable[[], datetime] = utc_now,
    check: Callable[[DesiredState], None] | None = None,
    on_call: Callable[[str, str, int, float, int, int], None] | None = None,
) -> Session:
    """`check` sees the offline-valid state before anything reaches the network (local
    configuration: paths, ports, secrets) and raises to stop there; `on_call` hears every API
    call from the first (e.g. progress)."""
    offline = where.apply(load_desired(directory, now=clock()))
    if check is not None:
        check(offline)
    client = connection.client_for(offline)
    if on_call is not None:
        client.stats.add_listener(on_call)
    session = session_on(client, directory, clock())
    session.state = where.apply(session.state)
    session.placement = where
    return session
