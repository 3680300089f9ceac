"""The request log: one record per /api/v2 call, read by tests and benchmarks through
`GET /_emulator/requests`."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

REQUEST_LOG_MAX = 200_000


@dataclass(slots=True)
class RequestRecord:
    method: str
    path: str
    route: str
    status: int
    time: str
    client: str = ""  # the OAuth client behind the bearer token ("" before authentication)
    correlation_id: str = ""
    injected: bool = False  # shaped by an injected fault (an error answer or added latency)
    written: tuple[str, ...] = ()  # agents whose presence or routing status this call changed
    on_interaction: tuple[str, ...] = ()  # of those, the ones on an interaction at that moment


class RequestLog:
    def __init__(self) -> None:
        self.records: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_MAX)
        self.writes_on_interaction = 0  # accepted API writes to an agent on an interaction

    def add(
        self,
        record: RequestRecord,
        writes: Sequence[tuple[str, bool]] = (),
    ) -> None:
        """Log one call; `writes` are the (agent, on an interaction) pairs the handler applied,
        kept only when the call succeeded."""
        if 200 <= record.status < 300:
            record.written = tuple(user_id for user_id, _ in writes)
            record.on_interaction = tuple(user_id for user_id, busy in writes if busy)
        self.writes_on_interaction += len(record.on_interaction)
        self.records.append(record)

    def clear(self) -> None:
        self.records.clear()
