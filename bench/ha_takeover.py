"""High availability on a real etcd with real daemon processes (prints numbers; never gates).

1. Takeover: two replicas (active-standby); the leader is SIGKILLed N times (a new standby is
   started after each kill). Printed: the time from the kill to the standby's /healthz saying
   `leader` (p50, max) and the write gap: kill -> an agent disturbed at the kill is Available again.
   Expect at most the lease TTL plus one renewal interval (TTL/3) plus a cycle.
2. Rebalance: two sharded members over an org; a third joins. Printed: the time from its
   start until every member's view has three members, and from then until every agent moved to
   it (disturbed at that moment) is corrected by it.

    python -m bench ha_takeover [--kills 20] [--lease 3] [--agents 30000] [--takeover-agents 30]

Needs the etcd binary (apt-get install -y etcd-server).
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import time
from pathlib import Path

from controller.coordination import rendezvous_owner
from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from tests.coordination.etcd_cluster import EtcdCluster
from tests.coordination.replicas import Replica, desired_dir, ha_emulator, presence, wait_for


def available(emu: RunningEmulator, agents: list[str]) -> bool:
    return all(presence(emu, a) is SystemPresence.AVAILABLE for a in agents)


def one_kill(emu: RunningEmulator, live: list[Replica], victim: str) -> tuple[float, float, Replica, Replica]:
    """SIGKILL the leader, disturb `victim` at once: (takeover s, write gap s, new leader, killed)."""
    ids = [a.id for a in emu.org.agents]
    wait_for(lambda: sorted(r.role() for r in live) == ["leader", "standby"], "leader + standby", 120)
    wait_for(lambda: available(emu, ids), "a settled org", 120)
    leader = next(r for r in live if r.role() == "leader")
    standby = next(r for r in live if r is not leader)
    killed = time.monotonic()
    leader.signal(signal.SIGKILL)
    emu.control.set_presence(victim, "Away")
    took = wait_for(lambda: standby.role() == "leader", "takeover", 120)
    wait_for(lambda: available(emu, [victim]), "the disturbed agent corrected", 120)
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


def rebalance(lease: int, agents: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-shard-"))
    etcd = EtcdCluster(root, members=1)
    with ha_emulator(agents, clients=3) as emu:
        directory = desired_dir(root, emu, etcd.client_urls, "sharded", lease)
        ids = [a.id for a in emu.org.agents]
        members = [Replica(0, emu, directory, root), Replica(1, emu, directory, root)]
        try:
            wait_for(
                lambda: all(len(r.health().get("members", [])) == 2 for r in members), "two members", 600
            )
            wait_for(lambda: all(r.ready() for r in members), "both ready", 600)
            wait_for(lambda: available(emu, ids), "a settled org", 600)
            members.append(Replica(2, emu, directory, root))
            views = wait_for(
                lambda: all(len(r.health().get("members", [])) == 3 for r in members), "3 views", 600
            )
            names = sorted(r.name for r in members)
            moved = [a for a in ids if rendezvous_owner(a, names) == members[2].name]
            for agent in moved:
                emu.control.set_presence(agent, "Away")
            corrected = wait_for(lambda: available(emu, moved), "moved agents corrected", 600)
            print(
                f"rebalance, {agents} agents, lease {lease} s: a joining member is in every view "
                f"{views:.2f} s after its start (process start and first reads included); the "
                f"{len(moved)} agents moved to it ({100 * len(moved) / len(ids):.0f} %) corrected "
                f"{corrected:.2f} s after that (disturbed then, written by the new member)"
            )
        finally:
            for r in members:
                r.stop()
            etcd.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lease", type=int, default=3)
    parser.add_argument("--agents", type=int, default=30_000, help="org size for the rebalance")
    parser.add_argument("--takeover-agents", type=int, default=30)
    parser.add_argument("--skip-rebalance", action="store_true")
    args = parser.parse_args()
    takeover(args.kills, args.lease, args.takeover_agents)
    if not args.skip_rebalance:
        rebalance(args.lease, args.agents)


if __name__ == "__main__":
    main()
