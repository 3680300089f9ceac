"""WFM reads at real scale (issue 9 part 6): unit membership in one call per business unit,
schedule searches in chunks that shrink when the platform refuses them or goes silent, and a
download host's 429 waited like any other."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from controller.emulator.generate import generate_org
from controller.emulator.platform import PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.org_reader import OrgReader
from tests.engine.conftest import DAY, DESIRED, client_for, open_test_session
from tests.genesys.conftest import client_for as fast_client_for

WFM = "/api/v2/workforcemanagement"
SEARCH = f"POST {WFM}/businessunits/{{businessUnitId}}/agentschedules/search"
ADHERENCE = f"GET {WFM}/adherence"


def _emulator(**options: object) -> RunningEmulator:
    org = generate_org(agents=60, seed=1, start=DAY - timedelta(days=1), days=3)
    org.platform = PlatformOptions(**options)  # type: ignore[arg-type]
    emu = start_emulator(org=org, rate_limit=100_000)
    emu.control.set_clock(datetime.combine(DAY, time(10), UTC))
    return emu


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with _emulator() as running:
        yield running


def _wfm_calls(emu: RunningEmulator) -> dict[str, int]:
    return {k: v for k, v in emu.control.request_counts().items() if "workforcemanagement" in k}


def test_directory_reads_membership_once_per_business_unit(emu: RunningEmulator) -> None:
    with client_for(emu) as client:
        directory = OrgReader(client).directory(emu.control.now())
    org = emu.org
    assert {a.id: a.management_unit_id for a in directory.agents} == {
        a.id: a.management_unit_id for a in org.agents
    }
    assert directory.business_unit_of == {
        a.id: units[1].id for a in org.agents if (units := org.business_unit_of(a.id)) is not None
    }
    assert _wfm_calls(emu) == {  # before: one real-time adherence call per 100 agents as well
        f"GET {WFM}/businessunits": 1,
        f"GET {WFM}/businessunits/{{businessUnitId}}/users": len(org.business_units),
    }


@pytest.mark.parametrize(
    ("refused", "expected"),
    [
        ("businessunits/[^/]+/users$", f"GET {WFM}/managementunits/{{managementUnitId}}/users"),
        ("/users$", ADHERENCE),
    ],
)
def test_directory_falls_back_when_the_listings_are_refused(
    emu: RunningEmulator, refused: str, expected: str
) -> None:
    emu.control.faults(errorRate=1.0, errorStatus=403, pathPattern=f"workforcemanagement/.*{refused}")
    with client_for(emu) as client:
        directory = OrgReader(client).directory(emu.control.now())
    assert {a.id: a.management_unit_id for a in directory.agents} == {
        a.id: a.management_unit_id for a in emu.org.agents
    }
    assert expected in _wfm_calls(emu)


def _schedules_of(reader: OrgReader) -> dict[str, int]:
    now = datetime.combine(DAY, time(10, 7), UTC)  # one instant for every emulator compared
    directory = reader.directory(now)
    found = reader.schedules(directory, directory.business_unit_of.keys(), now)
    return {a: len(s.shifts) for a, s in found.by_agent.items()}


def test_schedule_search_is_chunked_and_a_refused_chunk_is_halved(emu: RunningEmulator) -> None:
    with client_for(emu) as client:
        expected = _schedules_of(OrgReader(client))
    with _emulator(schedule_search_max_users=10) as capped, client_for(capped) as client:
        reader = OrgReader(client, schedule_chunk=40)
        assert _schedules_of(reader) == expected  # before: a 400 failed the cycle
        assert reader.schedule_chunk <= 10  # halved until accepted, and kept
        capped.control.clear_requests()
        reader.invalidate()
        _schedules_of(reader)
        statuses = [r["status"] for r in capped.control.requests_log() if r["route"].endswith("/search")]
        assert statuses and set(statuses) == {200}


def test_a_silent_async_search_is_reported_and_retried_smaller(
    emu: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    with client_for(emu) as client:
        expected = _schedules_of(OrgReader(client))
    silent = _emulator(schedule_search_async_above_users=12, schedule_search_notifications=False)
    with silent, client_for(silent) as client:
        reader = OrgReader(client, schedule_chunk=50, schedule_wait=timedelta(milliseconds=200))
        caplog.set_level(logging.WARNING, logger="controller.engine.org_reader")
        assert _schedules_of(reader) == expected  # before: a 60 s silent time-out
    warned = [r.getMessage() for r in caplog.records if "no notification came" in r.getMessage()]
    assert warned and "searching again in chunks of" in warned[0]
    assert reader.schedule_chunk <= 12


def test_a_download_hosts_429_waits_its_retry_after(emu: RunningEmulator) -> None:
    slept: list[float] = []
    with fast_client_for(emu, sleep=slept.append) as client:
        bu = client.wfm.business_units()[0].id
        emu.control.faults(pathPattern="^/downloads/", burst429={"count": 1, "retryAfter": 7})
        codes = client.wfm.activity_codes(bu, force_download=True)
        budget = client.budget.snapshot()
    assert codes and 7.0 in slept  # before: retried at once (the pause went to the API budget)
    assert budget.slowdowns == 0  # the API host's budget is not slowed by another host's limit
    downloads = [r["status"] for r in emu.control.requests_log() if r["route"] == "/downloads/{downloadId}"]
    assert downloads == [429, 200]


def test_controller_config_sets_the_schedule_search_chunk_and_wait(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    directory = tmp_path / "desired"
    shutil.copytree(DESIRED, directory)
    config = directory / "controller.yaml"
    config.write_text(config.read_text() + "  scheduleSearch: {chunkUsers: 7, waitSeconds: 5}\n")
    session = open_test_session(emu, directory)
    assert session.state.config.schedule_search_chunk == 7
    assert session.org_reader.schedule_chunk == 7


def test_a_reload_keeps_the_learned_chunk_unless_the_setting_changes(emu: RunningEmulator) -> None:
    with client_for(emu) as client:
        reader = OrgReader(client, schedule_chunk=500)
    reader.schedule_chunk = 125  # learned
    reader.tune_schedule_search(500, timedelta(seconds=60))
    assert reader.schedule_chunk == 125
    reader.tune_schedule_search(300, timedelta(seconds=60))
    assert reader.schedule_chunk == 300
