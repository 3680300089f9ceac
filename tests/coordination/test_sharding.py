"""Sharded mode on a real etcd with three real daemon processes, each with its own OAuth client:
rendezvous hashing over the live members gives every agent exactly one writer, and a member
killed mid-cycle hands its agents to the others without double writes.

The issue's 30,000-agent org is the benchmark's (bench/ha_takeover.py); 300 agents keep this
test within CI's budget on a 2-core machine and exercise the same code paths."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.coordination import rendezvous_owner
from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from tests.coordination.etcd_cluster import EtcdCluster, etcd_binary
from tests.coordination.replicas import Replica, desired_dir, ha_emulator, presence, wait_for, writers, writes

AGENTS = 300
MEMBERS = 3


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    etcd_binary()
    with ha_emulator(AGENTS, clients=MEMBERS) as running:
        yield running


def all_available(emu: RunningEmulator) -> bool:
    return all(presence(emu, a.id) is SystemPresence.AVAILABLE for a in emu.org.agents)


def disturb(emu: RunningEmulator) -> None:
    for agent in emu.org.agents:
        emu.control.set_presence(agent.id, "Away")


def written(replica: Replica, since: int = 0) -> list[tuple[str, str]]:
    """(agent id, time) of every confirmed write in the replica's audit log from record `since`."""
    return [(r["agent"]["id"], r["time"]) for r in replica.audit()[since:] if r["result"]["status"] == "ok"]


def audited(replicas: list[Replica], marks: dict[str, int]) -> set[str]:
    """Agents with a confirmed write in any replica's audit since the marks (written after the
    read-back, so a moment after the emulator shows the change)."""
    return {agent for r in replicas for agent, _ in written(r, marks[r.name])}


def test_three_members_split_the_org_and_a_killed_members_agents_move_without_double_writes(
    emu: RunningEmulator, etcd: EtcdCluster, tmp_path: Path
) -> None:
    directory = desired_dir(tmp_path, emu, etcd.client_urls, "sharded", 2)
    replicas = [Replica(i, emu, directory, tmp_path) for i in range(MEMBERS)]
    names = sorted(r.name for r in replicas)
    everyone = {a.id for a in emu.org.agents}
    try:
        wait_for(lambda: all(r.health().get("members") == names for r in replicas), "three members")
        wait_for(lambda: all(r.ready() for r in replicas), "every member ready")
        wait_for(lambda: all_available(emu), "the first corrections")
        roles = sorted(r.role() for r in replicas)
        assert roles == ["leader", "member", "member"]  # one of them does the cluster-wide work
        # (A member alone at first owned everything: only writes with all three count from here.)
        emu.control.clear_requests()
        marks = {r.name: len(r.audit()) for r in replicas}
        disturb(emu)
        wait_for(lambda: all_available(emu), "every agent corrected by its owner")
        owner = {a.id: rendezvous_owner(a.id, names) for a in emu.org.agents}
        assert {agent: set(clients) for agent, clients in writers(emu).items()} == {
            agent: {o} for agent, o in owner.items()
        }
        wait_for(lambda: audited(replicas, marks) == everyone, "the audit records of those writes")
        for replica in replicas:  # the audit logs say the same
            mine = {a for a, o in owner.items() if o == replica.name}
            assert {agent for agent, _ in written(replica, marks[replica.name])} == mine
        shares = [sum(o == r.name for o in owner.values()) for r in replicas]
        assert min(shares) > AGENTS // (2 * MEMBERS)  # each member has a real share

        victim, survivors = replicas[0], replicas[1:]
        emu.control.clear_requests()
        disturb(emu)
        wait_for(lambda: victim.client_id in writes(emu), "the victim's first write")
        victim.signal(signal.SIGKILL)
        rest = sorted(r.name for r in survivors)
        wait_for(lambda: all(r.health().get("members") == rest for r in survivors), "the member to leave")
        wait_for(lambda: all_available(emu), "every agent reconciled by the remaining members")
        # Per agent, in the emulator's order: the victim's writes (if any) all come before the
        # survivors', and the survivors never share an agent (their shares between them stay put;
        # the victim's agents go to their rendezvous owners among the rest).
        for agent, clients in writers(emu).items():
            later = [c for c in clients if c != victim.client_id]
            assert clients == [victim.client_id] * (len(clients) - len(later)) + later, (agent, clients)
            expected = owner[agent] if owner[agent] != victim.name else rendezvous_owner(agent, rest)
            assert set(later) <= {expected}, (agent, clients)
    finally:
        for r in replicas:
            r.stop()
