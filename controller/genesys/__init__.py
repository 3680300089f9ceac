"""Genesys Cloud API client: a thin typed layer over `requests` (not the 172 MB official SDK).

Public API (stable): other packages import only the names below, from `controller.genesys`,
and the two public submodules `controller.genesys.errors` and `controller.genesys.streaming`
(tests/genesys/test_public_names.py fails on any other `controller.genesys.<module>` import).

    config = ClientConfig.from_settings(region=..., api_base=..., login_base=..., client_id=...,
                                        client_secret=..., client_id_file=..., client_secret_file=...,
                                        rate_per_minute=..., env=None)
                                        (the CLI's flags: controller.commands.connection)
    client = GenesysClient(config, budget=None,       # None: shared_budget(rate, (api_base, client_id))
                           workers=4, catalog_ttl_seconds=300.0)
    client.stats.snapshot() -> StatsSnapshot          # calls by (method, route, status), retries, latency
    client.stats.add_listener(fn)                     # fn(method, route, status, seconds, retries, 429s)
                                                      # after each call: the daemon's presencectl_api_*
    client.budget.snapshot() -> BudgetSnapshot
    client.set_write_guard(fn)                        # presence/trigger writes sent only while fn()
    client.abandon_reads(); client.close()            # or `with GenesysClient(...) as client:`

The endpoints, by resource (one module each, sharing one transport, budget and thread pool):

  client.users:    list_users(with_groups=False) -> list[Agent]; iter_users(expand) -> Iterator[dict]
             get_user(user_id, with_groups=False) -> Agent; find_user_by_email(email) -> Agent | None
             list_groups() -> list[Group]; group_members(group_id) -> list[Agent]
  client.presence: presence_catalog(refresh=False) -> PresenceCatalog   (cached for catalog_ttl_seconds)
             get_presence(user_id) -> UserPresence
             set_presence(user_id, definition_id, message=None) -> UserPresence
             get_presences(user_ids) -> dict[str, UserPresence]   (bulk, 50 a call, concurrent)
             set_presences(Iterable[PresenceUpdate]) -> BulkWrite  (bulk PUT, 50 a call; .echoes
               matched by userId or position, never by id; .correlation_ids for every user sent)
             get_routing_status(user_id) -> RoutingState; set_routing_status(user_id, RoutingStatus)
             observe(user_ids) -> dict[str, ObservedAgent]         (cheapest bulk read; README;
               users/activity, then GET /users for the users it left out)
             observe_via_activity(user_ids), observe_via_users(user_ids)  (the two strategies)
             activity_batch_size  (users/activity ids a call, halved on each 400, per process)
  client.wfm:      agent_units(user_id) -> AgentUnits | None; business_units() -> list[BusinessUnit]
             management_units(bu_id) -> list[ManagementUnit]; activity_codes(bu_id) -> list[ActivityCode]
             business_unit_users(bu_id, mu_ids=()) -> dict[mu_id, list[user_id]] (one call a BU)
             management_unit_users(mu_id) -> list[user_id]; unit_membership(user_ids) -> dict[str, AgentUnits]
             search_schedules(bu_id, start, end, user_ids=None) -> dict[str, AgentSchedule]
             realtime_adherence(user_ids) -> dict[str, AdherenceRecord]
             historical_adherence(mu_id, start, end, user_ids=None, ...) -> list[HistoricalAdherence]
  client.triggers: list_triggers(topic_names=()) -> list[Trigger]; get_trigger(id)
             create_trigger(TriggerSpec); update_trigger(id, TriggerSpec, version); delete_trigger(id)
  client.notifications: create_channel() -> Channel; channel_exists(id) -> bool; list_channels()
             set_subscriptions(id, topics) (PUT, replaces); add_subscriptions; get_subscriptions;
             delete_subscriptions

Errors (controller.genesys.errors): GenesysError(message, status, code, context_id, method, path)
and BadRequest, Unauthorized, Forbidden, NotFound, Conflict, RateLimited, ServerError,
ConnectionFailed, ScheduleSearchPending; ConfigError for bad settings. str() never contains a
registered secret.

Streaming (controller.genesys.streaming):
    stream = NotificationStream(client.notifications, topics, on_event, ping_seconds=20,
                                silence_seconds=75, resubscribe_seconds=43200, backoff=RECONNECT_BACKOFF)
    stream.start() / stop() / set_topics(topics) / wait_connected(timeout) / is_connected() / channels
    on_event(StreamEvent) on the shard's thread; StreamEvent = PresenceEvent(user_id, presence_id,
    system_presence, modified, message) | RoutingStatusEvent(user_id, status, start_time) |
    ActivityEvent(user_id, presence_id, system_presence, routing_status, modified, routing_start,
    message; .observed -> ObservedAgent) | RawEvent(topic, body) | StreamStatus(kind
    "connected"|"disconnected"|"reconnected", shard, channel_id, reason).
    shard_topics(topics) -> list[list[str]]; parse_event(topic, body) -> StreamEvent.

Notes: observe()/get_presences() omit users the API does not return (unknown ids); search_schedules
also takes force_async=, force_download=, wait_seconds=, notification_id= (the async path's {id}).
"""

from controller.genesys.api import GenesysClient
from controller.genesys.backoff import Backoff
from controller.genesys.budget import BudgetSnapshot, RateBudget, resync_lane, shared_budget
from controller.genesys.calls import chunks
from controller.genesys.config import REGIONS, ClientConfig, ConfigError
from controller.genesys.errors import (
    BadRequest,
    Conflict,
    ConnectionFailed,
    Fenced,
    Forbidden,
    GenesysError,
    NotFound,
    RateLimited,
    ReadsAbandoned,
    ScheduleSearchPending,
    ServerError,
    Superseded,
    Unauthorized,
    WriteAbandoned,
)
from controller.genesys.models import (
    AdherenceRecord,
    AgentUnits,
    BulkWrite,
    BusinessUnit,
    Channel,
    ChannelTopic,
    Group,
    HistoricalAdherence,
    ManagementUnit,
    PresenceUpdate,
    RoutingState,
    Trigger,
    TriggerSpec,
    UserPresence,
)
from controller.genesys.notifications import Notifications
from controller.genesys.presence import BULK_PRESENCE_MAX, Presence, bulk_entry
from controller.genesys.stats import ClientStats, StatsSnapshot
from controller.genesys.triggers import Triggers
from controller.genesys.users import Users
from controller.genesys.wfm import Wfm

__all__ = [
    "BULK_PRESENCE_MAX",
    "REGIONS",
    "AdherenceRecord",
    "AgentUnits",
    "Backoff",
    "BadRequest",
    "BudgetSnapshot",
    "BulkWrite",
    "BusinessUnit",
    "Channel",
    "ChannelTopic",
    "ClientConfig",
    "ClientStats",
    "ConfigError",
    "Conflict",
    "ConnectionFailed",
    "Fenced",
    "Forbidden",
    "GenesysClient",
    "GenesysError",
    "Group",
    "HistoricalAdherence",
    "ManagementUnit",
    "NotFound",
    "Notifications",
    "Presence",
    "PresenceUpdate",
    "RateBudget",
    "RateLimited",
    "ReadsAbandoned",
    "RoutingState",
    "ScheduleSearchPending",
    "ServerError",
    "StatsSnapshot",
    "Superseded",
    "Trigger",
    "TriggerSpec",
    "Triggers",
    "Unauthorized",
    "UserPresence",
    "Users",
    "Wfm",
    "WriteAbandoned",
    "bulk_entry",
    "chunks",
    "resync_lane",
    "shared_budget",
]
