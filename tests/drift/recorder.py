"""The drift tests' parts: a recorder of the watcher's callbacks, a client with its own budget."""

from __future__ import annotations

import threading
import time

from controller.emulator.server import RunningEmulator
from controller.genesys import Backoff, ClientConfig, GenesysClient, RateBudget
from tests.support.waiting import wait_for

FAST = Backoff(base_seconds=0.05, cap_seconds=0.5)


class Recorder:
    """Collects the watcher's callbacks with arrival times, and lets a test wait for them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.agents: list[tuple[float, str, str]] = []
        self.connection: list[bool] = []

    def on_agents(self, user_ids: set[str], why: str) -> None:
        with self.lock:
            self.agents.extend((time.monotonic(), u, why) for u in user_ids)

    def on_connection(self, up: bool) -> None:
        with self.lock:
            self.connection.append(up)

    def arrival(self, user_id: str, after: float) -> float | None:
        """Arrival time of the first on_agents for `user_id` later than `after` (None: none yet).
        To show that an event never came, wait first for one sent after it on the same stream."""
        with self.lock:
            return next((at for at, u, _ in self.agents if u == user_id and at > after), None)

    def wait_agent(self, user_id: str, after: float) -> None:
        wait_for(lambda: self.arrival(user_id, after) is not None, f"an event naming {user_id}")

    def wait_connection(self, states: list[bool]) -> None:
        def reached() -> bool:
            with self.lock:
                return self.connection[-len(states) :] == states

        wait_for(reached, f"the connection states {states}")


def client_for(emu: RunningEmulator) -> GenesysClient:
    config = ClientConfig(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, rate_per_minute=60_000
    )
    return GenesysClient(config, budget=RateBudget(60_000))
