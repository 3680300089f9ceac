"""Presence and routing status of users: the catalog, single and bulk reads and writes, and the
cheapest bulk observation of many agents (docs/genesys-api.md#bulk-presence, #users-activity)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from controller.core.domain import ObservedAgent, PresenceCatalog, PresenceDefinition
from controller.core.presence import RoutingStatus
from controller.genesys.calls import ApiCalls, chunks, unique
from controller.genesys.errors import BadRequest, Forbidden, GenesysError, NotFound
from controller.genesys.models import (
    BulkWrite,
    PresenceUpdate,
    RoutingState,
    UserPresence,
    match_bulk_answer,
    observed_from,
    parse_presence_definition,
    parse_routing_state,
    parse_user_presence,
)

log = logging.getLogger(__name__)

# GET …/presences/purecloud/bulk: "Limit 50"; PUT chunked the same (docs/genesys-api.md#bulk-presence)
BULK_PRESENCE_MAX = 50
USERS_BY_ID_MAX = 100  # GET /api/v2/users?id=…
# POST /workforcemanagement/users/activity: first try (no documented cap, docs/genesys-api.md#users-activity)
ACTIVITY_MAX = 100
WFM = "/api/v2/workforcemanagement"


def bulk_entry(update: PresenceUpdate) -> dict[str, Any]:
    """One MutableUserPresence of PUT /users/presences/bulk, with `source` as Genesys's own
    blueprint sends it (docs/genesys-api.md#bulk-presence)."""
    entry: dict[str, Any] = {
        "id": update.user_id,
        "presenceDefinition": {"id": update.definition_id},
        "source": "PURECLOUD",
    }
    if update.message is not None:
        entry["message"] = update.message
    return entry


class Presence:
    def __init__(self, api: ApiCalls, *, catalog_ttl_seconds: float = 300.0) -> None:
        self._api = api
        self._catalog_ttl = catalog_ttl_seconds
        self._catalog: tuple[float, PresenceCatalog] | None = None
        self._catalog_lock = threading.Lock()
        self._activity_unavailable = False  # set once the org answers 404/403 to users/activity
        self._activity_batch = ACTIVITY_MAX  # halved on each 400 of users/activity, kept for the process
        self._activity_lock = threading.Lock()

    def presence_catalog(self, *, refresh: bool = False) -> PresenceCatalog:
        """GET /api/v2/presence/definitions (active and deactivated), cached for the TTL."""
        with self._catalog_lock:
            now = self._api.clock()
            if not refresh and self._catalog is not None and now - self._catalog[0] < self._catalog_ttl:
                return self._catalog[1]
            defs: list[PresenceDefinition] = []
            # The SDK's enum spelling (docs/genesys-api.md#presence-definitions).
            for flag in ("FALSE", "TRUE"):
                body = (
                    self._api.body("GET", "/api/v2/presence/definitions", params={"deactivated": flag}) or {}
                )
                defs.extend(parse_presence_definition(d) for d in body.get("entities") or [])
            catalog = PresenceCatalog(tuple({d.id: d for d in defs}.values()))
            self._catalog = (now, catalog)
            return catalog

    def get_presence(self, user_id: str) -> UserPresence:
        body = self._api.body(
            "GET", "/api/v2/users/{userId}/presences/purecloud", path_params={"userId": user_id}
        )
        return parse_user_presence(body, user_id)

    def set_presence(
        self,
        user_id: str,
        definition_id: str,
        message: str | None = None,
        precondition: Callable[[], None] | None = None,
    ) -> UserPresence:
        """PATCH …/presences/purecloud. Setting an absolute value is safe to repeat, so 5xx retry.
        `precondition`: asked before each attempt (see Transport.request); raises to stop it."""
        body: dict[str, Any] = {"presenceDefinition": {"id": definition_id}}
        if message is not None:
            body["message"] = message
        resp = self._api.call(
            "PATCH",
            "/api/v2/users/{userId}/presences/purecloud",
            path_params={"userId": user_id},
            json=body,
            idempotent=True,
            fenced=True,
            precondition=precondition,
        )
        return replace(parse_user_presence(resp.body, user_id), correlation_id=resp.correlation_id)

    def get_presences(self, user_ids: Iterable[str]) -> dict[str, UserPresence]:
        """Bulk GET in chunks of 50, run concurrently; users the API does not return are absent."""

        def one(batch: Sequence[str]) -> list[UserPresence]:
            body = self._api.body("GET", "/api/v2/users/presences/purecloud/bulk", params={"id": list(batch)})
            return [parse_user_presence(p) for p in body or []]

        out: dict[str, UserPresence] = {}
        for result in self._api.map(one, chunks(unique(user_ids), BULK_PRESENCE_MAX)):
            out.update((p.user_id, p) for p in result)
        return out

    def set_presences(
        self, updates: Iterable[PresenceUpdate], precondition: Callable[[], None] | None = None
    ) -> BulkWrite:
        """Bulk PUT /api/v2/users/presences/bulk in chunks of 50 (the real cap is unconfirmed).
        The answer's `id` is not documented to be the user id (docs/genesys-api.md#bulk-presence),
        so entries are matched by `userId` or by position (match_bulk_answer), never by `id`.
        `precondition`: asked before each attempt of each chunk (see Transport.request)."""
        entries = list({u.user_id: u for u in updates}.values())
        echoes: dict[str, UserPresence] = {}
        correlation_ids: dict[str, str] = {}
        for batch in chunks(entries, BULK_PRESENCE_MAX):
            resp = self._api.call(
                "PUT",
                "/api/v2/users/presences/bulk",
                json=[bulk_entry(u) for u in batch],
                fenced=True,
                precondition=precondition,
            )
            user_ids = [u.user_id for u in batch]
            answer = resp.body if isinstance(resp.body, list) else []
            for user_id, entry in match_bulk_answer(user_ids, answer).items():
                echoes[user_id] = replace(
                    parse_user_presence(entry, user_id), correlation_id=resp.correlation_id
                )
            correlation_ids.update(dict.fromkeys(user_ids, resp.correlation_id))
        return BulkWrite(echoes, correlation_ids)

    def get_routing_status(self, user_id: str) -> RoutingState:
        body = self._api.body("GET", "/api/v2/users/{userId}/routingstatus", path_params={"userId": user_id})
        return parse_routing_state(body, user_id)

    def set_routing_status(self, user_id: str, status: RoutingStatus) -> RoutingState:
        body = self._api.body(
            "PUT",
            "/api/v2/users/{userId}/routingstatus",
            path_params={"userId": user_id},
            json={"userId": user_id, "status": status.value},
            fenced=True,
        )
        return parse_routing_state(body, user_id)

    def observe(self, user_ids: Iterable[str]) -> dict[str, ObservedAgent]:
        """Presence and routing status of many agents at the fewest calls (README "Reading presence
        in bulk"): POST /workforcemanagement/users/activity, 100 users a call. Users it does not
        return (e.g. in no management unit: its answer for them is UNCONFIRMED,
        docs/genesys-api.md#users-activity) are read in the same call through
        GET /users?id=…&expand=presence,routingStatus,outOfOffice. An org where users/activity is
        missing, forbidden or refuses even one id (404/403/400) reads everyone that way, for the
        life of the client. Users neither read returns are absent: "not read", never "no presence"."""
        ids = unique(user_ids)
        if not ids:
            return {}
        out: dict[str, ObservedAgent] = {}
        if not self._activity_unavailable:
            try:
                out = self.observe_via_activity(ids)
            except (NotFound, Forbidden):
                self._activity_unavailable = True
        missing = [i for i in ids if i not in out]
        if not missing:
            return out
        if self._activity_unavailable:
            return out | self.observe_via_users(missing)
        try:  # the rest of the answer stands even if this second read fails
            out.update(self.observe_via_users(missing))
        except GenesysError as error:
            log.warning(
                "agents users/activity left out could not be read via GET /api/v2/users either",
                extra={"agents": len(missing), "error": str(error), "correlation_id": error.context_id},
            )
        return out

    @property
    def activity_batch_size(self) -> int:
        """The users/activity batch size this process has learned (halved on each 400)."""
        return self._activity_batch

    def observe_via_activity(self, user_ids: Iterable[str]) -> dict[str, ObservedAgent]:
        out: dict[str, ObservedAgent] = {}
        for result in self._api.map(self._read_activity, chunks(unique(user_ids), self._activity_batch)):
            out.update((a.user_id, a) for a in result)
        return out

    def _read_activity(self, batch: Sequence[str]) -> list[ObservedAgent]:
        """One users/activity call. A 400 (too many ids: the cap is undocumented) halves the batch
        size for the rest of the process and reads this batch in halves, first half first. A 400
        for a single id means the endpoint refuses what we send: it is given up for the process
        (about 7 calls spent finding out) and these users are left to GET /users, same cost."""
        if self._activity_unavailable:  # given up by a concurrent batch: leave these to GET /users
            return []
        if len(batch) > self._activity_batch:  # another batch learned a smaller size meanwhile
            return [a for part in chunks(batch, self._activity_batch) for a in self._read_activity(part)]
        try:
            body = self._api.body(
                "POST", f"{WFM}/users/activity", json={"userIds": list(batch)}, idempotent=True
            )
        except BadRequest as error:
            if len(batch) == 1:
                log.warning(
                    "users/activity refused a single id; reading presence via GET /api/v2/users",
                    extra={"error": str(error), "correlation_id": error.context_id},
                )
                self._activity_unavailable = True
                return []
            half = (len(batch) + 1) // 2
            with self._activity_lock:
                if half < self._activity_batch:
                    self._activity_batch = half
                    log.warning(
                        "users/activity refused a batch; batch size halved for this process",
                        extra={"refused": len(batch), "batch_size": half, "error": str(error)},
                    )
            return [a for part in chunks(batch, half) for a in self._read_activity(part)]
        return [observed_from(a) for a in (body or {}).get("entities") or []]

    def observe_via_users(self, user_ids: Iterable[str]) -> dict[str, ObservedAgent]:
        def one(batch: Sequence[str]) -> list[ObservedAgent]:
            expand = ["presence", "routingStatus", "outOfOffice"]
            params = {"id": list(batch), "expand": expand, "pageSize": len(batch)}
            body = self._api.body("GET", "/api/v2/users", params=params) or {}
            return [observed_from(u) for u in body.get("entities") or [] if u.get("presence")]

        out: dict[str, ObservedAgent] = {}
        for result in self._api.map(one, chunks(unique(user_ids), USERS_BY_ID_MAX)):
            out.update((a.user_id, a) for a in result)
        return out
