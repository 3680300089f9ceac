"""Typed desired-state kinds: what operators commit in `desired/`, after loading.

The loader builds these from YAML (validated by `schemas/`); the timeline and planner read them.
Presence names are kept as written (`PresenceTarget.name`) together with where they were
written, and resolved against the live presence catalog by `resolve_presences` before use.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from enum import StrEnum
from types import MappingProxyType

from controller.core.domain import ActivityCategory, Agent


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a value was written: file path, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = SourceLocation("<built-in>", 0, 0)


@dataclass(frozen=True, slots=True)
class PresenceTarget:
    """A presence as the operator named it ("On Queue", "Lunch"), plus its resolved definition id."""

    name: str
    location: SourceLocation = NOWHERE
    definition_id: str | None = None  # set by resolve_presences; the planner requires it


class Mode(StrEnum):
    ENFORCE = "enforce"  # plan and write
    OBSERVE = "observe"  # plan and record, never write


@dataclass(frozen=True, slots=True)
class AgentSelector:
    """Which agents a policy manages: the union of the listed ids, emails, group and MU ids."""

    user_ids: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()  # compared case-insensitively
    groups: frozenset[str] = frozenset()  # group ids
    management_units: frozenset[str] = frozenset()  # management unit ids

    def matches(self, agent: Agent) -> bool:
        return (
            agent.id in self.user_ids
            or agent.email.casefold() in self.emails
            or not self.groups.isdisjoint(agent.groups)
            or (agent.management_unit_id is not None and agent.management_unit_id in self.management_units)
        )


# Default activity category → presence when following the WFM schedule (docs/genesys-api.md#activity-codes).
# Unavailable has no natural presence: the policy leaves the agent alone unless it maps it.
DEFAULT_CATEGORY_PRESENCE: Mapping[ActivityCategory, str] = MappingProxyType(
    {
        ActivityCategory.ON_QUEUE_WORK: "On Queue",
        ActivityCategory.BREAK: "Break",
        ActivityCategory.MEAL: "Meal",
        ActivityCategory.MEETING: "Meeting",
        ActivityCategory.TRAINING: "Training",
        ActivityCategory.OFF_QUEUE_WORK: "Busy",
        ActivityCategory.TIME_OFF: "Offline",
    }
)


@dataclass(frozen=True, slots=True)
class ScheduleFollowing:
    """Desired presence taken from the agent's published WFM schedule.

    Precedence for a scheduled activity: `activity_codes` (by code id or name) → the code's own
    secondary presence (when `use_secondary_presence`) → `categories` → DEFAULT_CATEGORY_PRESENCE.
    """

    categories: Mapping[ActivityCategory, PresenceTarget] = field(default_factory=dict)
    activity_codes: Mapping[str, PresenceTarget] = field(default_factory=dict)
    use_secondary_presence: bool = True
    off_shift: PresenceTarget | None = None  # None: no opinion outside shifts
    time_off: PresenceTarget | None = None  # full-day time off; None: no opinion


class Weekday(StrEnum):
    MON = "Mon"
    TUE = "Tue"
    WED = "Wed"
    THU = "Thu"
    FRI = "Fri"
    SAT = "Sat"
    SUN = "Sun"

    @property
    def iso(self) -> int:
        """ISO weekday number, Monday = 1."""
        return list(Weekday).index(self) + 1


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """`presence` from `start` to `end` local time on each of `days`.

    `end <= start` means the window crosses midnight and ends on the next day; `days` names the
    day it starts. Local times are wall-clock in the policy's time zone (DST-correct).
    """

    days: frozenset[Weekday]
    start: time
    end: time
    presence: PresenceTarget
    location: SourceLocation = NOWHERE

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class DatedException:
    """A holiday or special day: replaces that local date's weekly windows.

    `presence` set: that presence all day. Otherwise `windows` (their `days` ignored) apply that
    day, and an empty tuple means no window at all that day.
    """

    day: date
    description: str = ""
    presence: PresenceTarget | None = None
    windows: tuple[WeeklyWindow, ...] = ()
    location: SourceLocation = NOWHERE


@dataclass(frozen=True, slots=True)
class Override:
    """A supervisor's per-agent override: wins over everything while `start <= t < until`."""

    agent: str  # user id or email
    presence: PresenceTarget
    until: datetime
    start: datetime | None = None
    reason: str = ""
    location: SourceLocation = NOWHERE

    def applies_to(self, agent: Agent) -> bool:
        return self.agent == agent.id or self.agent.casefold() == agent.email.casefold()


