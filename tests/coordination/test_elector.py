"""The coordination state machine on a real etcd, in process: one leader, fencing by deadline
and by the engine's transaction, takeover, sharded membership views."""

from __future__ import annotations

import base64

import requests
from hypothesis import given
from hypothesis import strategies as st

from controller.coordination import Role, rendezvous_owner
from tests.coordination.electors import Clock, elector, metric
from tests.coordination.etcd_cluster import EtcdCluster


def leader_key(etcd: EtcdCluster) -> dict[str, str]:
    key = base64.b64encode(b"/presencectl/default/leader").decode()
    kvs = (
        requests.post(f"{etcd.client_urls[0]}/v3/kv/range", json={"key": key}, timeout=5)
        .json()
        .get("kvs", [])
    )
    return dict(kvs[0]) if kvs else {}


def test_one_leader_and_the_standby_takes_over_when_it_releases(etcd: EtcdCluster) -> None:
    clock = Clock()
    a, b = elector(etcd, "a", clock), elector(etcd, "b", clock)
    a.tick()
    b.tick()
    assert a.status().role is Role.LEADER and a.may_write() and a.may_write_cluster()
    assert b.status().role is Role.STANDBY and "a holds the lease" in b.status().reason
    assert not b.may_write() and not b.may_write_cluster()
    assert metric(a, "presencectl_leader") == 1 and metric(b, "presencectl_leader") == 0
    a.stop()  # a clean shutdown revokes the lease: no TTL to wait for
    assert not a.may_write()
    b.tick()
    assert b.status().role is Role.LEADER and b.may_write()
    assert metric(b, "presencectl_leader_transitions_total") == 1
    assert metric(a, "presencectl_leader_transitions_total") == 2  # gained, then gave up


def test_a_leader_past_its_deadline_writes_nothing_without_asking_anyone(etcd: EtcdCluster) -> None:
    clock = Clock()
    a = elector(etcd, "a", clock)
    a.tick()
    assert a.may_write()
    etcd.kill(0)  # nothing answers any more; the local deadline alone decides
    clock.now += 2.0  # the lease TTL has passed since the last renewal was sent
    assert not a.may_write()
    status = a.status()
    assert status.role is Role.FENCED and "cannot prove" in status.reason
    assert metric(a, "presencectl_fenced_writes_total") == 1


def test_the_local_proof_alone_lapses_with_the_deadline(etcd: EtcdCluster) -> None:
    clock = Clock()
    a = elector(etcd, "a", clock)
    a.tick()
    clock.now += 1.9
    assert a.holds() and metric(a, "presencectl_fenced_writes_total") == 0
    clock.now += 0.1  # woken from a pause past the renewal's send time + TTL: no engine asked
    assert not a.holds() and metric(a, "presencectl_fenced_writes_total") == 1
    assert a.status().role is Role.FENCED


def test_a_paused_leader_that_wakes_after_a_takeover_writes_nothing(etcd: EtcdCluster) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = elector(etcd, "a", clock_a), elector(etcd, "b", clock_b)
    a.tick()
    b.tick()
    held = leader_key(etcd)
    assert base64.b64decode(held["value"]) == b"a"
    # a is paused (SIGSTOP) while its lease expires; revoking it is etcd's expiry, made immediate.
    requests.post(f"{etcd.client_urls[0]}/v3/lease/revoke", json={"ID": held["lease"]}, timeout=5)
    b.tick()
    assert b.status().role is Role.LEADER
    # a wakes within what its own clock believes is still its lease: the per-batch transaction
    # compares the leadership key's create revision, which is b's now.
    assert a.status().role is Role.LEADER  # its stale local view...
    assert not a.may_write()  # ...is not enough to write
    assert a.status().role is Role.FENCED
    a.tick()
    assert a.status().role is Role.STANDBY and b.may_write()


def test_sharded_members_split_the_agents_and_a_join_fences_stale_views(etcd: EtcdCluster) -> None:
    clock = Clock()
    a, b = elector(etcd, "a", clock, "sharded"), elector(etcd, "b", clock, "sharded")
    a.tick()
    b.tick()
    a.tick()  # a sees b now
    agents = [f"agent-{i}" for i in range(300)]
    assert a.status().members == ("a", "b") == b.status().members
    owned_a = {x for x in agents if a.owns(x)}
    owned_b = {x for x in agents if b.owns(x)}
    assert owned_a.isdisjoint(owned_b) and owned_a | owned_b == set(agents)
    assert 100 < len(owned_a) < 200
    assert a.may_write() and b.may_write()
    assert sum(e.status().role is Role.LEADER for e in (a, b)) == 1
    c = elector(etcd, "c", clock, "sharded")
    c.tick()
    # a and b still hold the two-member view: their next batch is refused until they renew.
    assert not a.may_write() and not b.may_write()
    a.tick()
    b.tick()
    assert a.may_write() and b.may_write() and c.may_write()
    owners = [[e for e in (a, b, c) if e.owns(x)] for x in agents]
    assert all(len(o) == 1 for o in owners)
    moved = {x for x in owned_a | owned_b if c.owns(x)}
    assert {x for x in owned_a if not a.owns(x)} | {x for x in owned_b if not b.owns(x)} == moved


@given(
    st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=6, unique=True),
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True),
)
def test_rendezvous_moves_only_the_leaving_members_keys(members: list[str], keys: list[str]) -> None:
    gone, rest = members[0], members[1:]
    for key in keys:
        before = rendezvous_owner(key, members)
        after = rendezvous_owner(key, rest)
        assert after in rest
        if before != gone:
            assert after == before
