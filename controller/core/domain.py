"""Typed values of the live org, as the client reads them and the pure core consumes them.

The Genesys client turns API JSON into these; the timeline and planner never see JSON.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from controller.core.presence import (
    RoutingStatus,
    SystemPresence,
    is_system_presence_name,
    normalize_system_presence,
)


@dataclass(frozen=True, slots=True)
class PresenceDefinition:
    """One entry of GET /api/v2/presence/definitions."""

    id: str
    system_presence: SystemPresence
    label: str  # en_US label; for a system definition, the system presence's label
    is_system: bool  # type "System" (primary) vs "User" (org secondary)
    deactivated: bool = False


@dataclass(frozen=True)
class PresenceCatalog:
    """The org's presence definitions, looked up by id or by the name an operator writes."""

    definitions: tuple[PresenceDefinition, ...]
    _by_id: Mapping[str, PresenceDefinition] = field(init=False, repr=False, compare=False)
    _by_label: Mapping[str, PresenceDefinition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        active = [d for d in self.definitions if not d.deactivated]
        object.__setattr__(self, "_by_id", {d.id: d for d in self.definitions})
        object.__setattr__(self, "_by_label", {d.label.casefold(): d for d in active if not d.is_system})

    def by_id(self, definition_id: str) -> PresenceDefinition | None:
        return self._by_id.get(definition_id)

    def system(self, presence: SystemPresence) -> PresenceDefinition | None:
        """The primary (type System) definition of a system presence."""
        for d in self.definitions:
            if d.is_system and d.system_presence is presence and not d.deactivated:
                return d
        return None

    def resolve(self, name: str) -> PresenceDefinition | None:
        """A system presence name in any spelling, else an org secondary label (case-insensitive)."""
        if is_system_presence_name(name):
            return self.system(normalize_system_presence(name))
        return self._by_label.get(name.casefold())

    def names(self) -> list[str]:
        """Every name `resolve` accepts, for error messages."""
        return [p.label for p in SystemPresence] + sorted({d.label for d in self._by_label.values()})


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    email: str
    groups: frozenset[str] = frozenset()  # group ids
    management_unit_id: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedAgent:
    """Live presence and routing status of one agent."""

    user_id: str
    presence_id: str
    system_presence: SystemPresence
    routing_status: RoutingStatus
    presence_modified: datetime | None = None
    message: str = ""
    # An active Out of Office: not at work (docs/genesys-api.md#logged-out-agents-and-out-of-office).
    out_of_office: bool = False


class ActivityCategory(StrEnum):
    ON_QUEUE_WORK = "OnQueueWork"
    BREAK = "Break"
    MEAL = "Meal"
    MEETING = "Meeting"
    OFF_QUEUE_WORK = "OffQueueWork"
    TIME_OFF = "TimeOff"
    TRAINING = "Training"
    UNAVAILABLE = "Unavailable"


@dataclass(frozen=True, slots=True)
class ActivityCode:
    id: str
    name: str
    category: ActivityCategory
    secondary_presence_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScheduledActivity:
    start: datetime
    end: datetime
    activity_code_id: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    start: datetime
    end: datetime
    activities: tuple[ScheduledActivity, ...]


@dataclass(frozen=True, slots=True)
class TimeOffDay:
    """A full-day time-off marker, already placed on the UTC axis using the BU time zone."""

    business_unit_date: date
    start: datetime
    end: datetime
    activity_code_id: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class AgentSchedule:
    """An agent's published schedule over a fetched range."""

    user_id: str
    shifts: tuple[Shift, ...] = ()
    time_off: tuple[TimeOffDay, ...] = ()

    def activities(self) -> Iterable[ScheduledActivity]:
        for shift in self.shifts:
            yield from shift.activities
