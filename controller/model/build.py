"""Schema-valid documents -> typed kinds, with the checks that need one document only.

Runs after JSON Schema validation, so shapes and types are guaranteed; what is left is meaning:
time zones, dates, times in the past, overlapping windows, contradictory fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from controller.core.domain import ActivityCategory
from controller.core.presence import is_system_presence_name, normalize_system_presence
from controller.model.errors import Diagnostic
from controller.model.schema import did_you_mean, shown
from controller.model.types import (
    DEFAULT_CATEGORY_PRESENCE,
    AgentSelector,
    BlastRadius,
    ControllerConfig,
    Coordination,
    DatedException,
    EventSubscription,
    MatchCriterion,
    Mode,
    Override,
    PresenceMapping,
    PresencePolicy,
    PresenceTarget,
    Rules,
    Safeguard,
    ScheduleFollowing,
    SecretRef,
    SourceLocation,
    Weekday,
    WeeklyWindow,
)
from controller.model.window_overlap import describe, overlapping_day_windows, overlapping_weekly_windows
from controller.model.yamlsafe import Document, PathT

Kind = PresencePolicy | PresenceMapping | EventSubscription | ControllerConfig

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIST_OPERATORS = frozenset({"In", "NotIn", "All"})


@dataclass(frozen=True)
class Built:
    """A typed object and the document it came from (for locations in cross-document checks)."""

    kind: str
    name: str
    obj: Kind
    doc: Document


def presence_key(name: str) -> str:
    """Names that mean the same presence compare equal: 'On Queue' = 'ON_QUEUE'; labels ignore case."""
    return normalize_system_presence(name).value if is_system_presence_name(name) else name.casefold()


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text))


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _Context:
    def __init__(self, doc: Document, now: datetime) -> None:
        self.doc = doc
        self.now = now
        self.diagnostics: list[Diagnostic] = []

    def error(self, path: PathT, message: str, hint: str, value: Any = None, *, key: bool = False) -> None:
        where = self.doc.key_at(path) if key else self.doc.at(path)
        self.diagnostics.append(Diagnostic(where, message, hint, shown(value)))

    def at(self, path: PathT) -> SourceLocation:
        return self.doc.at(path)

    def target(self, path: PathT) -> PresenceTarget:
        return PresenceTarget(name=self.doc.get(path), location=self.doc.at(path))

    def optional_target(self, spec: dict[str, Any], path: PathT, key: str) -> PresenceTarget | None:
        return self.target((*path, key)) if key in spec else None


def build_document(doc: Document, kind: str, now: datetime) -> tuple[Built | None, list[Diagnostic]]:
    """Typed object of a schema-valid document, or None with the reasons."""
    ctx = _Context(doc, now)
    builders: dict[str, Callable[[_Context], Kind]] = {
        "PresencePolicy": _policy,
        "PresenceMapping": _mapping,
        "EventSubscription": _subscription,
        "ControllerConfig": _config,
    }
    obj = builders[kind](ctx)
    if ctx.diagnostics:
        return None, ctx.diagnostics
    return Built(kind, doc.value["metadata"]["name"], obj, doc), []


def _hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def _policy(ctx: _Context) -> PresencePolicy:
    spec: dict[str, Any] = ctx.doc.value["spec"]
    path: PathT = ("spec",)
    tz_name: str = spec["timezone"]
    tz = zone(tz_name)
    if tz is None:
        guess = did_you_mean(tz_name, _zone_names())
        hint = f"did you mean '{guess}'? " if guess else ""
        ctx.error(
            (*path, "timezone"),
            f"unknown time zone {tz_name!r}",
            f"{hint}use an IANA name such as Europe/London",
            tz_name,
        )
    selector = spec["agents"]
    agents = AgentSelector(
        user_ids=frozenset(selector.get("userIds", ())),
        emails=frozenset(e.casefold() for e in selector.get("emails", ())),
        groups=frozenset(selector.get("groups", ())),
        management_units=frozenset(selector.get("managementUnits", ())),
    )
    schedule = _schedule(ctx, spec) if "schedule" in spec else None
    windows = tuple(_window(ctx, (*path, "windows", i)) for i in range(len(spec.get("windows", ()))))
    for first, second in overlapping_weekly_windows(windows):
        ctx.diagnostics.append(
            Diagnostic(
                second.location,
                f"window {describe(second)} overlaps window {describe(first)} at line {first.location.line}",
                "windows of one policy must not overlap; shorten or split one of them",
            )
        )
    exceptions = tuple(
        _exception(ctx, (*path, "exceptions", i)) for i in range(len(spec.get("exceptions", ())))
    )
    _check_exceptions(ctx, spec, exceptions)
    overrides = tuple(
        _override(ctx, (*path, "overrides", i), tz or UTC) for i in range(len(spec.get("overrides", ())))
    )
    rules = _rules(spec.get("rules", {}))
    if schedule is None and not windows and not overrides:
        ctx.error(path, "the policy sets no presence", "add schedule, windows or overrides")
    policy = PresencePolicy(
        name=ctx.doc.value["metadata"]["name"],
        agents=agents,
        timezone=tz_name,
        schedule=schedule,
        windows=windows,
        exceptions=exceptions,
        overrides=overrides,
        rules=rules,
        mode=Mode(spec.get("mode", Mode.ENFORCE.value)),
        suspend=spec.get("suspend", False),
        location=ctx.at(()),
    )
    _check_allowed(ctx, policy)
    return policy


def _schedule(ctx: _Context, spec: dict[str, Any]) -> ScheduleFollowing:
    raw = spec["schedule"]
    path: PathT = ("spec", "schedule")
    return ScheduleFollowing(
        categories={
            ActivityCategory(name): ctx.target((*path, "categories", name))
            for name in raw.get("categories", {})
        },
        activity_codes={
            code: ctx.target((*path, "activityCodes", code)) for code in raw.get("activityCodes", {})
        },
        use_secondary_presence=raw.get("useSecondaryPresence", True),
        off_shift=ctx.optional_target(raw, path, "offShift"),
        time_off=ctx.optional_target(raw, path, "timeOff"),
    )


def _window(ctx: _Context, path: PathT, days: frozenset[Weekday] | None = None) -> WeeklyWindow:
    raw = ctx.doc.get(path)
    return WeeklyWindow(
        days=days if days is not None else frozenset(Weekday(d) for d in raw["days"]),
        start=_hhmm(raw["from"]),
        end=_hhmm(raw["to"]),
        presence=ctx.target((*path, "presence")),
        location=ctx.at(path),
    )


def _exception(ctx: _Context, path: PathT) -> DatedException:
    raw = ctx.doc.get(path)
    try:
        day = date.fromisoformat(raw["date"])
    except ValueError:
        ctx.error(
            (*path, "date"),
            f"invalid date {raw['date']!r}",
            "write a real calendar date, YYYY-MM-DD",
            raw["date"],
        )
        day = date.min
    if ("presence" in raw) == ("windows" in raw):
        ctx.error(
            path, "an exception needs either presence or windows", "presence: all day; windows: [] for none"
        )
    every_day = frozenset(Weekday)
    windows = tuple(
        _window(ctx, (*path, "windows", i), every_day) for i in range(len(raw.get("windows", ())))
    )
    for first, second in overlapping_day_windows(windows):
        ctx.diagnostics.append(
            Diagnostic(
                second.location,
                f"window {second.start:%H:%M}-{second.end:%H:%M} overlaps window "
                f"{first.start:%H:%M}-{first.end:%H:%M} at line {first.location.line}",
                "windows of one day must not overlap; shorten or split one of them",
            )
        )
    return DatedException(
        day=day,
        description=raw.get("description", ""),
        presence=ctx.optional_target(raw, path, "presence"),
        windows=windows,
        location=ctx.at(path),
    )


def _check_exceptions(ctx: _Context, spec: dict[str, Any], exceptions: tuple[DatedException, ...]) -> None:
    if exceptions and "windows" not in spec:
        ctx.error(
            ("spec", "exceptions"),
            "exceptions replace weekly windows, but the policy has none",
            "add windows, or remove exceptions (time off in the WFM schedule covers holidays)",
        )
    seen: dict[date, SourceLocation] = {}
    for exception in exceptions:
        if exception.day in seen and exception.day != date.min:
            ctx.diagnostics.append(
                Diagnostic(
                    exception.location,
                    f"a second exception for {exception.day.isoformat()} "
                    f"(first at line {seen[exception.day].line})",
                    "merge them into one",
                    exception.day.isoformat(),
                )
            )
        seen.setdefault(exception.day, exception.location)


def _datetime(ctx: _Context, path: PathT, tz: tzinfo) -> datetime | None:
    text: str = ctx.doc.get(path)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        ctx.error(path, f"invalid date-time {text!r}", "write YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]", text)
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


def _override(ctx: _Context, path: PathT, tz: tzinfo) -> Override:
    raw = ctx.doc.get(path)
    agent: str = raw["agent"]
    if not (is_uuid(agent) or is_email(agent)):
        ctx.error(
            (*path, "agent"),
            f"override agent {agent!r} is neither a user id nor an e-mail",
            "name the agent by user id (UUID) or e-mail",
            agent,
        )
    until = _datetime(ctx, (*path, "until"), tz)
    start = _datetime(ctx, (*path, "start"), tz) if "start" in raw else None
    if until is not None and start is not None and start >= until:
        ctx.error(
            (*path, "start"),
            "override starts at or after its 'until'",
            "make start earlier than until",
            raw["start"],
        )
    return Override(
        agent=agent,
        presence=ctx.target((*path, "presence")),
        until=until or ctx.now,
        start=start,
        reason=raw.get("reason", ""),
        location=ctx.at(path),
    )


def _rules(raw: dict[str, Any]) -> Rules:
    allowed = raw.get("allowedPresences")
    return Rules(
        respect_active_interactions=raw.get("respectActiveInteractions", True),
        offline_agents=Safeguard(raw.get("offlineAgents", Safeguard.LEAVE)),
        out_of_office=Safeguard(raw.get("outOfOffice", Safeguard.LEAVE)),
        grace_seconds=raw.get("graceSeconds", 60),
        max_break_minutes=raw.get("maxBreakMinutes"),
        message_required=frozenset(raw.get("messageRequired", ())),
        allowed_presences=frozenset(allowed) if allowed is not None else None,
    )


def policy_targets(policy: PresencePolicy) -> list[PresenceTarget]:
    """Every presence a policy names, in the order written."""
    targets: list[PresenceTarget] = []
    if policy.schedule is not None:
        s = policy.schedule
        targets += list(s.categories.values()) + list(s.activity_codes.values())
        targets += [t for t in (s.off_shift, s.time_off) if t is not None]
    targets += [w.presence for w in policy.windows]
    for exception in policy.exceptions:
        targets += [exception.presence] if exception.presence else []
        targets += [w.presence for w in exception.windows]
    targets += [o.presence for o in policy.overrides]
    return targets


def _check_allowed(ctx: _Context, policy: PresencePolicy) -> None:
    allowed = policy.rules.allowed_presences
    if allowed is None:
        return
    keys = {presence_key(name) for name in allowed}
    listed = ", ".join(sorted(allowed))
    for target in policy_targets(policy):
        if presence_key(target.name) not in keys:
            ctx.diagnostics.append(
                Diagnostic(
                    target.location,
                    f"presence {target.name!r} is not in rules.allowedPresences",
                    f"add it to allowedPresences or use one of: {listed}",
                    target.name,
                )
            )
    if policy.schedule is not None:
        for category, default in DEFAULT_CATEGORY_PRESENCE.items():
            if category not in policy.schedule.categories and presence_key(default) not in keys:
                ctx.error(
                    ("spec", "schedule"),
                    f"category {category.value} maps by default to {default!r}, "
                    "which is not in rules.allowedPresences",
                    f"map {category.value} under schedule.categories to one of: {listed}",
                    default,
                )


def _mapping(ctx: _Context) -> PresenceMapping:
    states = ctx.doc.value["spec"]["states"]
    return PresenceMapping(
        name=ctx.doc.value["metadata"]["name"],
        states={state: ctx.target(("spec", "states", state)) for state in states},
        location=ctx.at(()),
    )


def _criterion(ctx: _Context, path: PathT) -> MatchCriterion:
    raw = ctx.doc.get(path)
    operator = raw["operator"]
    if operator in _LIST_OPERATORS and ("values" not in raw or "value" in raw):
        ctx.error(path, f"operator {operator} takes 'values' (a list), not 'value'", "write values: [a, b]")
    if operator not in _LIST_OPERATORS and ("value" not in raw or "values" in raw):
        ctx.error(
            path,
            f"operator {operator} takes 'value', not 'values'",
            "write value: x (In, NotIn and All take values)",
        )
    values = raw.get("values")
    return MatchCriterion(
        json_path=raw["jsonPath"],
        operator=operator,
        value=raw.get("value"),
        values=tuple(values) if values is not None else None,
    )


def _subscription(ctx: _Context) -> EventSubscription:
    spec = ctx.doc.value["spec"]
    if "eventTTLSeconds" in spec and "delayBySeconds" in spec:
        ctx.error(
            ("spec", "delayBySeconds"),
            "eventTTLSeconds and delayBySeconds are both set",
            "Genesys accepts only one of them; remove one",
            spec["delayBySeconds"],
            key=True,
        )
    criteria = tuple(
        _criterion(ctx, ("spec", "matchCriteria", i)) for i in range(len(spec.get("matchCriteria", ())))
    )
    target = spec["target"]
    return EventSubscription(
        name=ctx.doc.value["metadata"]["name"],
        topic_name=spec["topicName"],
        workflow_id=target["id"],
        enabled=spec.get("enabled", True),
        match_criteria=criteria,
        data_format=target.get("dataFormat", "Json"),
        event_ttl_seconds=spec.get("eventTTLSeconds"),
        delay_by_seconds=spec.get("delayBySeconds"),
        description=spec.get("description", ""),
        location=ctx.at(()),
    )


def blast_radius(raw: float | str | dict[str, Any] | None, default: BlastRadius) -> BlastRadius:
    """`blastRadius` in any of its schema-valid forms: a share (0.25), a percentage ("25%") or
    {percent, minAgents}; what is not given keeps its default."""
    if raw is None:
        return default
    if isinstance(raw, dict):
        percent = float(raw.get("percent", default.percent))
        return BlastRadius(percent, int(raw.get("minAgents", default.min_agents)))
    if isinstance(raw, str):
        return BlastRadius(float(raw.rstrip("%").strip()), default.min_agents)
    return BlastRadius(round(float(raw) * 100, 9), default.min_agents)


def _secret(spec: dict[str, str] | None) -> SecretRef | None:
    return SecretRef(env=spec.get("env"), file=spec.get("file")) if spec else None


def _daily(schedule: str | None) -> time | None:
    """`daily HH:MM` (the schema checked the form) -> the local time of day."""
    return time.fromisoformat(schedule.split()[1]) if schedule else None


def coordination(raw: dict[str, Any], default: Coordination) -> Coordination:
    """`spec.coordination` (schema-valid); what is not given keeps its default."""
    etcd, tls, kube = raw.get("etcd", {}), raw.get("etcd", {}).get("tls", {}), raw.get("kubernetes", {})
    return Coordination(
        backend=raw.get("backend", default.backend),
        mode=raw.get("mode", default.mode),
        lease_seconds=raw.get("leaseSeconds", default.lease_seconds),
        etcd_endpoints=tuple(etcd.get("endpoints", default.etcd_endpoints)),
        etcd_ca=tls.get("ca"),
        etcd_cert=tls.get("cert"),
        etcd_key=tls.get("key"),
        prefix=etcd.get("prefix", default.prefix),
        k8s_namespace=kube.get("namespace", default.k8s_namespace),
        k8s_lease_name=kube.get("leaseName", default.k8s_lease_name),
    )


def _config(ctx: _Context) -> ControllerConfig:
    spec = ctx.doc.value["spec"]
    defaults = ControllerConfig()
    if "region" in spec and "apiBase" in spec:
        ctx.error(
            ("spec", "apiBase"),
            "region and apiBase are both set",
            "give one: region for Genesys Cloud, apiBase for the emulator",
            key=True,
        )
    if "loginBase" in spec and "apiBase" not in spec:
        ctx.error(
            ("spec", "loginBase"),
            "loginBase without apiBase",
            "set apiBase too, or remove loginBase",
            key=True,
        )
    resync = spec.get("resync", {})
    audit = spec.get("audit", {})
    secret = spec.get("webhookSecret")
    export = spec.get("adherenceExport", {})
    timeline = spec.get("adherence", {})
    search = spec.get("scheduleSearch", {})
    return ControllerConfig(
        region=spec.get("region"),
        api_base=spec.get("apiBase"),
        login_base=spec.get("loginBase"),
        rate_per_minute=spec.get("ratePerMinute", defaults.rate_per_minute),
        resync_interval_seconds=resync.get("intervalSeconds", defaults.resync_interval_seconds),
        resync_jitter=float(resync.get("jitter", defaults.resync_jitter)),
        resync_read_share=float(resync.get("readShare", defaults.resync_read_share)),
        trigger_interval_seconds=spec.get("triggers", {}).get(
            "intervalSeconds", defaults.trigger_interval_seconds
        ),
        blast_radius=blast_radius(spec.get("blastRadius"), defaults.blast_radius),
        audit_path=audit.get("path", defaults.audit_path),
        audit_rotate_bytes=audit.get("rotateBytes", defaults.audit_rotate_bytes),
        audit_keep=audit.get("keep", defaults.audit_keep),
        http_bind=spec.get("http", {}).get("bind", defaults.http_bind),
        webhook_secret=SecretRef(env=secret.get("env"), file=secret.get("file")) if secret else None,
        adherence_path=timeline.get("path"),
        adherence_retention_days=timeline.get("retentionDays", defaults.adherence_retention_days),
        adherence_export_url=export.get("url"),
        adherence_export_interval_seconds=export.get("intervalSeconds"),
        adherence_export_daily=_daily(export.get("schedule")),
        adherence_export_time_zone=export.get("timeZone", defaults.adherence_export_time_zone),
        adherence_export_batch_size=export.get("batchSize", defaults.adherence_export_batch_size),
        adherence_export_auth_header=export.get("auth", {}).get(
            "header", defaults.adherence_export_auth_header
        ),
        adherence_export_auth=_secret(export.get("auth")),
        adherence_export_signing=_secret(export.get("signingSecret")),
        schedule_search_chunk=search.get("chunkUsers", defaults.schedule_search_chunk),
        schedule_search_wait_seconds=search.get("waitSeconds", defaults.schedule_search_wait_seconds),
        coordination=coordination(spec.get("coordination", {}), defaults.coordination),
        location=ctx.at(()),
    )
