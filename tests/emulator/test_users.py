"""Users, search, groups and routing status over real HTTP."""

from __future__ import annotations

from tests.conftest import Api

ON_QUEUE = "e08eaf1b-ee47-4fa9-a231-1200e284798f"
AVAILABLE = "6a3af858-942f-489d-9700-5f9bcdcdae9b"


def test_users_are_paged_with_uris(api: Api) -> None:
    first = api.get("/api/v2/users", params={"pageSize": 20}).json()
    assert first["total"] == 50 and first["pageCount"] == 3 and first["pageNumber"] == 1
    assert len(first["entities"]) == 20 and "previousUri" not in first
    last = api.get(first["lastUri"]).json()
    assert last["pageNumber"] == 3 and len(last["entities"]) == 10 and "nextUri" not in last
    second = api.get(first["nextUri"]).json()
    ids = {u["id"] for page in (first, second, last) for u in page["entities"]}
    assert len(ids) == 50


def test_default_page_size_is_25_and_max_500(api: Api) -> None:
    assert api.get("/api/v2/users").json()["pageSize"] == 25
    response = api.get("/api/v2/users", params={"pageSize": 501})
    assert response.status_code == 400 and response.json()["status"] == 400


def test_users_by_id_with_presence_and_routing_status(api: Api) -> None:
    ids = [a.id for a in api.emulator.org.agents[:3]]
    body = api.get("/api/v2/users", params={"id": ",".join(ids), "expand": "presence,routingStatus"}).json()
    assert [u["id"] for u in body["entities"]] == ids
    user = body["entities"][0]
    assert user["presence"]["presenceDefinition"]["systemPresence"] in ("Available", "Offline")
    assert user["routingStatus"] == {
        "userId": ids[0],
        "status": "OFF_QUEUE",
        "startTime": user["routingStatus"]["startTime"],
    }


def test_get_one_user_and_404(api: Api) -> None:
    agent = api.emulator.org.agents[0]
    user = api.get(f"/api/v2/users/{agent.id}").json()
    assert user["email"] == agent.email and user["name"] == agent.name
    missing = api.get("/api/v2/users/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "not.found"


def test_search_by_exact_email(api: Api) -> None:
    agent = api.emulator.org.agents[7]
    query = {"query": [{"type": "EXACT", "fields": ["email"], "value": agent.email}]}
    body = api.post("/api/v2/users/search", json=query).json()
    assert body["total"] == 1 and body["pageCount"] == 1 and body["pageNumber"] == 1
    assert [u["id"] for u in body["results"]] == [agent.id]
    none = {"query": [{"type": "EXACT", "fields": ["email"], "value": "nobody@example.com"}]}
    assert api.post("/api/v2/users/search", json=none).json()["total"] == 0


def test_search_needs_a_query(api: Api) -> None:
    assert api.post("/api/v2/users/search", json={}).status_code == 400
    bad_json = api.post("/api/v2/users/search", data="{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "bad.request"


def test_groups_and_members(api: Api) -> None:
    groups = api.get("/api/v2/groups").json()
    assert groups["total"] == len(api.emulator.org.groups) > 0
    group = groups["entities"][0]
    members = api.get(f"/api/v2/groups/{group['id']}/members", params={"pageSize": 100}).json()
    expected = [a.id for a in api.emulator.org.agents if group["id"] in a.group_ids]
    assert [u["id"] for u in members["entities"]] == expected
    assert group["memberCount"] == len(expected)
    assert api.get("/api/v2/groups/nope/members").status_code == 404


def test_routing_status_follows_presence(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    api.patch(f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}})
    assert api.get(f"/api/v2/users/{user}/routingstatus").json()["status"] == "IDLE"
    api.emulator.control.start_interaction(user)
    assert api.get(f"/api/v2/users/{user}/routingstatus").json()["status"] == "INTERACTING"
    api.emulator.control.end_interaction(user)
    assert api.get(f"/api/v2/users/{user}/routingstatus").json()["status"] == "IDLE"
    api.patch(f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": AVAILABLE}})
    assert api.get(f"/api/v2/users/{user}/routingstatus").json()["status"] == "OFF_QUEUE"


def test_interaction_started_off_queue_shows_when_going_on_queue(api: Api) -> None:
    user = api.emulator.org.agents[1].id
    api.emulator.control.start_interaction(user)
    assert api.get(f"/api/v2/users/{user}/routingstatus").json()["status"] == "OFF_QUEUE"
    api.patch(f"/api/v2/users/{user}/presences/purecloud", json={"presenceDefinition": {"id": ON_QUEUE}})
    assert api.get(f"/api/v2/users/{user}/routingstatus").json()["status"] == "INTERACTING"


def test_put_routing_status_transitions(api: Api) -> None:
    user = api.emulator.org.agents[2].id
    path = f"/api/v2/users/{user}/routingstatus"
    interacting = api.put(path, json={"status": "INTERACTING"})
    assert interacting.status_code == 400
    on_queue = api.put(path, json={"status": "IDLE"})
    assert on_queue.status_code == 200 and on_queue.json()["status"] == "IDLE"
    presence = api.get(f"/api/v2/users/{user}/presences/purecloud").json()
    assert presence["presenceDefinition"]["id"] == ON_QUEUE
    api.emulator.control.miss_interaction(user)
    assert api.get(path).json()["status"] == "NOT_RESPONDING"
    assert api.put(path, json={"status": "IDLE"}).json()["status"] == "IDLE"
    off = api.put(path, json={"status": "OFF_QUEUE"})
    assert off.json()["status"] == "OFF_QUEUE"
    presence = api.get(f"/api/v2/users/{user}/presences/purecloud").json()
    assert presence["presenceDefinition"]["systemPresence"] == "Available"
    assert api.put(path, json={"status": "SLEEPING"}).status_code == 400


def test_routing_status_of_unknown_user_is_off_queue(api: Api) -> None:
    body = api.get("/api/v2/users/nobody/routingstatus").json()
    assert body["status"] == "OFF_QUEUE"


def test_search_paging_values_must_be_integers(api: Api) -> None:
    query: dict[str, object] = {
        "query": [{"type": "CONTAINS", "fields": ["email"], "value": "@"}],
        "pageSize": "ten",
    }
    assert api.post("/api/v2/users/search", json=query).status_code == 400
    query["pageSize"] = 10
    body = api.post("/api/v2/users/search", json=query).json()
    assert body["total"] == 50 and body["pageCount"] == 5 and len(body["results"]) == 10
