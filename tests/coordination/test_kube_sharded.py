"""Sharded mode on Kubernetes: one Lease per member behind the same state machine, through the
official client against the Lease endpoint of tests/coordination/lease_server.py (requests and
answers through the client's V1Lease / V1LeaseList models). Each member has its own injected
monotonic clock, as separate machines would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

pytest.importorskip(
    "kubernetes", reason="the kubernetes client is a test dependency: pip install -e '.[test]'"
)

from controller.coordination import Elector, Role
from controller.coordination.kube import LeaseBackend
from controller.coordination.kube_members import MEMBER_LABEL, member_lease_name
from controller.metrics import Metrics
from controller.model.types import Coordination
from tests.coordination.electors import Clock
from tests.coordination.lease_server import LeaseServer

CONFIG = replace(
    Coordination(),
    backend="kubernetes",
    mode="sharded",
    lease_seconds=6,
    k8s_namespace="presencectl",
    k8s_lease_name="demo-org",
)
AGENTS = [f"agent-{i}" for i in range(300)]


@pytest.fixture
def server() -> Iterator[LeaseServer]:
    running = LeaseServer()
    yield running
    running.stop()


class Member:
    def __init__(self, server: LeaseServer, name: str) -> None:
        self.clock = Clock()
        backend = LeaseBackend(CONFIG, name, api=server.coordination_api(), monotonic=self.clock)
        self.elector = Elector(
            backend, "sharded", CONFIG.lease_seconds, name, Metrics(), monotonic=self.clock
        )

    def tick(self, seconds: float = 0) -> None:
        self.clock.now += seconds
        self.elector.tick()

    def owned(self) -> set[str]:
        return {a for a in AGENTS if self.elector.owns(a)}


def owners(members: list[Member]) -> list[int]:
    return [sum(a in m.owned() for m in members) for a in AGENTS]


def test_members_split_the_agents_one_leads_and_a_join_fences_stale_views(server: LeaseServer) -> None:
    a, b = Member(server, "a"), Member(server, "b")
    a.tick()
    b.tick()
    a.tick()  # a sees b now
    assert a.elector.status().members == ("a", "b") == b.elector.status().members
    assert owners([a, b]) == [1] * len(AGENTS) and 100 < len(a.owned()) < 200
    assert a.elector.may_write() and b.elector.may_write()
    roles = sorted(m.elector.status().role for m in (a, b))
    assert roles == [Role.LEADER, Role.MEMBER]  # one does the cluster-wide work
    leader = a if a.elector.status().role is Role.LEADER else b
    assert leader.elector.may_write_cluster() and not (b if leader is a else a).elector.may_write_cluster()
    lease = server.leases[("presencectl", member_lease_name("demo-org", "a"))]
    assert lease.metadata.labels == {MEMBER_LABEL: "demo-org"} and lease.spec.holder_identity == "a"

    before = {"a": a.owned(), "b": b.owned()}
    c = Member(server, "c")
    c.tick()
    assert c.elector.status().members == ("a", "b", "c") and c.elector.may_write()
    # a and b still hold the two-member view: their next batch is refused until they renew.
    assert not a.elector.may_write() and not b.elector.may_write()
    a.tick()
    b.tick()
    assert all(m.elector.may_write() for m in (a, b, c))
    assert owners([a, b, c]) == [1] * len(AGENTS)
    assert a.owned() <= before["a"] and b.owned() <= before["b"]  # only c's share moved


def test_a_member_that_stops_renewing_is_dropped_after_its_duration_and_rejoins_as_new(
    server: LeaseServer,
) -> None:
    a, b, c = Member(server, "a"), Member(server, "b"), Member(server, "c")
    for m in (a, b, c, a, b):
        m.tick()
    assert owners([a, b, c]) == [1] * len(AGENTS)
    mine = c.owned()
    # c is paused: a and b keep renewing every third of the lease and see c's Lease unchanged.
    for _ in range(2):
        a.tick(2)
        b.tick(2)
    assert a.elector.status().members == ("a", "b", "c")  # 4 s unchanged: not yet a duration
    a.tick(2)
    b.tick(2)
    assert a.elector.status().members == ("a", "b") == b.elector.status().members
    assert a.owned() | b.owned() == set(AGENTS) and a.owned().isdisjoint(b.owned())
    assert a.elector.may_write() and b.elector.may_write()
    # c wakes past its own deadline: it writes nothing on its stale view...
    c.clock.now += 7
    assert not c.elector.may_write() and c.elector.status().role is Role.FENCED
    assert c.owned() == set()
    # ...and its renewal is a new membership (a new acquireTime), which fences a and b at once.
    c.tick()
    assert c.elector.status().members == ("a", "b", "c") and c.owned() == mine
    assert not a.elector.may_write() and not b.elector.may_write()
    a.tick()
    b.tick()
    assert owners([a, b, c]) == [1] * len(AGENTS)


def test_a_clean_stop_hands_the_share_over_at_the_next_renewal(server: LeaseServer) -> None:
    a, b = Member(server, "a"), Member(server, "b")
    for m in (a, b, a):
        m.tick()
    b.elector.stop()  # releases its member Lease (and leadership, if it held it)
    assert server.leases[("presencectl", member_lease_name("demo-org", "b"))].spec.holder_identity is None
    assert not b.elector.may_write()
    a.tick()
    assert a.elector.status().members == ("a",) and a.owned() == set(AGENTS)
    assert a.elector.status().role is Role.LEADER and a.elector.may_write() and a.elector.may_write_cluster()


def test_an_unreachable_api_server_fences_every_member(server: LeaseServer) -> None:
    a, b = Member(server, "a"), Member(server, "b")
    for m in (a, b, a):
        m.tick()
    server.down = True
    assert not a.elector.may_write() and not b.elector.may_write()  # the per-batch list fails
    a.tick(7)
    status = a.elector.status()
    assert status.role is Role.FENCED and "HTTP 503" in status.reason


def test_member_lease_names_are_dns_names_for_any_identity() -> None:
    assert member_lease_name("demo-org", "presencectl-0") == "demo-org-member-presencectl-0"
    odd = member_lease_name("demo-org", "Host_Name.example-4711")
    assert odd.startswith("demo-org-member-host-name-example-4711-") and odd == odd.lower()
    assert odd != member_lease_name("demo-org", "host-name-example-4711")
