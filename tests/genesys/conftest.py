"""Client fixtures: an emulator per test plus a GenesysClient wired to it with small backoffs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from controller.emulator.server import RunningEmulator, start_emulator
from controller.genesys import Backoff, ClientConfig, GenesysClient, RateBudget

FAST_BACKOFF = Backoff(base_seconds=0.01, cap_seconds=0.05)


def client_for(emu: RunningEmulator, *, rate: int = 6000, **kwargs: Any) -> GenesysClient:
    """A client with its own budget (tests must not share the process-wide one)."""
    config_kw = {
        k: kwargs.pop(k) for k in ("max_retries", "max_retry_after_seconds", "timeout_seconds") if k in kwargs
    }
    config = ClientConfig(
        api_base=emu.api_base,
        login_base=emu.login_base,
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        rate_per_minute=rate,
        **config_kw,
    )
    kwargs.setdefault("backoff", FAST_BACKOFF)
    return GenesysClient(config, budget=kwargs.pop("budget", RateBudget(rate)), **kwargs)


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with start_emulator(agents=60, seed=1, rate_limit=100_000) as running:
        yield running


@pytest.fixture
def make_client(emu: RunningEmulator) -> Iterator[Callable[..., GenesysClient]]:
    made: list[GenesysClient] = []

    def make(**kwargs: Any) -> GenesysClient:
        c = client_for(emu, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., GenesysClient]) -> GenesysClient:
    return make_client()
