"""The platform behaviours the API doc leaves UNCONFIRMED, each behind an org-file switch
(`platform:`), and the WFM unit-membership reads (docs/genesys-api.md#assumptions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.emulator.core.clock import iso
from controller.emulator.generate import generate_org
from controller.emulator.org import Org
from controller.emulator.orgfile import dump_org, org_from_dict
from controller.emulator.platform import PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from tests.conftest import Api

WFM = "/api/v2/workforcemanagement"
BREAK = WELL_KNOWN_DEFINITION_IDS[SystemPresence.BREAK]


def _org(**options: Any) -> Org:
    """60 agents: the generated org then has two in no management unit."""
    org = generate_org(agents=60, seed=1)
    org.platform = PlatformOptions(**options)
    return org


@pytest.fixture
def make_api() -> Iterator[object]:
    running: list[tuple[RunningEmulator, Api]] = []

    def make(**options: Any) -> Api:
        emu = start_emulator(org=_org(**options), rate_limit=100_000)
        api = Api(emu)
        running.append((emu, api))
        return api

    yield make
    for emu, api in running:
        api.session.close()
        emu.stop()


def test_platform_section_round_trips_through_the_org_file() -> None:
    org = org_from_dict({"platform": {"bulkPresenceEcho": "positional", "usersActivityMaxIds": 7}})
    assert org.platform == PlatformOptions(bulk_presence_echo="positional", users_activity_max_ids=7)
    assert org_from_dict(dump_org(org)).platform == org.platform
    assert org_from_dict({}).platform == PlatformOptions()
    with pytest.raises(ValueError, match="bulkPresenceEcho"):
        org_from_dict({"platform": {"bulkPresenceEcho": "userid"}})


@pytest.mark.parametrize("echo", ["presence-id", "user-id", "positional"])
def test_bulk_put_echo_shapes(make_api, echo: str) -> None:  # type: ignore[no-untyped-def]
    api: Api = make_api(bulk_presence_echo=echo)
    ids = [a.id for a in api.emulator.org.agents[:3]]
    body = [{"id": i, "presenceDefinition": {"id": BREAK}, "source": "PURECLOUD"} for i in ids]
    answer = api.put("/api/v2/users/presences/bulk", json=body).json()
    assert [p["presenceDefinition"]["id"] for p in answer] == [BREAK] * 3  # the request's order
    if echo == "presence-id":  # documented UserPresence: the object's own id, no userId
        assert all("userId" not in p for p in answer)
        assert len({p["id"] for p in answer}) == 3 and not {p["id"] for p in answer} & set(ids)
    elif echo == "user-id":
        assert [p["userId"] for p in answer] == ids == [p["id"] for p in answer]
    else:
        assert all("id" not in p and "userId" not in p for p in answer)


def test_bulk_put_default_echo_is_the_documented_one(api: Api) -> None:
    assert api.emulator.org.platform.bulk_presence_echo == "presence-id"
    ids = [a.id for a in api.emulator.org.agents[:2]]
    body = [{"id": i, "presenceDefinition": {"id": BREAK}, "source": "custom"} for i in ids]
    assert api.put("/api/v2/users/presences/bulk", json=body).status_code == 400


def test_users_activity_leaves_out_agents_in_no_management_unit(make_api) -> None:  # type: ignore[no-untyped-def]
    api: Api = make_api()
    org = api.emulator.org
    outside = [a.id for a in org.agents if a.management_unit_id is None]
    inside = [a.id for a in org.agents if a.management_unit_id is not None][:5]
    assert outside, "the generated org has agents in no management unit"
    body = api.post(f"{WFM}/users/activity", json={"userIds": inside + outside}).json()
    assert [e["id"] for e in body["entities"]] == inside
    expanded = api.get("/api/v2/users", params={"id": ",".join(outside), "expand": "presence"}).json()
    assert {u["id"] for u in expanded["entities"] if u.get("presence")} == set(outside)


def test_users_activity_cap_is_configurable(make_api) -> None:  # type: ignore[no-untyped-def]
    api: Api = make_api(users_activity_max_ids=10)
    ids = [a.id for a in api.emulator.org.agents[:11]]
    refused = api.post(f"{WFM}/users/activity", json={"userIds": ids})
    assert refused.status_code == 400 and refused.json()["code"] == "bad.request"
    assert {"message", "code", "status", "contextId"} <= set(refused.json())
    assert api.post(f"{WFM}/users/activity", json={"userIds": ids[:10]}).status_code == 200


def test_definitions_deactivated_takes_the_sdk_spelling(api: Api) -> None:
    assert api.get("/api/v2/presence/definitions", params={"deactivated": "FALSE"}).status_code == 200
    assert api.get("/api/v2/presence/definitions", params={"deactivated": "TRUE"}).status_code == 200
    assert api.get("/api/v2/presence/definitions", params={"deactivated": "false"}).status_code == 400


def test_business_unit_and_management_unit_users(api: Api) -> None:
    org = api.emulator.org
    bu = org.business_units[0]
    mus = [m for m in org.management_units if m.business_unit_id == bu.id]
    listing = api.get(f"{WFM}/businessunits/{bu.id}/users").json()
    assert set(listing) == {"managementUnits"}
    got = {e["managementUnit"]["id"]: {u["id"] for u in e["users"]} for e in listing["managementUnits"]}
    assert got == {m.id: {a.id for a in org.agents if a.management_unit_id == m.id} for m in mus}
    narrowed = api.get(f"{WFM}/businessunits/{bu.id}/users", params={"managementUnitIds": mus[0].id})
    assert [e["managementUnit"]["id"] for e in narrowed.json()["managementUnits"]] == [mus[0].id]
    members = api.get(f"{WFM}/managementunits/{mus[0].id}/users").json()
    assert {u["id"] for u in members["entities"]} == got[mus[0].id]
    assert api.get(f"{WFM}/managementunits/nope/users").status_code == 404
    assert api.get(f"{WFM}/businessunits/nope/users").status_code == 404


def _search(api: Api, user_ids: list[str]) -> requests.Response:
    org = api.emulator.org
    bu = org.business_unit_of(user_ids[0])
    assert bu is not None
    now = api.emulator.control.now()
    body = {"startDate": iso(now - timedelta(hours=1)), "endDate": iso(now + timedelta(hours=1))}
    route = f"{WFM}/businessunits/{bu[1].id}/agentschedules/search"
    return api.post(route, json={**body, "userIds": user_ids})


def test_schedule_search_refuses_over_the_limit_and_goes_async_above(make_api) -> None:  # type: ignore[no-untyped-def]
    api: Api = make_api(schedule_search_max_users=8, schedule_search_async_above_users=4)
    org = api.emulator.org
    bu = org.business_unit_of(org.agents[0].id)
    assert bu is not None
    same_bu = [a.id for a in org.agents if (u := org.business_unit_of(a.id)) and u[1].id == bu[1].id]
    refused = _search(api, same_bu[:9])
    assert refused.status_code == 400 and "8" in refused.json()["message"]
    assert _search(api, same_bu[:5]).json()["status"] == "Processing"
    assert _search(api, same_bu[:4]).json()["status"] == "Complete"


def test_downloads_live_on_another_host_with_their_own_429(api: Api) -> None:
    bu = api.emulator.org.business_units[0].id
    answer = api.get(f"{WFM}/businessunits/{bu}/activitycodes", params={"forceDownloadService": "true"})
    url = answer.json()["downloadUrl"]
    assert urlsplit(url).netloc != urlsplit(api.emulator.api_base).netloc
    api.emulator.control.faults(pathPattern="^/downloads/", burst429={"count": 1, "retryAfter": 3})
    throttled = requests.get(url, timeout=10)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert requests.get(url, timeout=10).status_code == 200
