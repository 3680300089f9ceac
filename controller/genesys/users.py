"""Users and groups: the org's directory (docs/genesys-api.md#users-and-groups)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from controller.core.domain import Agent
from controller.genesys.calls import ApiCalls
from controller.genesys.models import Group, parse_agent
from controller.genesys.paging import iter_page_numbers

USERS_PAGE_SIZE = 500


class Users:
    def __init__(self, api: ApiCalls) -> None:
        self._api = api

    def iter_users(
        self, expand: Sequence[str] = (), page_size: int = USERS_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every user of the org, raw JSON, page after page (no cap)."""

        def fetch(page: int, size: int) -> Mapping[str, Any]:
            params = {"pageSize": size, "pageNumber": page, "expand": list(expand) or None}
            body: Mapping[str, Any] = self._api.body("GET", "/api/v2/users", params=params)
            return body

        return iter_page_numbers(fetch, page_size)

    def list_users(self, *, with_groups: bool = False) -> list[Agent]:
        return [parse_agent(u) for u in self.iter_users(["groups"] if with_groups else [])]

    def get_user(self, user_id: str, *, with_groups: bool = False) -> Agent:
        params = {"expand": "groups"} if with_groups else None
        return parse_agent(
            self._api.body("GET", "/api/v2/users/{userId}", path_params={"userId": user_id}, params=params)
        )

    def find_user_by_email(self, email: str) -> Agent | None:
        """POST /api/v2/users/search with an EXACT email criterion; None when nobody matches."""
        body = {
            "query": [{"type": "EXACT", "fields": ["email"], "value": email}],
            "pageSize": 25,
            "pageNumber": 1,
            "expand": ["groups"],
        }
        found = self._api.body("POST", "/api/v2/users/search", json=body, idempotent=True) or {}
        results = [
            r for r in found.get("results") or [] if str(r.get("email", "")).casefold() == email.casefold()
        ]
        return parse_agent(results[0]) if results else None

    def list_groups(self) -> list[Group]:
        def fetch(page: int, size: int) -> Mapping[str, Any]:
            body: Mapping[str, Any] = self._api.body(
                "GET", "/api/v2/groups", params={"pageSize": size, "pageNumber": page}
            )
            return body

        return [
            Group(str(g["id"]), str(g.get("name") or ""), int(g.get("memberCount") or 0))
            for g in iter_page_numbers(fetch, 100)
        ]

    def group_members(self, group_id: str) -> list[Agent]:
        def fetch(page: int, size: int) -> Mapping[str, Any]:
            body: Mapping[str, Any] = self._api.body(
                "GET",
                "/api/v2/groups/{groupId}/members",
                path_params={"groupId": group_id},
                params={"pageSize": size, "pageNumber": page},
            )
            return body

        return [parse_agent(u) for u in iter_page_numbers(fetch, 100)]
