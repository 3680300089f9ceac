"""observe() on an org whose users/activity leaves agents out and caps its batch
(docs/genesys-api.md#users-activity), and bulk writes whose answer is matched whatever its shape
(docs/genesys-api.md#bulk-presence)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller.emulator.generate import generate_org
from controller.emulator.platform import BULK_ECHOES, PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from controller.genesys import PresenceUpdate
from tests.genesys.conftest import client_for

ACTIVITY = "POST /api/v2/workforcemanagement/users/activity"
USERS = "GET /api/v2/users"


def _emulator(**options: object) -> RunningEmulator:
    org = generate_org(agents=60, seed=1)  # two of its agents are in no management unit
    org.platform = PlatformOptions(**options)  # type: ignore[arg-type]
    return start_emulator(org=org, rate_limit=100_000)


@pytest.fixture
def capped() -> Iterator[RunningEmulator]:
    with _emulator(users_activity_max_ids=20) as emu:
        yield emu


def test_agents_users_activity_leaves_out_are_read_in_the_same_call(emu: RunningEmulator) -> None:
    everyone = [a.id for a in emu.org.agents]
    outside = {a.id for a in emu.org.agents if a.management_unit_id is None}
    assert len(outside) == 2
    with client_for(emu) as client:
        observed = client.presence.observe(everyone)
    assert set(observed) == set(everyone)  # before: the two were missing, every cycle, forever
    counts = emu.control.request_counts()
    assert counts[ACTIVITY] == 1 and counts[USERS] == 1


def test_a_400_halves_the_batch_and_the_size_is_kept(capped: RunningEmulator) -> None:
    everyone = [a.id for a in capped.org.agents]
    with client_for(capped) as client:
        first = client.presence.observe(everyone)
        assert client.presence.activity_batch_size == 15  # 60 refused, 30 refused, 15 accepted
        capped.control.clear_requests()
        second = client.presence.observe(everyone)
    assert set(first) == set(second) == set(everyone)
    statuses = [r["status"] for r in capped.control.requests_log() if r["route"].endswith("users/activity")]
    assert statuses == [200] * 4  # the learned size: no 400 on the next cycle


@pytest.mark.parametrize("echo", BULK_ECHOES)
def test_bulk_write_answer_matched_for_each_echo_shape(echo: str) -> None:
    with _emulator(bulk_presence_echo=echo) as emu, client_for(emu) as client:
        catalog = client.presence.presence_catalog()
        brk = catalog.resolve("Break")
        assert brk is not None
        targets = [a.id for a in emu.org.agents[:5]]
        result = client.presence.set_presences(PresenceUpdate(u, brk.id) for u in targets)
    assert set(result.echoes) == set(targets) == set(result.correlation_ids)
    assert {e.presence_id for e in result.echoes.values()} == {brk.id}
    assert [result.echoes[u].user_id for u in targets] == targets


def test_users_activity_refusing_even_one_id_is_given_up_cheaply(emu: RunningEmulator) -> None:
    emu.control.faults(errorRate=1.0, errorStatus=400, pathPattern="users/activity")
    everyone = [a.id for a in emu.org.agents]
    with client_for(emu) as client:
        first = client.presence.observe(everyone)
        second = client.presence.observe(everyone)
    assert set(first) == set(second) == set(everyone)
    counts = emu.control.request_counts()
    # 60, 30, 15, 8, 4, 2, 1: the first halves down to one id, then GET /users for the process
    assert counts[ACTIVITY] == 7 and counts[USERS] == 2
