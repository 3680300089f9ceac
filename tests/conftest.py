"""Shared fixtures: a running emulator (real HTTP + WebSocket) and an authenticated API session."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import settings

from controller.emulator.server import RunningEmulator, start_emulator

# No wall-clock limit in a test (timings live in bench/): hypothesis's default 200 ms per example
# is one, and it failed property tests on a busy machine. The examples themselves stay as many.
settings.register_profile("presencectl", deadline=None)
settings.load_profile("presencectl")

# A suite started in the background by a script (`make test &`, `setsid … &`) inherits SIGINT
# ignored, and so would every child it starts: the tests that press Ctrl-C on a child expect what a
# terminal gives it. A Python handler here is reset to the default in each child by exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


class Api:
    """A bearer-authenticated requests session against the emulator's /api/v2."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.authenticate()

    def authenticate(self) -> str:
        response = requests.post(
            f"{self.emulator.login_base}/oauth/token",
            auth=(self.emulator.client_id, self.emulator.client_secret),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        return token

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.emulator.api_base}{path}", timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh 50-agent emulator per test (starting one takes a few milliseconds)."""
    with start_emulator(agents=50, seed=1, rate_limit=300) as emu:
        yield emu


@pytest.fixture
def api(emulator: RunningEmulator) -> Iterator[Api]:
    client = Api(emulator)
    yield client
    client.session.close()
