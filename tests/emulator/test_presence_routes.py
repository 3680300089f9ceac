"""Presence definitions, per-user and bulk presence, users/activity, and the per-endpoint
spelling of systemPresence (docs/genesys-api.md#system-presence-spellings)."""

from __future__ import annotations

import pytest

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from tests.conftest import Api

ON_QUEUE = WELL_KNOWN_DEFINITION_IDS[SystemPresence.ON_QUEUE]
BREAK = WELL_KNOWN_DEFINITION_IDS[SystemPresence.BREAK]


def test_definitions_listing_is_unpaged_camel_case(api: Api) -> None:
    body = api.get("/api/v2/presence/definitions").json()
    assert set(body) == {"total", "entities", "selfUri"}
    assert body["total"] == len(body["entities"])
    by_id = {d["id"]: d for d in body["entities"]}
    assert by_id[ON_QUEUE]["systemPresence"] == "OnQueue" and by_id[ON_QUEUE]["type"] == "System"
    secondaries = [d for d in body["entities"] if d["type"] == "User"]
    assert secondaries and all(d["systemPresence"] != "OnQueue" for d in secondaries)
    assert api.get("/api/v2/presence/definitions", params={"deactivated": "maybe"}).status_code == 400


def test_one_definition_and_404(api: Api) -> None:
    assert api.get(f"/api/v2/presence/definitions/{BREAK}").json()["systemPresence"] == "Break"
    assert api.get("/api/v2/presence/definitions/nope").status_code == 404


def test_system_presences(api: Api) -> None:
    body = api.get("/api/v2/systempresences").json()
    assert len(body) == 10 and {"On Queue", "Available"} <= {p["name"] for p in body}


def test_patch_presence_sets_label_spelling_and_modified_date(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    before = api.emulator.control.now()
    response = api.patch(
        f"/api/v2/users/{user}/presences/purecloud",
        json={"presenceDefinition": {"id": ON_QUEUE}, "message": "hello"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["presenceDefinition"]["id"] == ON_QUEUE
    assert body["presenceDefinition"]["systemPresence"] == "On Queue"
    assert body["message"] == "hello" and body["modifiedDate"] >= before.isoformat()[:19]
    assert api.get(f"/api/v2/users/{user}/presences/purecloud").json() == body


@pytest.mark.parametrize("body", [{"presenceDefinition": {"id": "nope"}}, {"presenceDefinition": "x"}, {}])
def test_patch_with_unknown_definition_is_400(api: Api, body: dict[str, object]) -> None:
    user = api.emulator.org.agents[0].id
    response = api.patch(f"/api/v2/users/{user}/presences/purecloud", json=body)
    assert response.status_code == 400 and response.json()["code"] == "bad.request"


def test_patch_unknown_user_is_404(api: Api) -> None:
    response = api.patch(
        "/api/v2/users/nobody/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}}
    )
    assert response.status_code == 404


def test_bulk_get_50_ids_and_51_is_400(api: Api) -> None:
    ids = [a.id for a in api.emulator.org.agents]
    body = api.get("/api/v2/users/presences/purecloud/bulk", params={"id": ",".join(ids)}).json()
    assert [p["userId"] for p in body] == ids
    assert body[0]["presenceDefinition"]["systemPresence"] in ("Available", "Offline")
    too_many = api.get("/api/v2/users/presences/purecloud/bulk", params={"id": ",".join([*ids, "extra"])})
    assert too_many.status_code == 400 and "50" in too_many.json()["message"]
    assert api.get("/api/v2/users/presences/purecloud/bulk").status_code == 400


def test_bulk_put_applies_all_or_nothing(api: Api) -> None:
    ids = [a.id for a in api.emulator.org.agents[:3]]
    good = [{"id": i, "presenceDefinition": {"id": BREAK}, "source": "PURECLOUD"} for i in ids]
    response = api.put("/api/v2/users/presences/bulk", json=good)
    assert response.status_code == 200
    assert [p["presenceDefinition"]["id"] for p in response.json()] == [BREAK] * 3
    assert all(p["presenceDefinition"]["systemPresence"] == "Break" for p in response.json())
    bad = [
        {"id": ids[0], "presenceDefinition": {"id": ON_QUEUE}},
        {"id": ids[1], "presenceDefinition": {"id": "x"}},
    ]
    assert api.put("/api/v2/users/presences/bulk", json=bad).status_code == 400
    still = api.get(f"/api/v2/users/{ids[0]}/presences/purecloud").json()
    assert still["presenceDefinition"]["id"] == BREAK
    over = [{"id": ids[0], "presenceDefinition": {"id": BREAK}}] * 51
    assert api.put("/api/v2/users/presences/bulk", json=over).status_code == 400


def test_users_activity_spells_upper_snake(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    api.patch(f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}})
    body = api.post("/api/v2/workforcemanagement/users/activity", json={"userIds": [user, "nobody"]}).json()
    assert [e["id"] for e in body["entities"]] == [user]
    activity = body["entities"][0]
    assert activity["presence"]["presenceDefinition"]["systemPresence"] == "ON_QUEUE"
    assert activity["routingStatus"]["status"] == "IDLE"
    too_many = api.post("/api/v2/workforcemanagement/users/activity", json={"userIds": ["x"] * 101})
    assert too_many.status_code == 400
    assert api.post("/api/v2/workforcemanagement/users/activity", json={}).status_code == 400


def test_users_expand_presence_spells_label(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    api.patch(f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}})
    body = api.get("/api/v2/users", params={"id": user, "expand": "presence"}).json()
    assert body["entities"][0]["presence"]["presenceDefinition"]["systemPresence"] == "On Queue"


def test_control_presence_by_label_or_system_name(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    secondary = next(d for d in api.emulator.org.presence_definitions if d.type == "User")
    api.emulator.control.set_presence(user, secondary.labels["en_US"])
    assert (
        api.get(f"/api/v2/users/{user}/presences/purecloud").json()["presenceDefinition"]["id"]
        == secondary.id
    )
    api.emulator.control.set_presence(user, "ON_QUEUE")
    assert api.get(f"/api/v2/users/{user}/presences/purecloud").json()["presenceDefinition"]["id"] == ON_QUEUE
