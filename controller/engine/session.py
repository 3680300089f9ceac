"""Open a connection to the org and load the desired state against it (shared by plan/apply/run).

Order matters: the desired state is first checked offline (a broken file never reaches the
network), then the client is configured from flags > environment > ControllerConfig, then the
state is loaded again against the live presence catalog and agents, so unknown presences and
agents are reported with file:line before anything is planned.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from controller.engine.world import WorldReader
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


def with_environment(state: DesiredState, environ: Mapping[str, str] = os.environ) -> DesiredState:
    """Where the process runs decides the listen address, not desired/ (one Git repository serves
    a laptop, a VM and a pod): $PRESENCECTL_HTTP_BIND overrides http.bind (the image sets
    0.0.0.0:9464 so probes and Prometheus reach it from outside the container)."""
    bind = environ.get(HTTP_BIND_ENV, "").strip()
    if not bind:
        return state
    return replace(state, config=replace(state.config, http_bind=bind))


@dataclass
class Session:
    client: GenesysClient
    world: WorldReader
    state: DesiredState  # resolved against the live catalog


def client_for(args: argparse.Namespace, state: DesiredState) -> GenesysClient:
    cfg = state.config
    config = ClientConfig.from_settings(
        region=args.region or cfg.region,
        api_base=args.api_base or cfg.api_base,
        login_base=args.login_base or cfg.login_base,
        client_id_file=args.client_id_file,
        client_secret_file=args.client_secret_file,
        rate_per_minute=args.rate_per_minute or cfg.rate_per_minute,
    )
    return GenesysClient(config)


def load_live(directory: str, client: GenesysClient, world: WorldReader, now: datetime) -> DesiredState:
    """Load `directory` against the live catalog and agents (DesiredStateError on any problem);
    the world reader takes the state's schedule-search settings (at start and on every reload)."""
    catalog = client.presence.presence_catalog(refresh=True)
    agents = world.directory(now).agents
    state = load_desired(directory, now=now, catalog=catalog, agents=agents)
    cfg = state.config
    world.tune_schedule_search(cfg.schedule_search_chunk, timedelta(seconds=cfg.schedule_search_wait_seconds))
    return state


def connect(
    api_base: str,
    login_base: str,
    client_id: str,
    client_secret: str,
    rate_per_minute: int,
    *,
    budget: RateBudget | None = None,
) -> GenesysClient:
    """A client for explicit bases and credentials (the emulator, tests, benchmarks); the
    environment is not consulted. `budget` None: the process-wide budget of that client id."""
    config = ClientConfig.from_settings(
        api_base=api_base,
        login_base=login_base,
        client_id=client_id,
        client_secret=client_secret,
        rate_per_minute=rate_per_minute,
        env={},
    )
    return GenesysClient(config, budget=budget)


def session_on(client: GenesysClient, directory: str, now: datetime) -> Session:
    """Load `directory` against the org `client` reaches and bundle it with a fresh world reader."""
    world = WorldReader(client)
    return Session(client, world, load_live(directory, client, world, now))


def open_session(
    args: argparse.Namespace,
    clock: Callable[[], datetime] = utc_now,
    check: Callable[[DesiredState], None] | None = None,
) -> Session:
    """`check` sees the offline-valid state before anything reaches the network (local
    configuration: paths, ports, secrets) and raises to stop there."""
    offline = with_environment(load_desired(args.directory, now=clock()))
    if check is not None:
        check(offline)
    session = session_on(client_for(args, offline), args.directory, clock())
    session.state = with_environment(session.state)
    return session
