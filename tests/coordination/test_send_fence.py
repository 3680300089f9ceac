"""A leader that passed its batch's fencing check and was then paused (SIGSTOP: its monotonic
clock jumps) past its lease sends nothing on waking: the client asks the lease again at the
instant of the send. The takeover test that showed it: tests/coordination/test_failover.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller.core.presence import SystemPresence
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.session import connect
from controller.genesys import Fenced, PresenceUpdate, RateBudget
from tests.coordination.electors import Clock, elector, metric
from tests.coordination.etcd_cluster import EtcdCluster


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with start_emulator(agents=10, seed=1, rate_limit=100_000) as running:
        yield running


def test_a_leader_paused_after_its_check_sends_nothing_on_waking(
    etcd: EtcdCluster, emu: RunningEmulator
) -> None:
    clock = Clock()
    leader = elector(etcd, "a", clock)
    leader.tick()
    client = connect(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, 6000, budget=RateBudget(6000)
    )
    client.set_write_guard(leader.holds)
    available = client.presence.presence_catalog().system(SystemPresence.AVAILABLE)
    assert available is not None
    updates = [PresenceUpdate(a.id, available.id) for a in emu.org.agents]
    try:
        assert leader.may_write()  # the executor's check before the batch
        client.presence.set_presences(updates[:5])  # sent while the lease holds
        assert leader.may_write()
        clock.now += 2.0  # SIGSTOP here, SIGCONT after the 2 s lease: the batch is still to send
        emu.control.clear_requests()
        with pytest.raises(Fenced):
            client.presence.set_presences(updates[5:])
        assert emu.control.request_counts() == {}
        assert metric(leader, "presencectl_fenced_writes_total") == 1
    finally:
        client.close()
        leader.stop()