class Safeguard(StrEnum):
    """What a policy does with an agent a safety rule protects (logged out, out of office)."""

    LEAVE = "leave"  # skip the agent, with the reason
    ENFORCE = "enforce"  # write as for anyone else


@dataclass(frozen=True, slots=True)
class Rules:
    respect_active_interactions: bool = True  # never change an INTERACTING/COMMUNICATING agent
    # An agent showing Offline is logged in to no client: On Queue would ring at an empty desk.
    offline_agents: Safeguard = Safeguard.LEAVE
    out_of_office: Safeguard = Safeguard.LEAVE  # Genesys's own supervisor view refuses these
    grace_seconds: int = 60  # let an agent's own change stand this long
    max_break_minutes: int | None = None  # tolerate an agent's own Break/Meal up to this long
    # Presences (names) that carry a message when the daemon sets them (the reason is written).
    message_required: frozenset[str] = frozenset()
    # When set: the only presences the policy may produce, and presences outside it are
    # corrected without grace.
    allowed_presences: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class PresencePolicy:
    name: str
    agents: AgentSelector
    timezone: str  # IANA key, validated by the loader
    schedule: ScheduleFollowing | None = None
    windows: tuple[WeeklyWindow, ...] = ()
    exceptions: tuple[DatedException, ...] = ()
    overrides: tuple[Override, ...] = ()
    rules: Rules = Rules()
    mode: Mode = Mode.ENFORCE
    suspend: bool = False
    location: SourceLocation = NOWHERE


@dataclass(frozen=True, slots=True)
class PresenceMapping:
    """External WFM state (e.g. WFM_BREAK) → Genesys presence, for states fed in from outside."""

    name: str
    states: Mapping[str, PresenceTarget]
    location: SourceLocation = NOWHERE


