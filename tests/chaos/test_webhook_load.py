"""500 hostile webhook requests, at most 50 at a time, through real loopback sockets: forged,
replayed, oversized, slow-drip and malformed. The reconcile loop keeps its cadence and /metrics
answers throughout.

Bounded in count (500 requests, one /metrics probe per 0.1 s while they run) and in time: the
slow-drip senders hold their connections until the daemon has completed a full resync during the
load (so the cadence is measured under it), 8 s each at most; two waves of them outlast a resync
interval.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from controller.webhook import PATH, sign
from tests.chaos.conftest import RESYNC_SECONDS
from tests.chaos.daemon_harness import WEBHOOK_SECRET, until
from tests.chaos.scenarios import RESULTS, Chaos, Row

pytestmark = pytest.mark.chaos

PER_KIND = 100
CONCURRENCY = 50
DRIP_TICK = 0.1  # seconds between two bytes of a slow-drip body (the load's shape, not a wait)
DRIP_SECONDS = 8.0  # at most this long a body, by the clock (not a count of ticks a busy machine
# stretches): slow, yet inside the receiver's 10 s body deadline
OVERSIZED = 1024 * 1024


@dataclass
class Load:
    port: int
    agents: list[str]
    resynced: asyncio.Event = field(default_factory=asyncio.Event)
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    probes: list[tuple[int, float]] = field(default_factory=list)  # (status, seconds)


def _envelope(agent: str, event_id: str) -> bytes:
    doc = {
        "topicName": f"v2.users.{agent}.activity",
        "version": "2",
        "eventBody": {"id": agent},
        "metadata": {"CorrelationId": event_id},
    }
    return json.dumps(doc).encode()


def _head(port: int, body_length: int, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {body_length}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _send(load: Load, kind: str, head: bytes, body: bytes, drip: bool = False) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", load.port)
    try:
        writer.write(head)
        if drip:  # a byte a tick, until a resync was seen or DRIP_SECONDS went by; then the rest
            ticks, until = 0, asyncio.get_running_loop().time() + DRIP_SECONDS
            while (
                ticks < len(body) - 1
                and not load.resynced.is_set()
                and asyncio.get_running_loop().time() < until
            ):
                writer.write(body[ticks : ticks + 1])
                await writer.drain()
                await asyncio.sleep(DRIP_TICK)
                ticks += 1
            writer.write(body[ticks:])
        else:
            writer.write(body)
        await writer.drain()
        status_line = await reader.readline()
        load.answers[(kind, int(status_line.split()[1]))] += 1
    finally:
        writer.close()
        await writer.wait_closed()


def _requests(load: Load) -> list[tuple[str, bytes, bytes, bool]]:
    now = int(time.time())
    replayed = _envelope(load.agents[0], "chaos-replayed")
    out: list[tuple[str, bytes, bytes, bool]] = []
    for i in range(PER_KIND):
        agent = load.agents[i % len(load.agents)]
        forged = _envelope(agent, f"chaos-forged-{i}")
        out.append(
            ("forged", _head(load.port, len(forged), sign("not-the-secret", forged, now)), forged, False)
        )
        out.append(
            (
                "replayed",
                _head(load.port, len(replayed), sign(WEBHOOK_SECRET, replayed, now)),
                replayed,
                False,
            )
        )
        big = b"x" * (16 * 1024)  # announces 1 MiB; the receiver must refuse it from the headers
        out.append(("oversized", _head(load.port, OVERSIZED, sign(WEBHOOK_SECRET, big, now)), big, False))
        slow = _envelope(agent, f"chaos-slow-{i}")
        out.append(("slow-drip", _head(load.port, len(slow), sign(WEBHOOK_SECRET, slow, now)), slow, True))
        junk = b"{not json" if i % 2 else json.dumps({"topicName": "v2.routing.queues.x"}).encode()
        out.append(("malformed", _head(load.port, len(junk), sign(WEBHOOK_SECRET, junk, now)), junk, False))
    return out


async def _probe(load: Load, done: asyncio.Event, resynced_at: float) -> None:
    """GET /metrics every tick while the load runs; note when a full resync completes."""
    while not done.is_set():
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", load.port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        text = (await reader.read()).decode(errors="replace")
        writer.close()
        await writer.wait_closed()
        load.probes.append((int(text.split()[1]), time.monotonic() - started))
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "presencectl_last_successful_resync_timestamp_seconds" and float(value) > resynced_at:
                load.resynced.set()
        await asyncio.sleep(DRIP_TICK)


async def _flood(load: Load, resynced_at: float) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    done = asyncio.Event()

    async def one(kind: str, head: bytes, body: bytes, drip: bool) -> None:
        async with gate:
            await _send(load, kind, head, body, drip)

    probe = asyncio.create_task(_probe(load, done, resynced_at))
    try:
        await asyncio.gather(*(one(*request) for request in _requests(load)))
    finally:
        done.set()
        await probe


def _full_cycle_times(chaos: Chaos) -> list[datetime]:
    chaos.daemon.refresh()
    return [
        datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S%z")
        for r in chaos.daemon.records
        if r.get("message") == "reconcile cycle" and r.get("full") is True
    ]


def test_hostile_webhook_load_leaves_the_loop_cadence_and_metrics_intact(chaos: Chaos) -> None:
    daemon = chaos.daemon
    before = daemon.metrics()
    resynced_at = before["presencectl_last_successful_resync_timestamp_seconds"]
    agents = sorted(chaos.oracle.session.org_reader.directory(chaos.emu.backend.clock.now()).by_id)[:20]
    load = Load(daemon.http_port, agents)
    full_before = len(_full_cycle_times(chaos))
    started = time.monotonic()
    asyncio.run(_flood(load, resynced_at))
    took = time.monotonic() - started
    full_during = len(_full_cycle_times(chaos))
    until(lambda: len(_full_cycle_times(chaos)) > full_during, "a full resync after the load", daemon.death)
    times = _full_cycle_times(chaos)[full_before - 1 :]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    slowest = max(seconds for _, seconds in load.probes)
    RESULTS.append(
        Row(
            "webhook flood",
            f"{sum(load.answers.values())} hostile requests in {took:.1f} s; "
            f"{len(load.probes)} /metrics probes, slowest {slowest * 1000:.0f} ms; "
            f"full resyncs {max(gaps):.0f} s apart at most (every {RESYNC_SECONDS} s)",
            crashes=0 if daemon.alive() else 1,
        )
    )
    assert daemon.alive()
    assert load.probes and {status for status, _ in load.probes} == {200}, "/metrics failed under load"
    assert load.resynced.is_set(), "no full resync completed while the load ran"
    assert load.answers == Counter(
        {
            ("forged", 401): PER_KIND,
            ("replayed", 202): 1,
            ("replayed", 200): PER_KIND - 1,
            ("oversized", 413): PER_KIND,
            ("slow-drip", 202): PER_KIND,
            ("malformed", 400): PER_KIND,
        }
    ), load.answers
    after = daemon.metrics()
    counted = sum(
        after.get(f'presencectl_webhook_requests_total{{result="{result}"}}', 0.0)
        - before.get(f'presencectl_webhook_requests_total{{result="{result}"}}', 0.0)
        for result in ("accepted", "duplicate", "bad_signature", "too_large", "malformed")
    )
    assert counted == 5 * PER_KIND
