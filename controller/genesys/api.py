"""GenesysClient: typed endpoint methods over the Transport (docs/genesys-api.md for every shape).

Reads return controller.core.domain values or the small dataclasses of controller.genesys.models.
Batch reads are chunked to the documented limits and run on a small thread pool; every request
still passes the one shared rate budget, so concurrency shortens latency without raising the rate.
"""

from __future__ import annotations

import argparse
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, cast

import requests
from prometheus_client import CollectorRegistry

from controller.core.domain import (
    ActivityCode,
    Agent,
    AgentSchedule,
    ObservedAgent,
    PresenceCatalog,
    PresenceDefinition,
)
from controller.core.presence import RoutingStatus
from controller.genesys.backoff import DEFAULT_BACKOFF, Backoff
from controller.genesys.budget import RateBudget, shared_budget
from controller.genesys.config import ClientConfig
from controller.genesys.errors import BadRequest, Forbidden, GenesysError, NotFound
from controller.genesys.models import (
    AdherenceRecord,
    AgentUnits,
    BusinessUnit,
    Channel,
    ChannelTopic,
    HistoricalAdherence,
    ManagementUnit,
    RoutingState,
    Trigger,
    TriggerSpec,
    UserPresence,
    format_time,
    match_bulk_answer,
    observed_from,
    parse_activity_code,
    parse_adherence,
    parse_agent,
    parse_channel,
    parse_channel_topics,
    parse_historical_adherence,
    parse_presence_definition,
    parse_routing_state,
    parse_schedule_result,
    parse_trigger,
    parse_user_presence,
)
from controller.genesys.paging import iter_cursor, iter_page_numbers
from controller.genesys.stats import ClientStats
from controller.genesys.transport import ApiResponse, Transport

T = TypeVar("T")
log = logging.getLogger(__name__)

# GET …/presences/purecloud/bulk: "Limit 50"; PUT chunked the same (docs/genesys-api.md#bulk-presence)
BULK_PRESENCE_MAX = 50
USERS_BY_ID_MAX = 100  # GET /api/v2/users?id=…
# POST /workforcemanagement/users/activity: first try (no documented cap, docs/genesys-api.md#users-activity)
ACTIVITY_MAX = 100
ADHERENCE_MAX = 100  # GET /workforcemanagement/adherence: "Max of 100 userIds per request"
USERS_PAGE_SIZE = 500
WFM = "/api/v2/workforcemanagement"
_CHECK_SECONDS = 0.25  # long waits look this often whether reads were abandoned (shutdown)


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@dataclass(frozen=True, slots=True)
class PresenceUpdate:
    """One entry of a bulk presence write."""

    user_id: str
    definition_id: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class BulkWrite:
    """What bulk presence writes answered. `echoes`: the answer entry matched to each user (by
    `userId`, else by position; docs/genesys-api.md#bulk-presence), users whose entry could not be
    matched are absent and must be confirmed by reading back. `correlation_ids`: every user sent ->
    its request's id."""

    echoes: dict[str, UserPresence]
    correlation_ids: dict[str, str]


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


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    member_count: int = 0


class ScheduleSearchPending(GenesysError):
    """The schedule search answered Processing and no notification arrived within the wait."""


