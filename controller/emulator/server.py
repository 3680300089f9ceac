"""Start the emulator in-process: an aiohttp server on its own event loop in a daemon thread.

with start_emulator(agents=50, seed=1, rate_limit=300) as emu:
    emu.api_base, emu.login_base, emu.client_id, emu.client_secret, emu.control, emu.org

The emulator keeps no process-wide state: a command that embeds it and logs (the daemon, the
demo) registers the client secrets with its own log scrubber.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType

from aiohttp import web

from controller.emulator.app import build_app, build_download_app
from controller.emulator.auth.models import DEFAULT_TOKEN_TTL_SECONDS
from controller.emulator.backend import PlatformBackend
from controller.emulator.control_client import EmulatorControl
from controller.emulator.notifications.models import Hub
from controller.emulator.org import Org
from controller.emulator.presence.models import UserChange
from controller.emulator.presence.serialize import events

DEFAULT_CLIENT_ID = "presencectl-demo"
DEFAULT_CLIENT_SECRET = "presencectl-demo-secret"


class RunningEmulator:
    def __init__(
        self, org: Org, backend: PlatformBackend, hub: Hub, client_id: str, client_secret: str
    ) -> None:
        self.org, self.backend, self.hub = org, backend, hub
        self.client_id, self.client_secret = client_id, client_secret
        self.credentials = {client_id: client_secret}  # every OAuth client the emulator accepts
        self.host = ""
        self.api_base = self.login_base = self.streaming_base = ""
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._api_runner: web.AppRunner | None = None  # None while down (see go_down)
        self._thread = threading.Thread(target=self._run_loop, name="genesys-emulator", daemon=True)
        self.control: EmulatorControl

    def _run_loop(self) -> None:
        # asyncio.Runner's close cancels and awaits the tasks left when the loop stops (a
        # keep-alive connection's handler), which the garbage collector would report much later.
        with asyncio.Runner(loop_factory=lambda: self._loop):
            self._loop.run_forever()

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Accept another OAuth client (its own rate budget, and its own name in the request log)."""
        self.credentials[client_id] = client_secret

    def _start(self, host: str, port: int, download_port: int = 0) -> None:
        self._thread.start()
        self.host = host
        self.port = self._serve_api(port)
        # Pre-signed download URLs live on another host: a second port of ours
        # (docs/genesys-api.md#downloads).
        download_port = self._serve_now(build_download_app(self.backend), host, download_port)
        shown = f"[{host}]" if ":" in host else host
        self.api_base = self.login_base = f"http://{shown}:{self.port}"
        self.streaming_base = f"ws://{shown}:{self.port}"
        self.backend.wfm.download_base = f"http://{shown}:{download_port}"
        self.control = EmulatorControl(self.api_base)

    def _serve_now(self, app: web.Application, host: str, port: int) -> int:
        return asyncio.run_coroutine_threadsafe(self._serve(app, host, port), self._loop).result(timeout=30)

    def _serve_api(self, port: int) -> int:
        """API, login and streaming on one port."""
        bound = self._serve_now(build_app(self.backend, self.hub, self.credentials), self.host, port)
        self._api_runner = self._runners[-1]
        return bound

    def go_down(self) -> None:
        """A platform restart, first half: stop listening and drop every connection (WebSockets
        included: channels end). Calls are refused until `come_back`; org state is kept."""
        runner, self._api_runner = self._api_runner, None
        if runner is not None:
            self._runners.remove(runner)
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(timeout=30)
            self.backend.tokens.revoke_all()  # tokens live in memory: a restarted service forgets them

    def come_back(self) -> None:
        """Listen again on the same port."""
        if self._api_runner is None:
            self._serve_api(self.port)

    async def _serve(self, app: web.Application, host: str, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._runners.append(runner)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        return int(runner.addresses[0][1])

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        for runner in self._runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self.control.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_emulator(
    *,
    agents: int = 50,
    seed: int = 1,
    rate_limit: int = 300,
    org: Org | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    host: str = "127.0.0.1",
    port: int = 0,
    download_port: int = 0,
    heartbeat_seconds: float = 30.0,
    token_ttl: int = DEFAULT_TOKEN_TTL_SECONDS,
    initial_adherence: float | None = None,
    extra_clients: Mapping[str, str] | None = None,
    start: datetime | None = None,
) -> RunningEmulator:
    """Serve the emulator on host:port (0 picks a free port) until `stop()` / leaving `with`; result
    downloads are served on host:download_port, another host as on the real platform.
    `extra_clients` (id -> secret): more OAuth clients of the org, e.g. one per shard. `start`:
    the instant the emulator's clock starts at (agents start as they are then), else now."""
    if org is None:
        from controller.emulator.generate import generate_org

        org = generate_org(agents=agents, seed=seed)
    backend = PlatformBackend(
        org, rate_limit=rate_limit, token_ttl=token_ttl, initial_adherence=initial_adherence, start=start
    )
    hub = Hub(backend.clock, heartbeat_seconds=heartbeat_seconds)
    _announce_on(hub, backend)
    emulator = RunningEmulator(org, backend, hub, client_id, client_secret)
    for extra_id, extra_secret in (extra_clients or {}).items():
        emulator.add_client(extra_id, extra_secret)
    emulator._start(host, port, download_port)
    return emulator


def _announce_on(hub: Hub, backend: PlatformBackend) -> None:
    """Presence, routing-status and activity changes go out as Notifications API events."""
    presence = backend.presence

    def announce(change: UserChange) -> None:
        for topic, body in events(presence, change):
            hub.publish(topic, body)

    presence.announce = announce
