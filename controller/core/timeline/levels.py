"""Values the timeline produces (Decision, Reason) and the interval arithmetic its levels share.

Each precedence level of controller.core.timeline.desired answers for an instant t with a Level: either it
decides (a presence, or None for "leave alone") or it passes, and in both cases it gives the
edges around t between which its answer cannot change. desired_at intersects those intervals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from controller.core.domain import AgentSchedule, ScheduledActivity
from controller.model.types import NOWHERE, PresenceTarget, SourceLocation

_P = TypeVar("_P")


class ReasonKind(StrEnum):
    OVERRIDE = "override"
    EXCEPTION = "exception"
    SCHEDULE_ACTIVITY = "schedule-activity"
    TIME_OFF = "time-off"
    WINDOW = "window"
    OFF_SHIFT = "off-shift"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    policy: str
    detail: str  # e.g. "WFM activity 'Lunch' 12:00-12:30 (code 8f..)", "window Mon-Fri 09:00-17:00"
    location: SourceLocation = NOWHERE

    def __str__(self) -> str:
        where = "" if self.location == NOWHERE else f" ({self.location})"
        return f"{self.policy}: {self.detail}{where}"


@dataclass(frozen=True, slots=True)
class Decision:
    target: PresenceTarget | None  # None: no opinion, leave the agent alone
    reason: Reason
    valid_from: datetime | None
    valid_until: datetime | None

    def holds_at(self, t: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= t) and (
            self.valid_until is None or t < self.valid_until
        )


def target_key(target: PresenceTarget | None) -> str | None:
    """What "the same desired presence" means: the same definition id (the name if unresolved)."""
    if target is None:
        return None
    return target.definition_id if target.definition_id is not None else f"name:{target.name}"


@dataclass(frozen=True, slots=True)
class Scan(Generic[_P]):
    hit: _P | None  # first active payload in iteration order
    lo: datetime | None  # latest edge <= t (None: none known)
    hi: datetime | None  # earliest edge > t


def scan(spans: Iterable[tuple[datetime | None, datetime, _P]], t: datetime) -> Scan[_P]:
    """First span active at t, and the edges around t: between them no span starts or ends."""
    hit: _P | None = None
    lo: datetime | None = None
    hi: datetime | None = None
    for start, end, payload in spans:
        for edge in (start, end):
            if edge is None:
                continue
            if edge <= t:
                lo = edge if lo is None or edge > lo else lo
            else:
                hi = edge if hi is None or edge < hi else hi
        if hit is None and (start is None or start <= t) and t < end:
            hit = payload
    return Scan(hit, lo, hi)


def scan_activities(schedule: AgentSchedule, t: datetime) -> Scan[ScheduledActivity]:
    """`scan` over a schedule's activities (start, end, activity), without the generators: the
    planner runs it for every agent at every instant it looks at, over every published activity."""
    hit: ScheduledActivity | None = None
    lo: datetime | None = None
    hi: datetime | None = None
    for shift in schedule.shifts:
        for activity in shift.activities:
            start, end = activity.start, activity.end
            if start <= t:
                if lo is None or start > lo:
                    lo = start
                if end > t:
                    hit = activity if hit is None else hit
            elif hi is None or start < hi:
                hi = start
            if end <= t:
                if lo is None or end > lo:
                    lo = end
            elif hi is None or end < hi:
                hi = end
    return Scan(hit, lo, hi)


@dataclass(frozen=True, slots=True)
class Level:
    decided: bool
    target: PresenceTarget | None
    reason: Reason | None
    lo: datetime | None
    hi: datetime | None


def passes(lo: datetime | None, hi: datetime | None) -> Level:
    return Level(False, None, None, lo, hi)
