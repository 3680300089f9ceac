"""WFM, Process Automation triggers and channels through the client, against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controller.core.domain import ActivityCategory
from controller.emulator.server import RunningEmulator
from controller.emulator.wfm import schedules
from controller.genesys import Conflict, GenesysClient, NotFound, TriggerSpec

SEARCH = "POST /api/v2/workforcemanagement/businessunits/{businessUnitId}/agentschedules/search"


def test_units_and_activity_codes_inline_and_downloaded(emu: RunningEmulator, client: GenesysClient) -> None:
    agent = next(a for a in emu.org.agents if a.management_unit_id)
    units = client.wfm.agent_units(agent.id)
    assert units is not None and units.management_unit_id == agent.management_unit_id
    assert units.business_unit_id in {b.id for b in client.wfm.business_units()}
    assert agent.management_unit_id in {m.id for m in client.wfm.management_units(units.business_unit_id)}
    inline = client.wfm.activity_codes(units.business_unit_id)
    downloaded = client.wfm.activity_codes(units.business_unit_id, force_download=True)
    assert inline == downloaded and {c.category for c in inline} >= {ActivityCategory.BREAK}
    counts = emu.control.request_counts()
    assert counts["GET /downloads/{downloadId}"] == 1
    unassigned = next((a for a in emu.org.agents if not a.management_unit_id), None)
    if unassigned is not None:
        assert client.wfm.agent_units(unassigned.id) is None


def test_schedule_search_inline_download_and_async_agree(emu: RunningEmulator, client: GenesysClient) -> None:
    agent = next(a for a in emu.org.agents if a.management_unit_id)
    units = client.wfm.agent_units(agent.id)
    assert units is not None
    members = [a.id for a in emu.org.agents if emu.org.business_unit_of(a.id) and a.management_unit_id][:20]
    now = emu.control.now()
    start, end = now - timedelta(days=1), now + timedelta(days=6)
    emu.control.clear_requests()
    inline = client.wfm.search_schedules(units.business_unit_id, start, end, members)
    downloaded = client.wfm.search_schedules(units.business_unit_id, start, end, members, force_download=True)
    async_ = client.wfm.search_schedules(
        units.business_unit_id, start, end, members, force_async=True, wait_seconds=5
    )
    assert inline == downloaded == async_
    assert any(s.shifts for s in inline.values())
    counts = emu.control.request_counts()
    # 1 inline + 1 download + async: the first answer says Processing, the client subscribes, searches again
    assert counts[SEARCH] == 4
    assert counts["GET /downloads/{downloadId}"] == 2
    assert counts["POST /api/v2/notifications/channels"] == 1


def test_time_off_markers_match_the_bu_day(emu: RunningEmulator, client: GenesysClient) -> None:
    marker = emu.org.time_off[0]
    units = emu.org.business_unit_of(marker.agent_id)
    assert units is not None
    bu = units[1]
    begin, until = schedules.time_off_span(bu, marker)
    result = client.wfm.search_schedules(
        bu.id, begin - timedelta(hours=1), until + timedelta(hours=1), [marker.agent_id]
    )
    off = result[marker.agent_id].time_off
    assert [(t.start, t.end, t.business_unit_date) for t in off] == [
        (begin, until, marker.business_unit_date)
    ]


def test_adherence_realtime_chunks_and_historical_job(emu: RunningEmulator, client: GenesysClient) -> None:
    everyone = [a.id for a in emu.org.agents]
    records = client.wfm.realtime_adherence(everyone)  # 60 ids: one call
    assert set(records) <= set(everyone) and records
    assert emu.control.request_counts()["GET /api/v2/workforcemanagement/adherence"] == 1
    agent = next(a for a in emu.org.agents if a.management_unit_id)
    assert agent.management_unit_id is not None
    now = emu.control.now()
    rows = client.wfm.historical_adherence(
        agent.management_unit_id, now - timedelta(days=1), now, [agent.id], poll_seconds=0.05, wait_seconds=5
    )
    assert [r.user_id for r in rows] == [agent.id]
    counts = emu.control.request_counts()
    assert (
        counts["POST /api/v2/workforcemanagement/managementunits/{managementUnitId}/historicaladherencequery"]
        == 1
    )
    assert counts["GET /downloads/{downloadId}"] >= 1


def test_trigger_crud_with_cursor_paging_and_versions(emu: RunningEmulator, client: GenesysClient) -> None:
    specs = [
        TriggerSpec(
            name=f"presencectl:{i}",
            topic_name="v2.users.{id}.activity",
            workflow_id="wf-1",
            match_criteria=(
                {"jsonPath": "routingStatus.status", "operator": "Equal", "value": "NOT_RESPONDING"},
            ),
            event_ttl_seconds=60,
        )
        for i in range(5)
    ]
    created = [client.triggers.create_trigger(s) for s in specs]
    assert [t.spec for t in created] == specs
    listed = client.triggers.list_triggers(page_size=2)
    assert [t.id for t in listed] == [t.id for t in created]
    assert emu.control.request_counts()["GET /api/v2/processautomation/triggers"] == 3  # 2 + 2 + 1
    first = created[0]
    updated = client.triggers.update_trigger(
        first.id, TriggerSpec(**{**first.spec.__dict__, "enabled": False}), first.version
    )
    assert updated.version == first.version + 1 and not updated.spec.enabled
    with pytest.raises(Conflict):
        client.triggers.update_trigger(first.id, first.spec, first.version)  # stale version
    assert client.triggers.get_trigger(first.id) == updated
    client.triggers.delete_trigger(first.id)
    with pytest.raises(NotFound):
        client.triggers.get_trigger(first.id)
    assert len(client.triggers.list_triggers(["v2.users.{id}.activity"])) == 4


def test_channel_and_subscription_endpoints(client: GenesysClient) -> None:
    channel = client.notifications.create_channel()
    assert client.notifications.channel_exists(channel.id) and channel.connect_uri.startswith("ws")
    assert channel.id in {c.id for c in client.notifications.list_channels()}
    client.notifications.set_subscriptions(channel.id, ["v2.users.a.presence", "v2.users.b.presence"])
    client.notifications.add_subscriptions(channel.id, ["v2.users.c.presence"])
    assert [t.id for t in client.notifications.get_subscriptions(channel.id)] == [
        f"v2.users.{x}.presence" for x in "abc"
    ]
    client.notifications.delete_subscriptions(channel.id)
    assert client.notifications.get_subscriptions(channel.id) == []
    assert not client.notifications.channel_exists("streaming-0-missing")
