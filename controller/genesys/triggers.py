"""Process automation triggers (docs/genesys-api.md#process-automation-triggers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from controller.genesys.calls import ApiCalls
from controller.genesys.models import Trigger, TriggerSpec, parse_trigger
from controller.genesys.paging import iter_cursor


class Triggers:
    def __init__(self, api: ApiCalls) -> None:
        self._api = api

    def list_triggers(self, topic_names: Sequence[str] = (), *, page_size: int = 200) -> list[Trigger]:
        """Every trigger (cursor paging, all pages), optionally filtered by topic."""

        def fetch(after: str | None) -> Mapping[str, Any]:
            params = {"pageSize": page_size, "after": after, "topicName": list(topic_names) or None}
            body: Mapping[str, Any] = self._api.body(
                "GET", "/api/v2/processautomation/triggers", params=params
            )
            return body

        return [parse_trigger(t) for t in iter_cursor(fetch)]

    def get_trigger(self, trigger_id: str) -> Trigger:
        return parse_trigger(
            self._api.body(
                "GET", "/api/v2/processautomation/triggers/{triggerId}", path_params={"triggerId": trigger_id}
            )
        )

    def create_trigger(self, spec: TriggerSpec) -> Trigger:
        return parse_trigger(
            self._api.body("POST", "/api/v2/processautomation/triggers", json=spec.to_json(), fenced=True)
        )

    def update_trigger(self, trigger_id: str, spec: TriggerSpec, version: int) -> Trigger:
        body = {**spec.to_json(), "version": version}
        return parse_trigger(
            self._api.body(
                "PUT",
                "/api/v2/processautomation/triggers/{triggerId}",
                path_params={"triggerId": trigger_id},
                json=body,
                fenced=True,
            )
        )

    def delete_trigger(self, trigger_id: str) -> None:
        self._api.call(
            "DELETE",
            "/api/v2/processautomation/triggers/{triggerId}",
            path_params={"triggerId": trigger_id},
            fenced=True,
        )
