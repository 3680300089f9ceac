"""The emulated org: its static facts (agents, presence definitions, WFM units, activity codes,
published schedules). Mutable runtime state (presence, routing status, channels, triggers) lives
in the emulator's world, not here.

Ids are stable: BU/MU/group/activity-code/secondary-presence ids derive from their names
(uuid5), agent ids from their index, so the example `desired/` can name them for any --agents N.
Time values are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from controller.presence import SystemPresence


@dataclass(slots=True)
class OrgPresenceDefinition:
    id: str
    system_presence: SystemPresence
    type: str  # "System" (primary) | "User" (org secondary)
    labels: dict[str, str]  # locale -> label, e.g. {"en_US": "Lunch"}
    division_id: str = "*"
    deactivated: bool = False


@dataclass(slots=True)
class OrgGroup:
    id: str
    name: str


@dataclass(slots=True)
class OrgAgent:
    id: str
    name: str
    email: str
    division_id: str
    group_ids: list[str]
    management_unit_id: str | None
    title: str = "Agent"
    department: str = "Contact Center"


@dataclass(slots=True)
class OrgBusinessUnit:
    id: str
    name: str
    time_zone: str


@dataclass(slots=True)
class OrgManagementUnit:
    id: str
    name: str
    business_unit_id: str
    time_zone: str


@dataclass(slots=True)
class OrgActivityCode:
    id: str
    business_unit_id: str
    name: str
    category: str  # OnQueueWork|Break|Meal|Meeting|OffQueueWork|TimeOff|Training|Unavailable
    secondary_presence_ids: list[str]
    length_minutes: int = 0
    counts_as_paid_time: bool = True
    counts_as_work_time: bool = True
    active: bool = True
    default_code: bool = True


@dataclass(slots=True)
class OrgActivity:
    start: datetime
    length_minutes: int
    activity_code_id: str
    description: str = ""
    paid: bool = True


@dataclass(slots=True)
class OrgShift:
    id: str
    agent_id: str
    start: datetime
    length_minutes: int
    activities: list[OrgActivity]
    schedule_id: str
    week_date: date  # the published schedule's week (yyyy-MM-dd, BU week start)


@dataclass(slots=True)
class OrgTimeOff:
    agent_id: str
    business_unit_date: date
    activity_code_id: str
    length_minutes: int = 480
    description: str = "Time off"


@dataclass
class Org:
    id: str
    name: str
    agents: list[OrgAgent] = field(default_factory=list)
    groups: list[OrgGroup] = field(default_factory=list)
    presence_definitions: list[OrgPresenceDefinition] = field(default_factory=list)
    business_units: list[OrgBusinessUnit] = field(default_factory=list)
    management_units: list[OrgManagementUnit] = field(default_factory=list)
    activity_codes: list[OrgActivityCode] = field(default_factory=list)
    shifts: dict[str, list[OrgShift]] = field(default_factory=dict)  # agent id -> shifts by start
    time_off: list[OrgTimeOff] = field(default_factory=list)
