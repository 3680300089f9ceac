"""Process Automation triggers: CRUD, validation, cursor paging, version conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

BASE = "/api/v2/processautomation/triggers"


def _trigger(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "presence-daemon:v2.users.{id}.activity",
        "topicName": "v2.users.{id}.activity",
        "enabled": True,
        "target": {"type": "Workflow", "id": "wf-1", "workflowTargetSettings": {"dataFormat": "Json"}},
        "matchCriteria": [
            {"jsonPath": "routingStatus.status", "operator": "Equal", "value": "NOT_RESPONDING"}
        ],
        "eventTTLSeconds": 60,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_create_get_update_delete(api: Api) -> None:
    created = api.post(BASE, json=_trigger(description="why"))
    assert created.status_code == 200
    trigger = created.json()
    assert trigger["version"] == 1 and trigger["selfUri"] == f"{BASE}/{trigger['id']}"
    assert trigger["target"]["type"] == "Workflow" and trigger["eventTTLSeconds"] == 60
    assert api.get(f"{BASE}/{trigger['id']}").json() == trigger
    updated = api.put(f"{BASE}/{trigger['id']}", json=_trigger(enabled=False, version=1))
    assert updated.status_code == 200
    assert updated.json()["version"] == 2 and updated.json()["enabled"] is False
    assert "description" not in updated.json()
    assert api.delete(f"{BASE}/{trigger['id']}").status_code == 204
    assert api.get(f"{BASE}/{trigger['id']}").status_code == 404
    assert api.delete(f"{BASE}/{trigger['id']}").status_code == 404


def test_version_conflict_is_409(api: Api) -> None:
    trigger = api.post(BASE, json=_trigger()).json()
    api.put(f"{BASE}/{trigger['id']}", json=_trigger(version=1))
    stale = api.put(f"{BASE}/{trigger['id']}", json=_trigger(version=1))
    assert stale.status_code == 409 and stale.json()["status"] == 409
    assert api.put(f"{BASE}/{trigger['id']}", json=_trigger()).status_code == 400  # no version


def test_topic_name_cannot_change(api: Api) -> None:
    trigger = api.post(BASE, json=_trigger()).json()
    response = api.put(
        f"{BASE}/{trigger['id']}", json=_trigger(topicName="v2.users.{id}.presence", version=1)
    )
    assert response.status_code == 400 and "topicName" in response.json()["message"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"topicName": "v2.users.{id}.nonsense"},
        {"topicName": "v2.analytics.queues.{id}.observations"},
        {"target": {"type": "Webhook", "id": "x"}},
        {"target": {"type": "Workflow"}},
        {"enabled": "yes"},
        {"eventTTLSeconds": 9},
        {"eventTTLSeconds": None, "delayBySeconds": 59},
        {"eventTTLSeconds": None, "delayBySeconds": 901},
        {"delayBySeconds": 120},
        {"description": "x" * 513},
        {"matchCriteria": [{"jsonPath": "a", "operator": "Like", "value": 1}]},
    ],
)
def test_validation(api: Api, overrides: dict[str, Any]) -> None:
    body = _trigger()
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    response = api.post(BASE, json=body)
    assert response.status_code == 400, body
    assert response.json()["status"] == 400


def test_delay_by_alone_is_fine_and_names_may_repeat(api: Api) -> None:
    first = api.post(BASE, json=_trigger(eventTTLSeconds=None, delayBySeconds=60))
    second = api.post(BASE, json=_trigger(eventTTLSeconds=None, delayBySeconds=900))
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] != second.json()["id"]


def test_cursor_paging_and_filters(api: Api) -> None:
    ids = [api.post(BASE, json=_trigger(name=f"t{i}")).json()["id"] for i in range(5)]
    api.post(BASE, json=_trigger(name="presence", topicName="v2.users.{id}.presence", enabled=False))
    page = api.get(BASE, params={"pageSize": 2, "topicName": "v2.users.{id}.activity"}).json()
    seen = [t["id"] for t in page["entities"]]
    assert "previousUri" not in page
    while "nextUri" in page:
        page = api.get(page["nextUri"]).json()
        seen += [t["id"] for t in page["entities"]]
    assert seen == ids
    back = api.get(page["previousUri"]).json()
    assert [t["id"] for t in back["entities"]] == ids[2:4]
    disabled = api.get(BASE, params={"enabled": "false"}).json()["entities"]
    assert [t["name"] for t in disabled] == ["presence"]
    both = api.get(BASE, params={"topicName": "v2.users.{id}.activity,v2.users.{id}.presence"}).json()
    assert len(both["entities"]) == 6
    assert api.get(BASE, params={"pageSize": 201}).status_code == 400
