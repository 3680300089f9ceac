"""How a plan's writes are grouped into API calls (pure): shared by the executor, which makes
the calls, and `simulate`, which counts them.

Agents going to a presence without a message are written in bulk (PUT /users/presences/bulk,
chunks of BULK_CHUNK) when there are at least two; the others one by one (PATCH).
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.core.planner import Action

# Agents per bulk call, read (GET /users/presences/bulk, documented 50) and write (PUT, limit
# unconfirmed, kept at the read's): docs/genesys-api.md#bulk-presence. The client's
# BULK_PRESENCE_MAX is the same limit; tests/test_batches.py keeps them equal.
BULK_CHUNK = 50


def write_batches(actions: Sequence[Action]) -> tuple[list[list[Action]], list[Action]]:
    """(bulk chunks, single writes) for `actions`, in plan order."""
    bulk = [a for a in actions if not a.message]
    singles = [a for a in actions if a.message]
    if len(bulk) < 2:  # one agent: a PATCH is the same one call, and its errors are its own
        singles += bulk
        bulk = []
    return [bulk[i : i + BULK_CHUNK] for i in range(0, len(bulk), BULK_CHUNK)], singles
