"""Active/standby on a real etcd with real daemon processes: SIGKILL and SIGSTOP of the leader
mid-apply, etcd member loss with and without quorum. The emulator's request log names the OAuth
client of every write: each replica has its own, so overlapping writes would show."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator
from tests.coordination.etcd_cluster import EtcdCluster, etcd_binary
from tests.coordination.replicas import Replica, desired_dir, ha_emulator, presence, writes
from tests.support.waiting import wait_for

AGENTS = 30
LEASE = 2


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    etcd_binary()  # skip (saying how to install it) before anything starts
    with ha_emulator(AGENTS, clients=2) as running:
        yield running


@contextmanager
def pair(emu: RunningEmulator, etcd: EtcdCluster, root: Path) -> Iterator[tuple[Replica, Replica]]:
    """Two replicas; yields (leader, standby) once both are ready and every agent is Available."""
    directory = desired_dir(root, emu, etcd.client_urls, "active-standby", LEASE)
    replicas = [Replica(i, emu, directory, root) for i in range(2)]
    try:
        wait_for(lambda: all(r.ready() for r in replicas), "both replicas ready")
        wait_for(
            lambda: sorted(r.role() for r in replicas) == ["leader", "standby"], "a leader and a standby"
        )
        wait_for(lambda: all_available(emu), "the first corrections")
        leader = next(r for r in replicas if r.role() == "leader")
        standby = next(r for r in replicas if r is not leader)
        yield leader, standby
    finally:
        for r in replicas:
            r.stop()


@pytest.fixture
def replicas(emu: RunningEmulator, etcd: EtcdCluster, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    with pair(emu, etcd, tmp_path) as both:
        yield both


def all_available(emu: RunningEmulator) -> bool:
    return all(presence(emu, a.id) is SystemPresence.AVAILABLE for a in emu.org.agents)


def disturb(emu: RunningEmulator) -> None:
    """Every agent walks away: one plan of AGENTS corrections (a bulk write of one chunk)."""
    for agent in emu.org.agents:
        emu.control.set_presence(agent.id, "Away")


def _says_fenced_by_etcd(replica: Replica) -> bool:
    return any(
        x.get("role") == "fenced" and "no etcd endpoint answered" in x.get("reason", "")
        for x in replica.logs()
    )


def take_over(emu: RunningEmulator, leader: Replica, standby: Replica, how: signal.Signals) -> None:
    """Mid-apply (the leader has written), the leader gets `how`; the standby takes over and
    corrects every agent."""
    emu.control.clear_requests()
    disturb(emu)
    wait_for(lambda: leader.client_id in writes(emu), "the leader's first write")
    leader.signal(how)
    wait_for(lambda: standby.role() == "leader", "the standby to take over")
    wait_for(lambda: all_available(emu), "every agent corrected by the new leader")


def never_interleaved(order: list[str], first: str, second: str) -> None:
    """Once `second` has written, `first` never writes again."""
    if second in order:
        assert first not in order[order.index(second) :], f"{first} wrote after {second} took over: {order}"


def test_sigkill_of_the_leader_mid_apply_the_standby_takes_over_alone(
    emu: RunningEmulator, replicas: tuple[Replica, Replica]
) -> None:
    leader, standby = replicas
    take_over(emu, leader, standby, signal.SIGKILL)
    disturb(emu)  # and the new leader keeps correcting
    wait_for(lambda: all_available(emu), "every agent corrected again")
    order = writes(emu)
    never_interleaved(order, leader.client_id, standby.client_id)
    assert standby.metric("presencectl_leader") == 1
    assert standby.metric("presencectl_leader_transitions_total") == 1
    # The audit logs agree: every write of the new leader comes after the old one's last.
    old = [r["time"] for r in leader.audit() if r["result"]["status"] == "ok"]
    new = [r["time"] for r in standby.audit() if r["result"]["status"] == "ok"]
    assert new and (not old or max(old) < min(new))


def test_a_sigstopped_leader_writes_nothing_after_it_wakes(
    emu: RunningEmulator, replicas: tuple[Replica, Replica]
) -> None:
    leader, standby = replicas
    take_over(emu, leader, standby, signal.SIGSTOP)
    leader.signal(signal.SIGCONT)
    wait_for(lambda: leader.role() == "standby", "the woken leader to see it lost the lease")
    disturb(emu)  # both hear of it on their streams; only the leader may write
    wait_for(lambda: all_available(emu), "every agent corrected again")
    wait_for(lambda: leader.metric("presencectl_fenced_writes_total") >= 1, "the woken one's refused batch")
    never_interleaved(writes(emu), leader.client_id, standby.client_id)


def test_etcd_member_loss_keeps_the_leader_and_quorum_loss_stops_every_writer(
    emu: RunningEmulator, etcd3: EtcdCluster, tmp_path: Path
) -> None:
    with pair(emu, etcd3, tmp_path) as (leader, standby):
        transitions = leader.metric("presencectl_leader_transitions_total")
        etcd3.kill(0)  # the first endpoint each replica talks to
        disturb(emu)
        wait_for(lambda: all_available(emu), "corrections with one etcd member down")
        assert leader.role() == "leader" and standby.role() == "standby"
        assert leader.metric("presencectl_leader_transitions_total") == transitions
        etcd3.kill(1)  # quorum lost
        wait_for(lambda: leader.role() == standby.role() == "fenced", "every replica to stop writing")
        for replica in (leader, standby):
            assert "cannot prove this replica holds its lease" in replica.health()["reason"]
            assert not replica.ready()
        emu.control.clear_requests()
        refused = leader.metric("presencectl_fenced_writes_total")
        disturb(emu)
        wait_for(lambda: leader.metric("presencectl_fenced_writes_total") > refused, "a refused batch")
        assert writes(emu) == []
        assert not any(presence(emu, a.id) is SystemPresence.AVAILABLE for a in emu.org.agents)
        for replica in (leader, standby):  # each says why it stopped writing
            wait_for(partial(_says_fenced_by_etcd, replica), "the log line saying why")
