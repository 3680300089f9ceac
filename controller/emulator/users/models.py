"""The directory rules: user search criteria and group membership, over the static org."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.emulator.org import Org, OrgAgent, OrgGroup
from controller.emulator.users.exceptions import GroupNotFound

SEARCH_TYPES = ("EXACT", "CONTAINS", "STARTS_WITH")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of POST /users/search (CONTAINS and STARTS_WITH both match a substring)."""

    type: str
    fields: tuple[str, ...]
    value: str

    @classmethod
    def from_request(cls, criterion: dict[str, Any]) -> Criterion:
        fields = criterion.get("fields") or ([criterion["field"]] if "field" in criterion else [])
        return cls(
            str(criterion.get("type", "EXACT")).upper(), tuple(fields), str(criterion.get("value", ""))
        )

    def matches(self, agent: OrgAgent) -> bool:
        value = self.value.casefold()
        attributes = {"email": agent.email, "name": agent.name, "id": agent.id, "username": agent.email}
        for name in self.fields:
            text = attributes.get(name, "").casefold()
            if (self.type == "EXACT" and text == value) or (
                self.type in ("CONTAINS", "STARTS_WITH") and value in text
            ):
                return True
        return False


def search(org: Org, criteria: list[Criterion]) -> list[OrgAgent]:
    return [a for a in org.agents if all(c.matches(a) for c in criteria)]


def group(org: Org, group_id: str) -> OrgGroup:
    for found in org.groups:
        if found.id == group_id:
            return found
    raise GroupNotFound(group_id)


def members(org: Org, group_id: str) -> list[OrgAgent]:
    return [a for a in org.agents if group_id in a.group_ids]
