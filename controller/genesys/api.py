"""GenesysClient: one connection to an org, its endpoints grouped by resource (docs/genesys-api.md).

    client.users           directory: users and groups            (controller.genesys.users)
    client.presence        presence and routing status, bulk       (controller.genesys.presence)
    client.wfm             units, schedules, adherence             (controller.genesys.wfm)
    client.triggers        process automation triggers             (controller.genesys.triggers)
    client.notifications   notification channels, subscriptions    (controller.genesys.notifications)

Every resource shares one transport (OAuth, retries, the one rate budget) and one small thread
pool: batch reads run concurrently, yet every request still passes the budget, so concurrency
shortens latency without raising the rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from controller.genesys.backoff import DEFAULT_BACKOFF, Backoff
from controller.genesys.budget import RateBudget, shared_budget
from controller.genesys.calls import ApiCalls
from controller.genesys.config import ClientConfig
from controller.genesys.notifications import Notifications
from controller.genesys.presence import Presence
from controller.genesys.stats import ClientStats
from controller.genesys.transport import Transport
from controller.genesys.triggers import Triggers
from controller.genesys.users import Users
from controller.genesys.wfm import Wfm


class GenesysClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        stats: ClientStats | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        workers: int = 4,
        catalog_ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.budget = (
            budget
            if budget is not None
            else shared_budget(config.rate_per_minute, (config.api_base, config.client_id))
        )
        self.stats = stats if stats is not None else ClientStats()
        self.transport = Transport(
            config,
            budget=self.budget,
            session=session,
            stats=self.stats,
            backoff=backoff,
            sleep=sleep,
            clock=clock,
        )
        self.api = ApiCalls(config, self.transport, workers=workers, clock=clock, sleep=sleep)
        self.users = Users(self.api)
        self.presence = Presence(self.api, catalog_ttl_seconds=catalog_ttl_seconds)
        self.notifications = Notifications(self.api)
        self.wfm = Wfm(self.api, self.notifications)
        self.triggers = Triggers(self.api)

    def set_write_guard(self, guard: Callable[[], bool]) -> None:
        """Presence and trigger writes are sent only while `guard()` holds, asked right before
        each attempt goes on the wire (else Fenced, never retried): the coordination lease."""
        self.transport.write_guard = guard

    def abandon_reads(self) -> None:
        """Shutdown: reads in progress or to come raise ReadsAbandoned at once; writes finish."""
        self.transport.abandon_reads()

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
