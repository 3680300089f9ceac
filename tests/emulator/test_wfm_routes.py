"""WFM routes over real HTTP: units, activity codes, maybe-async schedule search, adherence."""

from __future__ import annotations

import json
from datetime import timedelta

import requests
from websockets.sync.client import connect

from controller.emulator.core.clock import iso
from controller.emulator.server import start_emulator
from tests.conftest import Api
from tests.support.waiting import wait_for

WFM = "/api/v2/workforcemanagement"


def _bu_of(api: Api, user_id: str) -> str:
    body = api.get(f"{WFM}/agents/{user_id}/managementunit").json()
    assert body["user"]["id"] == user_id
    return str(body["businessUnit"]["id"])


def _range(api: Api, hours: int = 24) -> dict[str, str]:
    now = api.emulator.control.now()
    return {"startDate": iso(now - timedelta(hours=hours)), "endDate": iso(now + timedelta(hours=hours))}


def test_units_and_activity_codes(api: Api) -> None:
    org = api.emulator.org
    bus = api.get(f"{WFM}/businessunits").json()["entities"]
    assert {b["id"] for b in bus} == {b.id for b in org.business_units}
    mus = api.get(f"{WFM}/businessunits/{bus[0]['id']}/managementunits").json()["entities"]
    assert {m["id"] for m in mus} == {
        m.id for m in org.management_units if m.business_unit_id == bus[0]["id"]
    }
    codes = api.get(f"{WFM}/businessunits/{bus[0]['id']}/activitycodes").json()
    assert {c["category"] for c in codes["entities"]} >= {"OnQueueWork", "Break", "Meal"}
    assert api.get(f"{WFM}/businessunits/nope/activitycodes").status_code == 404
    download = api.get(
        f"{WFM}/businessunits/{bus[0]['id']}/activitycodes", params={"forceDownloadService": "true"}
    )
    assert requests.get(download.json()["downloadUrl"], timeout=10).json() == codes


def test_agent_without_management_unit_is_404(api: Api) -> None:
    response = api.get(f"{WFM}/agents/00000000-0000-0000-0000-000000000000/managementunit")
    assert response.status_code == 404 and response.json()["code"] == "not.found"


def test_schedule_search_inline(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    bu = _bu_of(api, user)
    response = api.post(
        f"{WFM}/businessunits/{bu}/agentschedules/search", json={**_range(api), "userIds": [user]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Complete" and "downloadUrl" not in body
    schedules = body["result"]["agentSchedules"]
    assert [s["user"]["id"] for s in schedules] == [user]
    assert body["result"]["businessUnitTimeZone"]


def test_schedule_search_errors(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    bu = _bu_of(api, user)
    path = f"{WFM}/businessunits/{bu}/agentschedules/search"
    assert api.post(path, json={"userIds": [user]}).status_code == 400
    window = _range(api)
    backwards = {"startDate": window["endDate"], "endDate": window["startDate"]}
    assert api.post(path, json=backwards).status_code == 400
    assert api.post(f"{WFM}/businessunits/nope/agentschedules/search", json=window).status_code == 404


def test_schedule_search_download_when_forced_or_large() -> None:
    with start_emulator(agents=260, seed=2) as emu:
        api = Api(emu)
        bu = next(b.id for b in emu.org.business_units)
        members = [
            a.id
            for a in emu.org.agents
            if any(
                m.id == a.management_unit_id and m.business_unit_id == bu for m in emu.org.management_units
            )
        ]
        assert len(members) > 100
        path = f"{WFM}/businessunits/{bu}/agentschedules/search"
        large = api.post(path, json={**_range(api), "userIds": members}).json()
        assert large["status"] == "Complete" and "result" not in large
        downloaded = requests.get(large["downloadUrl"], timeout=10).json()  # no bearer: pre-signed style
        assert {s["user"]["id"] for s in downloaded["agentSchedules"]} == set(members)
        forced = api.post(
            path, params={"forceDownloadService": "true"}, json={**_range(api), "userIds": members[:1]}
        )
        assert "downloadUrl" in forced.json()


def test_schedule_search_async_publishes_the_result(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    bu = _bu_of(api, user)
    topic = f"v2.workforcemanagement.users.{api.emulator.client_id}.schedules.search"
    channel = api.post("/api/v2/notifications/channels").json()
    api.put(f"/api/v2/notifications/channels/{channel['id']}/subscriptions", json=[{"id": topic}])
    with connect(channel["connectUri"]) as ws:
        response = api.post(
            f"{WFM}/businessunits/{bu}/agentschedules/search",
            params={"forceAsync": "true"},
            json={**_range(api), "userIds": [user]},
        ).json()
        assert response["status"] == "Processing" and "result" not in response
        event = json.loads(ws.recv())
        assert event["topicName"] == topic
        assert event["eventBody"]["operationId"] == response["operationId"]
        assert event["eventBody"]["businessUnitId"] == bu
        result = requests.get(event["eventBody"]["downloadUrl"], timeout=10).json()
        assert [s["user"]["id"] for s in result["agentSchedules"]] == [user]


def test_realtime_adherence(api: Api) -> None:
    users = [a.id for a in api.emulator.org.agents[:3]]
    body = api.get(f"{WFM}/adherence", params={"userId": ",".join(users)}).json()
    assert [a["user"]["id"] for a in body] == users
    assert all(a["adherenceState"] in ("InAdherence", "OutOfAdherence", "Unscheduled") for a in body)
    assert body[0]["systemPresence"] in ("Available", "Offline")  # CamelCase here
    assert api.get(f"{WFM}/adherence").status_code == 400
    assert api.get(f"{WFM}/adherence", params={"userId": ",".join(["x"] * 101)}).status_code == 400


def test_historical_adherence_query_and_limits(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    mu = api.get(f"{WFM}/agents/{user}/managementunit").json()["managementUnit"]["id"]
    api.emulator.control.set_presence(user, "On Queue")
    path = f"{WFM}/managementunits/{mu}/historicaladherencequery"
    now = api.emulator.control.now()
    body = {
        "startDate": iso(now - timedelta(days=1)),
        "endDate": iso(now),
        "userIds": [user],
        "includeExceptions": True,
    }
    started = api.post(path, json=body)
    assert started.status_code == 202
    job = started.json()
    assert job["queryState"] == "Processing" and set(job) == {"id", "queryState"}
    wait_for(
        lambda: api.get(f"{WFM}/adherence/historical/jobs/{job['id']}").json()["queryState"] == "Complete",
        "the historical adherence job",
    )
    polled = api.get(f"{WFM}/adherence/historical/jobs/{job['id']}").json()
    assert polled["queryState"] == "Complete"
    result = requests.get(polled["downloadUrls"][0], timeout=10).json()
    assert [d["userId"] for d in result["data"]] == [user]
    eight_days = {**body, "startDate": iso(now - timedelta(days=8))}
    assert api.post(path, json=eight_days).status_code == 400
    assert api.post(path, json={**eight_days, "includeExceptions": False}).status_code == 202
    month = {**body, "startDate": iso(now - timedelta(days=32)), "includeExceptions": False}
    assert api.post(path, json=month).status_code == 400
    assert api.post(f"{WFM}/managementunits/nope/historicaladherencequery", json=body).status_code == 404
    assert api.get(f"{WFM}/adherence/historical/jobs/nope").status_code == 404
