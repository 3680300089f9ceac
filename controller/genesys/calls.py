"""The plumbing every resource of the client shares: one transport, one worker pool, the clock.

The resources (users, presence, wfm, triggers, notifications) each hold the same ApiCalls, so
every request passes the one shared rate budget and batch reads share one small thread pool.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from controller.genesys.config import ClientConfig
from controller.genesys.transport import ApiResponse, Transport

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


class ApiCalls:
    def __init__(
        self,
        config: ClientConfig,
        transport: Transport,
        *,
        workers: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.config = config
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def call(self, method: str, route: str, **kw: Any) -> ApiResponse:
        return self.transport.request(method, route, **kw)

    def body(self, method: str, route: str, **kw: Any) -> Any:
        return self.transport.request(method, route, **kw).body

    def download(self, url: str) -> Any:
        """GET a downloadUrl (a result too large to inline); bearer + budget only on the API host."""
        return self.transport.request("GET", "downloadUrl", url=url).body

    def map(self, fn: Callable[[Sequence[str]], T], batches: list[Sequence[str]]) -> list[T]:
        """Run `fn` over the batches on the pool (one batch runs inline), results in order."""
        if len(batches) <= 1 or self._workers == 1:
            return [fn(b) for b in batches]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="genesys")
        # Each batch runs in a copy of the caller's context: its budget lane follows it.
        contexts = [contextvars.copy_context() for _ in batches]
        return list(self._pool.map(lambda cb: cb[0].run(fn, cb[1]), zip(contexts, batches, strict=True)))

    def close(self) -> None:
        if self._pool is not None:
            # After abandon_reads a batch still on the wire is not worth waiting for.
            abandoned = self.transport.reads_abandoned.is_set()
            self._pool.shutdown(wait=not abandoned, cancel_futures=abandoned)
        self.transport.close()
