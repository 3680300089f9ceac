"""High availability on a real etcd with real daemon processes (prints numbers; never gates).

1. Takeover: two replicas (active-standby); the leader is SIGKILLed N times (a new standby is
   started after each kill). Printed: the time from the kill to the standby's /healthz saying
   `leader` (p50, max) and the write gap: kill -> an agent disturbed at the kill is Available again.
   Expect at most the lease TTL plus one renewal interval (TTL/3) plus a cycle.
2. Rebalance: two sharded members over an org; a third joins. Printed: its process start ->
   its member key in etcd (start-up: imports, directory and schedule reads), registration -> every
   member's view has three members, registration -> its first full cycle (/readyz) and its
   notification channels subscribed, and the agents moved to it (disturbed then) -> corrected by it.
3. Shard kill: the sharding test's scenario (tests/coordination/sharding.py) at the org size
   given: three members, ownership sampled, a member SIGKILLed mid-cycle, no double writes.

    python -m bench ha_takeover [--kills 20] [--lease 3] [--agents 30000] [--takeover-agents 30]
                                [--skip-takeover] [--skip-rebalance] [--skip-shard-kill]

Needs the etcd binary (apt-get install -y etcd-server).
"""

from __future__ import annotations

import argparse
import base64
import signal
import statistics
import tempfile
import time
from pathlib import Path

import requests

from controller.coordination import rendezvous_owner
from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from tests.coordination import sharding
from tests.coordination.etcd_cluster import EtcdCluster
from tests.coordination.replicas import Replica, desired_dir, ha_emulator, presence
from tests.support.waiting import after, wait_for


def available(emu: RunningEmulator, agents: list[str]) -> bool:
    return all(presence(emu, a) is SystemPresence.AVAILABLE for a in agents)


def one_kill(emu: RunningEmulator, live: list[Replica], victim: str) -> tuple[float, float, Replica, Replica]:
    """SIGKILL the leader, disturb `victim` at once: (takeover s, write gap s, new leader, killed)."""
    ids = [a.id for a in emu.org.agents]
    wait_for(lambda: sorted(r.role() for r in live) == ["leader", "standby"], "leader + standby", after(120))
    wait_for(lambda: available(emu, ids), "a settled org", after(120))
    leader = next(r for r in live if r.role() == "leader")
    standby = next(r for r in live if r is not leader)
    killed = time.monotonic()
    leader.signal(signal.SIGKILL)
    emu.control.set_presence(victim, "Away")
    took = wait_for(lambda: standby.role() == "leader", "takeover", after(120))
    wait_for(lambda: available(emu, [victim]), "the disturbed agent corrected", after(120))
    return took, time.monotonic() - killed, standby, leader


def takeover(kills: int, lease: int, agents: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-ha-"))
    etcd = EtcdCluster(root, members=1)
    with ha_emulator(agents, clients=kills + 2) as emu:
        directory = desired_dir(root, emu, etcd.client_urls, "active-standby", lease)
        ids = [a.id for a in emu.org.agents]
        live = [Replica(0, emu, directory, root), Replica(1, emu, directory, root)]
        started = 2
        takeovers: list[float] = []
        gaps: list[float] = []
        try:
            for n in range(kills):
                took, gap, survivor, dead = one_kill(emu, live, ids[n % len(ids)])
                takeovers.append(took)
                gaps.append(gap)
                dead.stop()
                live = [survivor, Replica(started, emu, directory, root)]
                started += 1
                print(f"kill {n + 1}: takeover {took:.2f} s, write gap {gap:.2f} s", flush=True)
        finally:
            for r in live:
                r.stop()
            etcd.stop()
    print(
        f"takeover over {kills} SIGKILLs, lease {lease} s: p50 {statistics.median(takeovers):.2f} s, "
        f"max {max(takeovers):.2f} s; write gap p50 {statistics.median(gaps):.2f} s, max {max(gaps):.2f} s "
        f"(bound TTL + 2 s = {lease + 2} s)"
    )


def registered(etcd: EtcdCluster, identity: str) -> bool:
    key = base64.b64encode(f"/presencectl/default/members/{identity}".encode()).decode()
    answer = requests.post(f"{etcd.client_urls[0]}/v3/kv/range", json={"key": key}, timeout=5).json()
    return int(answer.get("count", 0)) == 1


def rebalance(lease: int, agents: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-shard-"))
    etcd = EtcdCluster(root, members=1)
    patience = 60 + agents / 50
    with ha_emulator(agents, clients=3) as emu:
        directory = desired_dir(root, emu, etcd.client_urls, "sharded", lease)
        ids = [a.id for a in emu.org.agents]
        members = [Replica(0, emu, directory, root), Replica(1, emu, directory, root)]
        try:
            wait_for(
                lambda: all(len(r.health().get("members", [])) == 2 for r in members), "2", after(patience)
            )
            wait_for(lambda: all(r.ready() for r in members), "both ready", after(patience))
            wait_for(lambda: available(emu, ids), "a settled org", after(patience))
            started = time.monotonic()
            joiner = Replica(2, emu, directory, root)
            members.append(joiner)
            wait_for(lambda: registered(etcd, joiner.name), "its registration", after(patience))
            joined = time.monotonic()
            wait_for(
                lambda: all(len(r.health().get("members", [])) == 3 for r in members),
                "3 views",
                after(patience),
            )
            views = time.monotonic() - joined
            wait_for(joiner.ready, "its first full cycle", after(patience))
            ready = time.monotonic() - joined
            names = sorted(r.name for r in members)
            moved = [a for a in ids if rendezvous_owner(a, names) == joiner.name]
            wait_for(
                lambda: sharding.subscribed(joiner, len(moved)), "its notification channels", after(patience)
            )
            streaming = time.monotonic() - joined
            for agent in moved:
                emu.control.set_presence(agent, "Away")
            corrected = wait_for(lambda: available(emu, moved), "moved agents corrected", after(patience))
            print(
                f"rebalance, {agents} agents, lease {lease} s: the joining member registered "
                f"{joined - started:.2f} s after its process started; every view had it "
                f"{views:.2f} s after it registered; its first full cycle over its "
                f"{len(moved)} agents ({100 * len(moved) / len(ids):.0f} %) done {ready:.2f} s and its "
                f"channels subscribed to them {streaming:.2f} s after it registered; those agents, "
                f"disturbed then, corrected by it {corrected:.2f} s after the last was disturbed"
            )
        finally:
            for r in members:
                r.stop()
            etcd.stop()


def shard_kill(lease: int, agents: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-shard-kill-"))
    etcd = EtcdCluster(root, members=1)
    try:
        with ha_emulator(agents, clients=sharding.MEMBERS) as emu:
            figures = sharding.run(emu, etcd.client_urls, root, lease)
        print("shard kill: " + "\n  ".join(figures.lines()))
    finally:
        etcd.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lease", type=int, default=3)
    parser.add_argument("--agents", type=int, default=30_000, help="org size for rebalance and shard kill")
    parser.add_argument("--takeover-agents", type=int, default=30)
    parser.add_argument("--skip-takeover", action="store_true")
    parser.add_argument("--skip-rebalance", action="store_true")
    parser.add_argument("--skip-shard-kill", action="store_true")
    args = parser.parse_args()
    if not args.skip_takeover:
        takeover(args.kills, args.lease, args.takeover_agents)
    if not args.skip_rebalance:
        rebalance(args.lease, args.agents)
    if not args.skip_shard_kill:
        shard_kill(args.lease, args.agents)


if __name__ == "__main__":
    main()
