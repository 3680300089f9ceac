"""Adherence of one agent over a range, computed purely from the desired timeline and the observed one.

Genesys's model (docs/genesys-api.md#adherence): an agent is in adherence when the activity
category of their actual presence matches the scheduled one. Here "scheduled" is what the policy enforces:
`desired_at` (the planner's own function, so the same presence mapping) gives the presence at
each instant, and its category is the scheduled category. Consequences, on purpose:

- a scheduled activity whose code pins secondary presences is adhered to only in one of them,
  as in Genesys (the policy enforces one of them when `useSecondaryPresence` is on);
- no opinion (no rule, a category the policy leaves alone, time off with `timeOff` unset) and
  `offShift` time are not scheduled: excluded, never counted as adherent (Genesys: Unscheduled);
- for a windows policy, the window's presence is the schedule; overrides and dated exceptions
  are scheduled too (presencectl enforces them);
- time not covered by the observed timeline is unknown, never in adherence: adherence % is
  in adherence / (scheduled - unknown); conformance % is observed On Queue time / (scheduled
  OnQueueWork - its unknown part), over 100 % when an agent takes calls off schedule, as in
  Genesys; both None when nothing known was scheduled.

Every sum is a timedelta (exact), so splitting a range never changes the totals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from controller.core.domain import ActivityCategory, ActivityCode, Agent, AgentSchedule, PresenceCatalog
from controller.core.presence import RoutingStatus, SystemPresence
from controller.core.timeline import ReasonKind, day_start, desired_at
from controller.model.types import PresencePolicy, PresenceTarget

ZERO = timedelta(0)
DEFAULT_EXCEPTION_THRESHOLD = timedelta(seconds=60)
MAX_RANGE_DAYS = 31

# The activity category a presence counts as (Genesys's actualActivityCategory; Offline shows
# as Unavailable, which is also what a scheduled TimeOff/Unavailable enforced as Offline needs).
PRESENCE_CATEGORY: Mapping[SystemPresence, ActivityCategory] = {
    SystemPresence.ON_QUEUE: ActivityCategory.ON_QUEUE_WORK,
    SystemPresence.BREAK: ActivityCategory.BREAK,
    SystemPresence.MEAL: ActivityCategory.MEAL,
    SystemPresence.MEETING: ActivityCategory.MEETING,
    SystemPresence.TRAINING: ActivityCategory.TRAINING,
    SystemPresence.AVAILABLE: ActivityCategory.OFF_QUEUE_WORK,
    SystemPresence.BUSY: ActivityCategory.OFF_QUEUE_WORK,
    SystemPresence.AWAY: ActivityCategory.OFF_QUEUE_WORK,
    SystemPresence.IDLE: ActivityCategory.OFF_QUEUE_WORK,
    SystemPresence.OFFLINE: ActivityCategory.UNAVAILABLE,
}
_NOT_SCHEDULED = frozenset({ReasonKind.NONE, ReasonKind.OFF_SHIFT})


@dataclass(frozen=True, slots=True)
class ObservedSpan:
    """A piece of the observed timeline: the agent showed this presence over [start, end)."""

    start: datetime
    end: datetime
    presence_id: str
    system_presence: SystemPresence
    routing_status: RoutingStatus


@dataclass(frozen=True, slots=True)
class ScheduledSpan:
    """A piece of the desired timeline the policy has an opinion on (and that is scheduled)."""

    start: datetime
    end: datetime
    target: PresenceTarget
    category: ActivityCategory
    pinned: frozenset[str] = frozenset()  # the scheduled code's secondary presences, if it pins any

    def adhered_by(self, span: ObservedSpan) -> bool:
        if self.pinned:
            return span.presence_id in self.pinned
        return PRESENCE_CATEGORY[span.system_presence] is self.category


@dataclass(frozen=True, slots=True)
class AdherenceException:
    start: datetime
    end: datetime
    scheduled: str  # the enforced presence's name
    scheduled_category: ActivityCategory
    actual: SystemPresence
    presence_id: str
    routing_status: RoutingStatus
    impact: str  # Positive (On Queue when not scheduled to), Negative (not On Queue when scheduled), Neutral

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class AgentAdherence:
    user_id: str
    start: datetime
    end: datetime
    scheduled: timedelta = ZERO
    scheduled_by_category: Mapping[ActivityCategory, timedelta] = field(default_factory=dict)
    in_adherence: timedelta = ZERO
    out_of_adherence: timedelta = ZERO
    unknown: timedelta = ZERO
    on_queue_scheduled: timedelta = ZERO  # scheduled OnQueueWork
    on_queue_unknown: timedelta = ZERO  # scheduled OnQueueWork with nothing observed
    on_queue_actual: timedelta = ZERO  # observed On Queue anywhere in the range (Genesys: may pass 100 %)
    exceptions: tuple[AdherenceException, ...] = ()

    @property
    def adherence_percent(self) -> float | None:
        known = self.scheduled - self.unknown
        return 100.0 * (self.in_adherence / known) if known > ZERO else None

    @property
    def conformance_percent(self) -> float | None:
        known = self.on_queue_scheduled - self.on_queue_unknown
        return 100.0 * (self.on_queue_actual / known) if known > ZERO else None


def category_of(target: PresenceTarget, catalog: PresenceCatalog) -> ActivityCategory | None:
    """The activity category the enforced presence counts as (None: not in the catalog)."""
    d = catalog.by_id(target.definition_id) if target.definition_id else catalog.resolve(target.name)
    return PRESENCE_CATEGORY[d.system_presence] if d is not None else None


def impact(scheduled: ActivityCategory, actual: SystemPresence) -> str:
    if actual is SystemPresence.ON_QUEUE:
        return "Positive"
    return "Negative" if scheduled is ActivityCategory.ON_QUEUE_WORK else "Neutral"


def scheduled_spans(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    start: datetime,
    end: datetime,
) -> Iterator[ScheduledSpan]:
    """Walk desired_at across [start, end) decision by decision, keeping the scheduled pieces."""
    t = start
    while t < end:
        d = desired_at(policy, agent, schedule, codes, catalog, t)
        until = end if d.valid_until is None else min(d.valid_until, end)
        if until <= t:  # never stall on a degenerate bound
            until = t + timedelta(microseconds=1)
        if d.target is not None and d.reason.kind not in _NOT_SCHEDULED:
            category = category_of(d.target, catalog)
            if category is not None:
                pinned = (
                    _pinned(schedule, codes, t)
                    if d.reason.kind is ReasonKind.SCHEDULE_ACTIVITY
                    else frozenset()
                )
                yield ScheduledSpan(t, until, d.target, category, pinned)
        t = until


def _pinned(schedule: AgentSchedule | None, codes: Mapping[str, ActivityCode], t: datetime) -> frozenset[str]:
    """The secondary presences the activity scheduled at t pins (Genesys: only those adhere)."""
    for a in schedule.activities() if schedule is not None else ():
        if a.start <= t < a.end:
            code = codes.get(a.activity_code_id)
            return frozenset(code.secondary_presence_ids) if code is not None else frozenset()
    return frozenset()


def _overlaps(
    piece: ScheduledSpan, observed: Sequence[ObservedSpan], first: int
) -> Iterator[tuple[datetime, datetime, ObservedSpan | None]]:
    """[piece) cut by the observed spans (sorted, disjoint) from index `first`; None = unknown."""
    t = piece.start
    for span in observed[first:]:
        if span.start >= piece.end:
            break
        if span.end <= t:
            continue
        if span.start > t:
            yield t, span.start, None
            t = span.start
        a, b = t, min(span.end, piece.end)
        yield a, b, span
        t = b
        if t >= piece.end:
            return
    if t < piece.end:
        yield t, piece.end, None


def agent_adherence(
    policy: PresencePolicy,
    agent: Agent,
    schedule: AgentSchedule | None,
    codes: Mapping[str, ActivityCode],
    catalog: PresenceCatalog,
    observed: Sequence[ObservedSpan],
    start: datetime,
    end: datetime,
    threshold: timedelta = DEFAULT_EXCEPTION_THRESHOLD,
) -> AgentAdherence:
    """The figures of `agent` over [start, end). `observed` are the agent's spans, sorted and
    disjoint; anything they do not cover is unknown."""
    by_category: dict[ActivityCategory, timedelta] = {}
    scheduled = inside = outside = unknown = oq_scheduled = oq_unknown = oq_actual = ZERO
    raw: list[AdherenceException] = []
    cursor = 0
    for piece in scheduled_spans(policy, agent, schedule, codes, catalog, start, end):
        length = piece.end - piece.start
        scheduled += length
        by_category[piece.category] = by_category.get(piece.category, ZERO) + length
        on_queue_work = piece.category is ActivityCategory.ON_QUEUE_WORK
        if on_queue_work:
            oq_scheduled += length
        while cursor < len(observed) and observed[cursor].end <= piece.start:
            cursor += 1
        for a, b, span in _overlaps(piece, observed, cursor):
            if span is None:
                unknown += b - a
                oq_unknown += b - a if on_queue_work else ZERO
                continue
            if piece.adhered_by(span):
                inside += b - a
                continue
            outside += b - a
            raw.append(
                AdherenceException(
                    a,
                    b,
                    piece.target.name,
                    piece.category,
                    span.system_presence,
                    span.presence_id,
                    span.routing_status,
                    impact(piece.category, span.system_presence),
                )
            )
    for span in observed:
        if span.system_presence is SystemPresence.ON_QUEUE:
            oq_actual += max(ZERO, min(span.end, end) - max(span.start, start))
    exceptions = tuple(e for e in merge_exceptions(raw) if e.duration >= threshold)
    return AgentAdherence(
        agent.id,
        start,
        end,
        scheduled,
        by_category,
        inside,
        outside,
        unknown,
        oq_scheduled,
        oq_unknown,
        oq_actual,
        exceptions,
    )


def merge_exceptions(items: Sequence[AdherenceException]) -> list[AdherenceException]:
    """Join back-to-back exceptions that differ only in their time range."""
    merged: list[AdherenceException] = []
    for item in items:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.end == item.start
            and (prev.scheduled, prev.scheduled_category, prev.presence_id, prev.routing_status)
            == (item.scheduled, item.scheduled_category, item.presence_id, item.routing_status)
        ):
            merged[-1] = AdherenceException(
                prev.start,
                item.end,
                prev.scheduled,
                prev.scheduled_category,
                prev.actual,
                prev.presence_id,
                prev.routing_status,
                prev.impact,
            )
        else:
            merged.append(item)
    return merged


def local_days(first: date, last: date, tz: str) -> list[tuple[date, datetime, datetime]]:
    """Each local day of [first, last] (inclusive) with its UTC [start, end) (23 or 25 h at DST)."""
    days = []
    day = first
    while day <= last:
        nxt = day + timedelta(days=1)
        days.append((day, day_start(day, tz), day_start(nxt, tz)))
        day = nxt
    return days


def check_range(first: date, last: date) -> str | None:
    """Why a --from/--to range is refused (None: fine). Inclusive, at most MAX_RANGE_DAYS days."""
    if last < first:
        return f"--to {last} is before --from {first}"
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        return f"the range is {days} days; at most {MAX_RANGE_DAYS} days at once (split it)"
    return None


def total(figures: Sequence[AgentAdherence], start: datetime, end: datetime, user_id: str) -> AgentAdherence:
    """Sum figures of one agent (e.g. per day) into one (exceptions concatenated, in order)."""
    by_category: dict[ActivityCategory, timedelta] = {}
    for f in figures:
        for k, v in f.scheduled_by_category.items():
            by_category[k] = by_category.get(k, ZERO) + v
    return AgentAdherence(
        user_id,
        start,
        end,
        sum((f.scheduled for f in figures), ZERO),
        by_category,
        sum((f.in_adherence for f in figures), ZERO),
        sum((f.out_of_adherence for f in figures), ZERO),
        sum((f.unknown for f in figures), ZERO),
        sum((f.on_queue_scheduled for f in figures), ZERO),
        sum((f.on_queue_unknown for f in figures), ZERO),
        sum((f.on_queue_actual for f in figures), ZERO),
        tuple(e for f in figures for e in f.exceptions),
    )