@dataclass(frozen=True, slots=True)
class MatchCriterion:
    json_path: str
    # Equal | NotEqual | GreaterThan | In | ... (docs/genesys-api.md#process-automation-triggers)
    operator: str
    value: str | int | float | bool | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class EventSubscription:
    """A Process Automation trigger the daemon keeps existing (and prunes when removed)."""

    name: str
    topic_name: str
    workflow_id: str
    enabled: bool = True
    match_criteria: tuple[MatchCriterion, ...] = ()
    data_format: str = "Json"  # Json | TopLevelPrimitives
    event_ttl_seconds: int | None = None
    delay_by_seconds: int | None = None
    description: str = ""
    location: SourceLocation = NOWHERE


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives; the value itself is never in desired state."""

    env: str | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Coordination:
    """How replicas share one org (controller/coordination/): `none` is a single process."""

    backend: str = "none"  # none | etcd | kubernetes
    mode: str = "active-standby"  # active-standby | sharded
    lease_seconds: int = 15
    etcd_endpoints: tuple[str, ...] = ("http://127.0.0.1:2379",)
    etcd_ca: str | None = None  # TLS files by reference (mounted secrets)
    etcd_cert: str | None = None
    etcd_key: str | None = None
    prefix: str = "/presencectl/default"  # etcd key prefix of this org's election and members
    k8s_namespace: str = "presencectl"
    k8s_lease_name: str = "presencectl"


@dataclass(frozen=True, slots=True)
class BlastRadius:
    """The blast-radius guard: a plan changing more than `limit(managed)` agents is held whole.

    The limit is a share of the *managed* population (never of the agents one cycle happens to
    look at) with an absolute floor, so a few hand-made changes in a small org are not a blast.
    """

    percent: float = 25.0  # of the managed agents; 0 < percent <= 100 in desired state
    min_agents: int = 5  # the limit is never below this count

    def limit(self, managed: int) -> int:
        # percent * managed / 100, not share * managed: 29 % of 100 must be 29, not 28.999...
        return max(self.min_agents, math.floor(self.percent * managed / 100))

    def __str__(self) -> str:
        if self.percent <= 0:
            return f"at most {self.min_agents} agents"
        return f"{self.percent:g}% of managed agents, at least {self.min_agents}"


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    region: str | None = None
    api_base: str | None = None
    login_base: str | None = None
    rate_per_minute: int = 300
    resync_interval_seconds: int = 300
    resync_jitter: float = 0.05  # ± share of the interval
    resync_read_share: float = 0.25  # most of the request budget resync reads may take
    trigger_interval_seconds: int = 120  # trigger reconcile cadence of the daemon (same jitter)
    blast_radius: BlastRadius = BlastRadius()  # how many agents one plan may change
    audit_path: str = "audit/audit.jsonl"
    audit_rotate_bytes: int = 10 * 1024 * 1024
    audit_keep: int = 10
    http_bind: str = "127.0.0.1:9464"
    webhook_secret: SecretRef | None = None
    adherence_path: str | None = None  # the timeline database; None: adherence.sqlite next to the audit log
    adherence_retention_days: int = 35
    adherence_export_url: str | None = None
    adherence_export_interval_seconds: int | None = None  # every N s: today so far (old snapshot setting)
    adherence_export_daily: time | None = None  # every day at this local time: the previous day
    adherence_export_time_zone: str = "UTC"  # of `daily` and of what "today"/"the previous day" are
    adherence_export_batch_size: int = 500
    adherence_export_auth_header: str = "Authorization"
    adherence_export_auth: SecretRef | None = None  # the auth header's value
    adherence_export_signing: SecretRef | None = None  # HMAC-signs each batch like the webhook
    schedule_search_chunk: int = 500  # agents per schedule search (halved on refusal, per process)
    schedule_search_wait_seconds: int = 60  # for the notification of a Processing search
    coordination: Coordination = Coordination()
    location: SourceLocation = NOWHERE

    @property
    def adherence_database(self) -> str:
        return self.adherence_path or os.path.join(os.path.dirname(self.audit_path), "adherence.sqlite")


@dataclass(frozen=True, slots=True)
class ExpiredOverride:
    """An override whose `until` has passed: ignored by the planner, a warning, audited once."""

    policy: str
    override: Override
    location: SourceLocation  # of its `until`

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.policy, self.override.agent.casefold(), self.override.until)


@dataclass(frozen=True)
class DesiredState:
    """Everything in one `desired/` directory, accepted as a whole or not at all."""

    policies: tuple[PresencePolicy, ...] = ()
    mappings: tuple[PresenceMapping, ...] = ()
    subscriptions: tuple[EventSubscription, ...] = ()
    config: ControllerConfig = ControllerConfig()
    digest: str = ""  # content hash of the source files, recorded in audit records
    expired: tuple[ExpiredOverride, ...] = ()  # overrides already past when loaded (left out)

    def expired_overrides(self, now: datetime) -> tuple[ExpiredOverride, ...]:
        """Those left out at load time and those in force then that `now` has passed."""
        later = tuple(
            ExpiredOverride(p.name, o, o.location)
            for p in self.policies
            for o in p.overrides
            if o.until <= now
        )
        return self.expired + later

    def with_policies(self, policies: tuple[PresencePolicy, ...]) -> DesiredState:
        return replace(self, policies=policies)