class GenesysClient:
    def __init__(
        self,
        config: ClientConfig,
        *,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        registry: CollectorRegistry | None = None,
        stats: ClientStats | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        workers: int = 4,
        catalog_ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.budget = (
            budget
            if budget is not None
            else shared_budget(config.rate_per_minute, (config.api_base, config.client_id))
        )
        self.stats = stats if stats is not None else ClientStats(registry)
        self.transport = Transport(
            config,
            budget=self.budget,
            session=session,
            stats=self.stats,
            backoff=backoff,
            sleep=sleep,
            clock=clock,
        )
        self._clock = clock
        self._sleep = sleep
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._catalog_ttl = catalog_ttl_seconds
        self._catalog: tuple[float, PresenceCatalog] | None = None
        self._catalog_lock = threading.Lock()
        self._activity_unavailable = False  # set once the org answers 404/403 to users/activity
        self._activity_batch = ACTIVITY_MAX  # halved on each 400 of users/activity, kept for the process
        self._activity_lock = threading.Lock()

    @classmethod
    def from_args(cls, args: argparse.Namespace, **kwargs: Any) -> GenesysClient:
        return cls(ClientConfig.from_args(args), **kwargs)

    # ---- plumbing -----------------------------------------------------------------------------

    def _call(self, method: str, route: str, **kw: Any) -> ApiResponse:
        return self.transport.request(method, route, **kw)

    def _body(self, method: str, route: str, **kw: Any) -> Any:
        return self.transport.request(method, route, **kw).body

    def _map(self, fn: Callable[[Sequence[str]], T], batches: list[Sequence[str]]) -> list[T]:
        """Run `fn` over the batches on the pool (one batch runs inline), results in order."""
        if len(batches) <= 1 or self._workers == 1:
            return [fn(b) for b in batches]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="genesys")
        # Each batch runs in a copy of the caller's context: its budget lane follows it.
        contexts = [contextvars.copy_context() for _ in batches]
        return list(self._pool.map(lambda cb: cb[0].run(fn, cb[1]), zip(contexts, batches, strict=True)))

    def abandon_reads(self) -> None:
        """Shutdown: reads in progress or to come raise ReadsAbandoned at once; writes finish."""
        self.transport.abandon_reads()

    def close(self) -> None:
        if self._pool is not None:
            # After abandon_reads a batch still on the wire is not worth waiting for.
            abandoned = self.transport.reads_abandoned.is_set()
            self._pool.shutdown(wait=not abandoned, cancel_futures=abandoned)
        self.transport.close()

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- users --------------------------------------------------------------------------------

    def iter_users(
        self, expand: Sequence[str] = (), page_size: int = USERS_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every user of the org, raw JSON, page after page (no cap)."""

        def fetch(page: int, size: int) -> Mapping[str, Any]:
            params = {"pageSize": size, "pageNumber": page, "expand": list(expand) or None}
            body: Mapping[str, Any] = self._body("GET", "/api/v2/users", params=params)
            return body

        return iter_page_numbers(fetch, page_size)

    def list_users(self, *, with_groups: bool = False) -> list[Agent]:
        return [parse_agent(u) for u in self.iter_users(["groups"] if with_groups else [])]

    def get_user(self, user_id: str, *, with_groups: bool = False) -> Agent:
        params = {"expand": "groups"} if with_groups else None
        return parse_agent(
            self._body("GET", "/api/v2/users/{userId}", path_params={"userId": user_id}, params=params)
        )

    def find_user_by_email(self, email: str) -> Agent | None:
        """POST /api/v2/users/search with an EXACT email criterion; None when nobody matches."""
        body = {
            "query": [{"type": "EXACT", "fields": ["email"], "value": email}],
            "pageSize": 25,
            "pageNumber": 1,
            "expand": ["groups"],
        }
        found = self._body("POST", "/api/v2/users/search", json=body, idempotent=True) or {}
        results = [
            r for r in found.get("results") or [] if str(r.get("email", "")).casefold() == email.casefold()
        ]
        return parse_agent(results[0]) if results else None

    def list_groups(self) -> list[Group]:
        def fetch(page: int, size: int) -> Mapping[str, Any]:
            body: Mapping[str, Any] = self._body(
                "GET", "/api/v2/groups", params={"pageSize": size, "pageNumber": page}
            )
            return body

        return [
            Group(str(g["id"]), str(g.get("name") or ""), int(g.get("memberCount") or 0))
            for g in iter_page_numbers(fetch, 100)
        ]

    def group_members(self, group_id: str) -> list[Agent]:
        def fetch(page: int, size: int) -> Mapping[str, Any]:
            body: Mapping[str, Any] = self._body(
                "GET",
                "/api/v2/groups/{groupId}/members",
                path_params={"groupId": group_id},
                params={"pageSize": size, "pageNumber": page},
            )
            return body

        return [parse_agent(u) for u in iter_page_numbers(fetch, 100)]

    # ---- presence -----------------------------------------------------------------------------

    def presence_catalog(self, *, refresh: bool = False) -> PresenceCatalog:
        """GET /api/v2/presence/definitions (active and deactivated), cached for the TTL."""
        with self._catalog_lock:
            now = self._clock()
            if not refresh and self._catalog is not None and now - self._catalog[0] < self._catalog_ttl:
                return self._catalog[1]
            defs: list[PresenceDefinition] = []
            # The SDK's enum spelling (docs/genesys-api.md#presence-definitions).
            for flag in ("FALSE", "TRUE"):
                body = self._body("GET", "/api/v2/presence/definitions", params={"deactivated": flag}) or {}
                defs.extend(parse_presence_definition(d) for d in body.get("entities") or [])
            catalog = PresenceCatalog(tuple({d.id: d for d in defs}.values()))
            self._catalog = (now, catalog)
            return catalog

    def get_presence(self, user_id: str) -> UserPresence:
        body = self._body(
            "GET", "/api/v2/users/{userId}/presences/purecloud", path_params={"userId": user_id}
        )
        return parse_user_presence(body, user_id)

    def set_presence(self, user_id: str, definition_id: str, message: str | None = None) -> UserPresence:
        """PATCH …/presences/purecloud. Setting an absolute value is safe to repeat, so 5xx retry."""
        body: dict[str, Any] = {"presenceDefinition": {"id": definition_id}}
        if message is not None:
            body["message"] = message
        resp = self._call(
            "PATCH",
            "/api/v2/users/{userId}/presences/purecloud",
            path_params={"userId": user_id},
            json=body,
            idempotent=True,
        )
        return replace(parse_user_presence(resp.body, user_id), correlation_id=resp.correlation_id)

    def get_presences(self, user_ids: Iterable[str]) -> dict[str, UserPresence]:
        """Bulk GET in chunks of 50, run concurrently; users the API does not return are absent."""

        def one(batch: Sequence[str]) -> list[UserPresence]:
            body = self._body("GET", "/api/v2/users/presences/purecloud/bulk", params={"id": list(batch)})
            return [parse_user_presence(p) for p in body or []]

        out: dict[str, UserPresence] = {}
        for result in self._map(one, chunks(_unique(user_ids), BULK_PRESENCE_MAX)):
            out.update((p.user_id, p) for p in result)
        return out

    def set_presences(self, updates: Iterable[PresenceUpdate]) -> BulkWrite:
        """Bulk PUT /api/v2/users/presences/bulk in chunks of 50 (the real cap is unconfirmed).
        The answer's `id` is not documented to be the user id (docs/genesys-api.md#bulk-presence),
        so entries are matched by `userId` or by position (match_bulk_answer), never by `id`."""
        entries = list({u.user_id: u for u in updates}.values())
        echoes: dict[str, UserPresence] = {}
        correlation_ids: dict[str, str] = {}
        for batch in chunks(entries, BULK_PRESENCE_MAX):
            resp = self._call("PUT", "/api/v2/users/presences/bulk", json=[bulk_entry(u) for u in batch])
            user_ids = [u.user_id for u in batch]
            answer = resp.body if isinstance(resp.body, list) else []
            for user_id, entry in match_bulk_answer(user_ids, answer).items():
                echoes[user_id] = replace(
                    parse_user_presence(entry, user_id), correlation_id=resp.correlation_id
                )
            correlation_ids.update(dict.fromkeys(user_ids, resp.correlation_id))
        return BulkWrite(echoes, correlation_ids)

    def get_routing_status(self, user_id: str) -> RoutingState:
        body = self._body("GET", "/api/v2/users/{userId}/routingstatus", path_params={"userId": user_id})
        return parse_routing_state(body, user_id)

    def set_routing_status(self, user_id: str, status: RoutingStatus) -> RoutingState:
        body = self._body(
            "PUT",
            "/api/v2/users/{userId}/routingstatus",
            path_params={"userId": user_id},
            json={"userId": user_id, "status": status.value},
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
        ids = _unique(user_ids)
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
        for result in self._map(self._read_activity, chunks(_unique(user_ids), self._activity_batch)):
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
            body = self._body("POST", f"{WFM}/users/activity", json={"userIds": list(batch)}, idempotent=True)
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
            body = self._body("GET", "/api/v2/users", params=params) or {}
            return [observed_from(u) for u in body.get("entities") or [] if u.get("presence")]

        out: dict[str, ObservedAgent] = {}
        for result in self._map(one, chunks(_unique(user_ids), USERS_BY_ID_MAX)):
            out.update((a.user_id, a) for a in result)
        return out

    # ---- WFM ----------------------------------------------------------------------------------

    def agent_units(self, user_id: str) -> AgentUnits | None:
        """The agent's management unit and business unit; None when the agent is in no MU."""
        try:
            body = self._body(
                "GET", f"{WFM}/agents/{{agentId}}/managementunit", path_params={"agentId": user_id}
            )
        except NotFound:
            return None
        if not body or not body.get("managementUnit"):
            return None
        return AgentUnits(
            user_id=user_id,
            management_unit_id=str(body["managementUnit"]["id"]),
            business_unit_id=str((body.get("businessUnit") or {}).get("id") or ""),
        )

    def business_units(self) -> list[BusinessUnit]:
        body = self._body("GET", f"{WFM}/businessunits") or {}
        return [BusinessUnit(str(b["id"]), str(b.get("name") or "")) for b in body.get("entities") or []]

    def management_units(self, business_unit_id: str) -> list[ManagementUnit]:
        body = (
            self._body(
                "GET",
                f"{WFM}/businessunits/{{businessUnitId}}/managementunits",
                path_params={"businessUnitId": business_unit_id},
            )
            or {}
        )
        return [
            ManagementUnit(str(m["id"]), str(m.get("name") or ""), business_unit_id)
            for m in body.get("entities") or []
        ]

    def business_unit_users(
        self, business_unit_id: str, management_unit_ids: Sequence[str] = ()
    ) -> dict[str, list[str]]:
        """GET …/businessunits/{buId}/users (BuUserListing): management unit id -> the ids of its
        users, every MU of the BU in one call (`management_unit_ids` narrows it)
        (docs/genesys-api.md#wfm-units-and-membership)."""
        body = (
            self._body(
                "GET",
                f"{WFM}/businessunits/{{businessUnitId}}/users",
                path_params={"businessUnitId": business_unit_id},
                params={"managementUnitIds": list(management_unit_ids) or None},
            )
            or {}
        )
        return {
            str(entry["managementUnit"]["id"]): [str(u["id"]) for u in entry.get("users") or []]
            for entry in body.get("managementUnits") or []
            if (entry.get("managementUnit") or {}).get("id")
        }

    def management_unit_users(self, management_unit_id: str) -> list[str]:
        """GET …/managementunits/{muId}/users (WfmUserEntityListing): its users' ids
        (docs/genesys-api.md#wfm-units-and-membership)."""
        body = (
            self._body(
                "GET",
                f"{WFM}/managementunits/{{managementUnitId}}/users",
                path_params={"managementUnitId": management_unit_id},
            )
            or {}
        )
        return [str(u["id"]) for u in body.get("entities") or []]

    def unit_membership(self, user_ids: Iterable[str]) -> dict[str, AgentUnits]:
        """Management and business unit of every WFM agent among `user_ids`, at one call per
        business unit (docs/genesys-api.md#wfm-units-and-membership) instead of one real-time
        adherence call per 100 agents. A BU whose users listing is refused (404/403: it is new in
        SDK 269) is read MU by MU; an org refusing that too is read from real-time adherence (100
        agents a call, the old way)."""
        wanted = set(user_ids)
        out: dict[str, AgentUnits] = {}
        try:
            for bu in self.business_units():
                try:
                    members = self.business_unit_users(bu.id)
                except (NotFound, Forbidden):
                    units = self.management_units(bu.id)
                    members = {mu.id: self.management_unit_users(mu.id) for mu in units}
                for mu_id, users in members.items():
                    out.update((u, AgentUnits(u, mu_id, bu.id)) for u in users if u in wanted)
        except (NotFound, Forbidden) as error:
            log.warning(
                "WFM user listings refused; reading unit membership from real-time adherence",
                extra={"error": str(error)},
            )
            return self._membership_from_adherence(wanted)
        return out

    def _membership_from_adherence(self, user_ids: Collection[str]) -> dict[str, AgentUnits]:
        bu_of_mu = {mu.id: bu.id for bu in self.business_units() for mu in self.management_units(bu.id)}
        return {
            uid: AgentUnits(uid, r.management_unit_id, bu_of_mu[r.management_unit_id])
            for uid, r in self.realtime_adherence(user_ids).items()
            if r.management_unit_id in bu_of_mu
        }

    def activity_codes(self, business_unit_id: str, *, force_download: bool = False) -> list[ActivityCode]:
        """Inline entities, or the downloadUrl's document when the listing is too large."""
        body = (
            self._body(
                "GET",
                f"{WFM}/businessunits/{{businessUnitId}}/activitycodes",
                path_params={"businessUnitId": business_unit_id},
                params={"forceDownloadService": True} if force_download else None,
            )
            or {}
        )
        if body.get("downloadUrl"):
            body = self.download(str(body["downloadUrl"]))
        return [parse_activity_code(c) for c in body.get("entities") or []]

    def download(self, url: str) -> Any:
        """GET a downloadUrl (a result too large to inline); bearer + budget only on the API host."""
        return self.transport.request("GET", "downloadUrl", url=url).body

    def search_schedules(
        self,
        business_unit_id: str,
        start: datetime,
        end: datetime,
        user_ids: Sequence[str] | None = None,
        *,
        wait_seconds: float = 60.0,
        force_async: bool = False,
        force_download: bool = False,
        notification_id: str | None = None,
    ) -> dict[str, AgentSchedule]:
        """POST …/businessunits/{buId}/agentschedules/search -> published schedule per user.

        The answer is "maybe async" (docs/genesys-api.md#schedule-search): an inline `result`, a
        `downloadUrl`, or `Processing` with an operationId whose result arrives only by notification on
        `v2.workforcemanagement.users.{id}.schedules.search`. There is no polling endpoint, and a
        subscription made after the answer may miss the event, so on Processing the client opens a
        channel on that topic first and then searches again, waiting at most `wait_seconds` for the
        event of the new operation. `{id}` for a client-credentials caller is UNCONFIRMED
        (docs/genesys-api.md#assumptions): `notification_id` defaults to the OAuth client id, as
        the emulator publishes it.
        """
        body: dict[str, Any] = {"startDate": format_time(start), "endDate": format_time(end)}
        if user_ids is not None:
            body["userIds"] = list(user_ids)

        def search() -> Mapping[str, Any]:
            answer: Mapping[str, Any] = (
                self._body(
                    "POST",
                    f"{WFM}/businessunits/{{businessUnitId}}/agentschedules/search",
                    path_params={"businessUnitId": business_unit_id},
                    params={
                        "forceAsync": force_async or None,
                        "forceDownloadService": force_download or None,
                    },
                    json=body,
                    idempotent=True,
                )
                or {}
            )
            return answer

        answer = search()
        if str(answer.get("status")) == "Processing" and not answer.get("result"):
            topic = (
                f"v2.workforcemanagement.users.{notification_id or self.config.client_id}.schedules.search"
            )
            answer = self._await_notification(topic, search, wait_seconds)
        return self._schedule_answer(answer)

    def _await_notification(
        self, topic: str, start: Callable[[], Mapping[str, Any]], wait_seconds: float
    ) -> Mapping[str, Any]:
        """Subscribe to `topic`, call `start()`; if it answers Processing, return the eventBody
        whose operationId matches, within `wait_seconds`."""
        from controller.genesys.streaming import NotificationStream, RawEvent, StreamEvent

        events: queue.Queue[StreamEvent] = queue.Queue()
        deadline = self._clock() + wait_seconds
        with NotificationStream(self, [topic], events.put) as stream:
            while not stream.wait_connected(min(_CHECK_SECONDS, max(0.0, deadline - self._clock()))):
                self.transport.check_reads(" (schedule search)")
                if self._clock() >= deadline:
                    raise ScheduleSearchPending(f"could not subscribe to {topic} within {wait_seconds:.0f}s")
            answer = start()
            if str(answer.get("status")) != "Processing" or answer.get("result"):
                return answer
            operation = str(answer.get("operationId") or "")
            while (remaining := deadline - self._clock()) > 0:
                self.transport.check_reads(" (schedule search)")
                try:  # in short steps, so a shutdown does not wait for the event
                    event = events.get(timeout=min(remaining, _CHECK_SECONDS))
                except queue.Empty:
                    continue
                if (
                    isinstance(event, RawEvent)
                    and event.topic == topic
                    and isinstance(event.body, Mapping)
                    and str(event.body.get("operationId")) == operation
                ):
                    return cast(Mapping[str, Any], event.body)
        raise ScheduleSearchPending(
            f"schedule search {operation} still Processing after {wait_seconds:.0f}s (no event on {topic})",
            code="timeout",
        )

    def _schedule_answer(self, answer: Mapping[str, Any]) -> dict[str, AgentSchedule]:
        if answer.get("result"):
            return parse_schedule_result(answer["result"])
        if answer.get("downloadUrl"):
            return parse_schedule_result(_unwrap_result(self.download(str(answer["downloadUrl"]))))
        raise GenesysError(
            f"schedule search answered {answer.get('status') or 'without a result'}", code="no.result"
        )

    def realtime_adherence(self, user_ids: Iterable[str]) -> dict[str, AdherenceRecord]:
        """GET /workforcemanagement/adherence?userId=…, 100 ids a call."""

        def one(batch: Sequence[str]) -> list[AdherenceRecord]:
            body = self._body("GET", f"{WFM}/adherence", params={"userId": list(batch)})
            return [parse_adherence(r) for r in body or []]

        out: dict[str, AdherenceRecord] = {}
        for result in self._map(one, chunks(_unique(user_ids), ADHERENCE_MAX)):
            out.update((r.user_id, r) for r in result)
        return out

    def historical_adherence(
        self,
        management_unit_id: str,
        start: datetime,
        end: datetime,
        user_ids: Sequence[str] | None = None,
        *,
        time_zone: str = "UTC",
        include_exceptions: bool = True,
        wait_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> list[HistoricalAdherence]:
        """Start the MU historical adherence query, poll its job until Complete, download the rows."""
        body: dict[str, Any] = {
            "startDate": format_time(start),
            "endDate": format_time(end),
            "timeZone": time_zone,
            "includeExceptions": include_exceptions,
        }
        if user_ids is not None:
            body["userIds"] = list(user_ids)
        job = (
            self._body(
                "POST",
                f"{WFM}/managementunits/{{managementUnitId}}/historicaladherencequery",
                path_params={"managementUnitId": management_unit_id},
                json=body,
            )
            or {}
        )
        deadline = self._clock() + wait_seconds
        while str(job.get("queryState")) == "Processing":
            if self._clock() >= deadline:
                raise GenesysError(
                    f"historical adherence query {job.get('id')} still Processing after {wait_seconds:.0f}s",
                    code="timeout",
                )
            self._sleep(poll_seconds)
            job = (
                self._body(
                    "GET", f"{WFM}/adherence/historical/jobs/{{jobId}}", path_params={"jobId": str(job["id"])}
                )
                or {}
            )
        if str(job.get("queryState")) != "Complete":
            raise GenesysError(f"historical adherence query {job.get('id')} ended {job.get('queryState')}")
        urls = list(job.get("downloadUrls") or ([job["downloadUrl"]] if job.get("downloadUrl") else []))
        rows: list[HistoricalAdherence] = []
        if job.get("downloadResult"):
            rows.extend(parse_historical_adherence(job["downloadResult"]))
        for url in urls:
            rows.extend(parse_historical_adherence(self.download(str(url))))
        return rows

    # ---- process automation triggers ----------------------------------------------------------

    def list_triggers(self, topic_names: Sequence[str] = (), *, page_size: int = 200) -> list[Trigger]:
        """Every trigger (cursor paging, all pages), optionally filtered by topic."""

        def fetch(after: str | None) -> Mapping[str, Any]:
            params = {"pageSize": page_size, "after": after, "topicName": list(topic_names) or None}
            body: Mapping[str, Any] = self._body("GET", "/api/v2/processautomation/triggers", params=params)
            return body

        return [parse_trigger(t) for t in iter_cursor(fetch)]

    def get_trigger(self, trigger_id: str) -> Trigger:
        return parse_trigger(
            self._body(
                "GET", "/api/v2/processautomation/triggers/{triggerId}", path_params={"triggerId": trigger_id}
            )
        )

    def create_trigger(self, spec: TriggerSpec) -> Trigger:
        return parse_trigger(self._body("POST", "/api/v2/processautomation/triggers", json=spec.to_json()))

    def update_trigger(self, trigger_id: str, spec: TriggerSpec, version: int) -> Trigger:
        body = {**spec.to_json(), "version": version}
        return parse_trigger(
            self._body(
                "PUT",
                "/api/v2/processautomation/triggers/{triggerId}",
                path_params={"triggerId": trigger_id},
                json=body,
            )
        )

    def delete_trigger(self, trigger_id: str) -> None:
        self._call(
            "DELETE", "/api/v2/processautomation/triggers/{triggerId}", path_params={"triggerId": trigger_id}
        )

    # ---- notifications ------------------------------------------------------------------------

    def create_channel(self) -> Channel:
        return parse_channel(self._body("POST", "/api/v2/notifications/channels"))

    def channel_exists(self, channel_id: str) -> bool:
        try:
            self._call(
                "HEAD", "/api/v2/notifications/channels/{channelId}", path_params={"channelId": channel_id}
            )
        except NotFound:
            return False
        return True

    def list_channels(self) -> list[Channel]:
        body = self._body("GET", "/api/v2/notifications/channels") or {}
        return [parse_channel(c) for c in body.get("entities") or []]

    def set_subscriptions(
        self, channel_id: str, topics: Sequence[str], *, ignore_errors: bool = True
    ) -> list[ChannelTopic]:
        """PUT: replace the channel's subscriptions with exactly `topics` (idempotent).

        With `ignore_errors` the platform subscribes what it permits and answers each topic's
        `state` (Permitted|Rejected, with `missingPermissions`); without it one refused topic
        fails the whole request (docs/genesys-api.md#topic-rejection)."""
        body = self._body(
            "PUT",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
            params={"ignoreErrors": ignore_errors},
            json=[{"id": t} for t in topics],
        )
        return parse_channel_topics(body)

    def add_subscriptions(self, channel_id: str, topics: Sequence[str]) -> list[ChannelTopic]:
        body = self._body(
            "POST",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
            json=[{"id": t} for t in topics],
        )
        return parse_channel_topics(body)

    def get_subscriptions(self, channel_id: str) -> list[ChannelTopic]:
        body = self._body(
            "GET",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
        )
        return parse_channel_topics(body)

    def delete_subscriptions(self, channel_id: str) -> None:
        self._call(
            "DELETE",
            "/api/v2/notifications/channels/{channelId}/subscriptions",
            path_params={"channelId": channel_id},
        )


def _unwrap_result(document: Any) -> Mapping[str, Any]:
    """A schedule download is the BuAgentSchedulesSearchResponse, possibly wrapped in {result}."""
    if isinstance(document, Mapping) and isinstance(document.get("result"), Mapping):
        inner: Mapping[str, Any] = document["result"]
        return inner
    return document if isinstance(document, Mapping) else {}
