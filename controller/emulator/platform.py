"""Platform behaviour nobody has confirmed (docs/genesys-api.md#assumptions), one switch each
(org file `platform:`).

The defaults are the documented reading, or the unpleasant one where the doc is silent, so the
client is tested against the platform it may really meet (docs/emulator-org.md, "Platform"):
- `bulkPresenceEcho`: what `PUT /api/v2/users/presences/bulk` answers per entry
  (docs/genesys-api.md#bulk-presence): `presence-id` (default, documented `UserPresence`: `id` is
  the presence object's own id, no `userId`), `user-id` (each entry names its user in `userId`, and
  `id` is the user id too) or `positional` (neither field: only the order, which is the request's,
  tells whose it is).
- `usersActivityMaxIds`: the most ids `POST …/workforcemanagement/users/activity` takes (more:
  400); users in no management unit are never in its answer (docs/genesys-api.md#users-activity).
- `scheduleSearchMaxUsers`: the most `userIds` an agent-schedule search takes (more: 400).
- `scheduleSearchAsyncAboveUsers`: searches for more users answer `Processing`
  (docs/genesys-api.md#schedule-search).
- `scheduleSearchNotifications`: false loses the notification of those searches (which topic and
  `{id}` a client-credentials caller gets is UNCONFIRMED, docs/genesys-api.md#schedule-search).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BULK_ECHOES = ("presence-id", "user-id", "positional")

SCHEMA: dict[str, object] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bulkPresenceEcho": {"enum": list(BULK_ECHOES)},
        "usersActivityMaxIds": {"type": "integer", "minimum": 1},
        "scheduleSearchMaxUsers": {"type": "integer", "minimum": 1},
        "scheduleSearchAsyncAboveUsers": {"type": ["integer", "null"], "minimum": 0},
        "scheduleSearchNotifications": {"type": "boolean"},
    },
}


@dataclass(frozen=True, slots=True)
class PlatformOptions:
    bulk_presence_echo: str = "presence-id"
    users_activity_max_ids: int = 100
    schedule_search_max_users: int = 1000
    schedule_search_async_above_users: int | None = None  # None: only forceAsync answers Processing
    schedule_search_notifications: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlatformOptions:
        """From an org file's `platform` mapping, already checked against SCHEMA."""
        base = cls()
        return cls(
            bulk_presence_echo=data.get("bulkPresenceEcho", base.bulk_presence_echo),
            users_activity_max_ids=data.get("usersActivityMaxIds", base.users_activity_max_ids),
            schedule_search_max_users=data.get("scheduleSearchMaxUsers", base.schedule_search_max_users),
            schedule_search_async_above_users=data.get(
                "scheduleSearchAsyncAboveUsers", base.schedule_search_async_above_users
            ),
            schedule_search_notifications=data.get(
                "scheduleSearchNotifications", base.schedule_search_notifications
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "bulkPresenceEcho": self.bulk_presence_echo,
            "usersActivityMaxIds": self.users_activity_max_ids,
            "scheduleSearchMaxUsers": self.schedule_search_max_users,
            "scheduleSearchAsyncAboveUsers": self.schedule_search_async_above_users,
            "scheduleSearchNotifications": self.schedule_search_notifications,
        }
