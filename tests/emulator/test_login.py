"""Agents logging in and out of a client, Out of Office, and what a logged-out agent put On Queue
does to routed interactions, over real HTTP and WebSocket
(docs/genesys-api.md#logged-out-agents-and-out-of-office)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from websockets.sync.client import connect

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.org import Org, agent_id
from controller.emulator.orgfile import dump_org, org_from_dict
from controller.emulator.server import RunningEmulator, start_emulator
from tests.conftest import Api
from tests.emulator.streams import next_event, subscribed_channel

ON_QUEUE = WELL_KNOWN_DEFINITION_IDS[SystemPresence.ON_QUEUE]
START = date(2026, 11, 23)  # a Monday


def _reads(api: Api, user_id: str) -> dict[str, Any]:
    """Presence, routing status and Out of Office of one agent through every read path."""
    single = api.get(f"/api/v2/users/{user_id}/presences/purecloud").json()
    bulk = api.get("/api/v2/users/presences/purecloud/bulk", params={"id": user_id}).json()[0]
    users = api.get(
        "/api/v2/users", params={"id": user_id, "expand": "presence,routingStatus,outOfOffice"}
    ).json()["entities"][0]
    activity = api.post("/api/v2/workforcemanagement/users/activity", json={"userIds": [user_id]}).json()
    routing = api.get(f"/api/v2/users/{user_id}/routingstatus").json()
    (act,) = activity["entities"]
    return {
        "presence": {
            single["presenceDefinition"]["systemPresence"],
            bulk["presenceDefinition"]["systemPresence"],
            users["presence"]["presenceDefinition"]["systemPresence"],
            act["presence"]["presenceDefinition"]["systemPresence"].replace("_", " ").title(),
        },
        "routing": {routing["status"], users["routingStatus"]["status"], act["routingStatus"]["status"]},
        "outOfOffice": {users["outOfOffice"]["active"], act["outOfOffice"]["active"]},
    }


def test_logging_out_shows_offline_off_queue_everywhere_and_logging_on_available(
    emulator: RunningEmulator, api: Api
) -> None:
    user_id = agent_id(0)
    emulator.control.set_presence(user_id, "On Queue")
    assert _reads(api, user_id)["routing"] == {"IDLE"}
    answer = emulator.control.set_logged_in(user_id, False)
    assert answer["loggedIn"] is False
    assert _reads(api, user_id) == {"presence": {"Offline"}, "routing": {"OFF_QUEUE"}, "outOfOffice": {False}}
    emulator.control.set_logged_in(user_id, True)  # the default status on log-on is Available
    assert _reads(api, user_id) == {
        "presence": {"Available"},
        "routing": {"OFF_QUEUE"},
        "outOfOffice": {False},
    }
    assert emulator.control.summary()["loggedIn"] >= 1


def test_a_logged_out_agent_put_on_queue_is_accepted_and_rings_unanswered(
    emulator: RunningEmulator, api: Api
) -> None:
    away, present = agent_id(1), agent_id(2)
    for user_id, logged_in in ((away, False), (present, True)):
        emulator.control.set_logged_in(user_id, logged_in)
        # the worst case: the platform takes the write (a refusal cannot be relied on)
        response = api.patch(
            f"/api/v2/users/{user_id}/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}}
        )
        assert response.status_code == 200, response.text
        assert _reads(api, user_id)["routing"] == {"IDLE"}
    # routing offers each an interaction: nobody is at the logged-out agent's desk
    assert emulator.control.offer_interaction(away)["routingStatus"]["status"] == "NOT_RESPONDING"
    assert emulator.control.offer_interaction(present)["routingStatus"]["status"] == "INTERACTING"
    assert _reads(api, away) == {
        "presence": {"On Queue"},
        "routing": {"NOT_RESPONDING"},
        "outOfOffice": {False},
    }
    # an interaction is offered only to an On Queue, idle agent; the default action is offer
    response = api.session.post(f"{emulator.api_base}/_emulator/agents/{away}/interaction", json={})
    assert response.status_code == 400 and "IDLE" in response.text


def test_out_of_office_is_in_every_answer_and_event(emulator: RunningEmulator, api: Api) -> None:
    user_id = agent_id(3)
    channel = subscribed_channel(api, [f"v2.users.{user_id}.activity"])
    with connect(channel["connectUri"]) as ws:
        emulator.control.set_out_of_office(user_id, True)
        event = next_event(ws, f"v2.users.{user_id}.activity")
    assert event["eventBody"]["outOfOffice"]["active"] is True
    assert set(event["eventBody"]["outOfOffice"]) == {"active", "modifiedDate"}  # UserActivityOutOfOffice
    assert _reads(api, user_id)["outOfOffice"] == {True}
    users = api.get("/api/v2/users", params={"id": user_id, "expand": "outOfOffice"}).json()["entities"][0]
    assert users["outOfOffice"]["indefinite"] is True and users["outOfOffice"]["user"]["id"] == user_id
    adherence = api.get("/api/v2/workforcemanagement/adherence", params={"userId": user_id}).json()
    assert adherence[0]["isOutOfOffice"] is True
    emulator.control.set_out_of_office(user_id, False)
    assert _reads(api, user_id)["outOfOffice"] == {False}
    assert (
        api.session.post(
            f"{emulator.api_base}/_emulator/agents/{user_id}/outofoffice", json={"active": "yes"}
        ).status_code
        == 400
    )


def test_a_logout_is_announced_on_the_activity_topic(emulator: RunningEmulator, api: Api) -> None:
    user_id = agent_id(4)
    emulator.control.set_logged_in(user_id, True)
    channel = subscribed_channel(api, [f"v2.users.{user_id}.activity"])
    with connect(channel["connectUri"]) as ws:
        emulator.control.set_logged_in(user_id, False)
        body = next_event(ws, f"v2.users.{user_id}.activity")["eventBody"]
    assert body["presence"]["presenceDefinition"]["systemPresence"] == "OFFLINE"
    assert body["routingStatus"]["status"] == "OFF_QUEUE"


# ---- the generated org's login model --------------------------------------------------------------


def _first_shift(org: Org) -> tuple[str, datetime, datetime]:
    for agent in org.agents:
        for shift in org.shifts.get(agent.id, []):
            return agent.id, shift.start, shift.start + timedelta(minutes=shift.length_minutes)
    raise AssertionError("no shift")


def test_generated_agents_log_in_before_their_shift_and_out_after_it() -> None:
    org = generate_org(agents=400, seed=1, start=START, days=3)
    assert (
        org.logins is not None and org.logins == generate_org(agents=400, seed=1, start=START, days=3).logins
    )
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for s in org.logins:
        spans.setdefault(s.agent_id, []).append((s.start, s.end))
    shifts = [s for agent_shifts in org.shifts.values() for s in agent_shifts]
    attended = 0
    for shift in shifts:
        end = shift.start + timedelta(minutes=shift.length_minutes)
        matching = [(a, b) for a, b in spans.get(shift.agent_id, []) if a <= shift.start and b >= end]
        if matching:
            ((login, logout),) = matching
            assert timedelta(minutes=5) <= shift.start - login <= timedelta(minutes=20)
            assert timedelta(0) <= logout - end <= timedelta(minutes=15)
            attended += 1
    no_shows = 1 - attended / len(shifts)
    assert 0.02 < no_shows < 0.09, no_shows  # DEFAULT_NO_SHOWS = 5 %
    # agents in no management unit log in for weekday office hours
    outside = [a.id for a in org.agents if a.management_unit_id is None]
    assert outside and any(a in spans for a in outside)
    assert generate_org(agents=50, start=START, no_shows=1.0).logins == []
    assert generate_org(agents=50, start=START, always_logged_in=True).logins is None


def test_time_travel_logs_agents_in_and_out_in_order() -> None:
    org = generate_org(agents=50, seed=1, start=START, days=2, no_shows=0.0)
    user_id, start, end = _first_shift(org)
    with start_emulator(org=org) as emu:
        emu.control.set_clock(start - timedelta(hours=2))
        assert not emu.backend.presence.users[user_id].logged_in
        emu.control.set_clock(start)  # logged in 5-20 min before: Available since then
        state = emu.backend.presence.users[user_id]
        assert state.logged_in and emu.backend.presence.system_presence_of(state) is SystemPresence.AVAILABLE
        assert start - timedelta(minutes=20) <= state.modified <= start - timedelta(minutes=5)
        emu.control.set_presence(user_id, "On Queue")
        emu.control.set_clock(end + timedelta(minutes=16))  # logged out after the shift
        assert (
            not state.logged_in and emu.backend.presence.system_presence_of(state) is SystemPresence.OFFLINE
        )
        assert state.routing_status.value == "OFF_QUEUE"
        emu.control.set_clock(start + timedelta(hours=1))  # back in time: logged in again
        assert state.logged_in


def test_org_files_log_agents_in_for_their_shifts_or_as_listed(tmp_path: Any) -> None:
    generated = generate_org(agents=20, seed=1, start=START, days=1)
    document = dump_org(generated)
    assert org_from_dict(document).logins == generated.logins
    document["logins"] = "always"
    assert org_from_dict(document).logins is None
    del document["logins"]
    by_shifts = org_from_dict(document).logins
    assert by_shifts and all(
        any(s.agent_id == x.agent_id and s.start == x.start for x in by_shifts)
        for shifts in generated.shifts.values()
        for s in shifts
    )
    document["logins"] = [
        {
            "agent": "agent00000@demo.example.com",
            "start": "2026-11-23T09:00:00Z",
            "end": "2026-11-23T08:00:00Z",
        }
    ]
    with pytest.raises(Exception, match=r"logins\[0\]\.end: a login must end after it starts"):
        org_from_dict(document)


@pytest.fixture
def everyone_logged_in() -> Iterator[RunningEmulator]:
    with start_emulator(org=generate_org(agents=10, start=START, always_logged_in=True)) as emu:
        yield emu


def test_an_always_logged_in_org_starts_everyone_available(everyone_logged_in: RunningEmulator) -> None:
    summary = everyone_logged_in.control.summary()
    assert summary["loggedIn"] == 10 and summary["presenceCounts"] == {"Available": 10}
    everyone_logged_in.control.set_clock(datetime(2026, 11, 30, tzinfo=UTC))
    assert everyone_logged_in.control.summary()["loggedIn"] == 10
