"""The emulated org: its static facts (agents, presence definitions, WFM units, activity codes,
published schedules). Mutable runtime state (presence, routing status, channels, triggers) lives
in the emulator's backend (`backend.py`), not here.

Ids are stable: BU/MU/group/activity-code/secondary-presence ids derive from their names
(uuid5), agent ids from their index, so the example `desired/` can name them for any --agents N.
Time values are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from controller.core.presence import SystemPresence
from controller.emulator.platform import PlatformOptions

# Fixed namespace of every emulator id: ids are uuid5(ORG_NAMESPACE, name), so they never change
# between runs, machines or --agents sizes (docs/emulator-org.md lists the names).
ORG_NAMESPACE = uuid.UUID("5b0c1d9e-7a52-4e0f-9c2d-2f6a1e3b8c47")


_NAMESPACE_BYTES = ORG_NAMESPACE.bytes


def stable_id(name: str) -> str:
    """uuid5 of `name` in the emulator namespace, e.g. stable_id("businessunit:Customer Care").

    Equal to str(uuid.uuid5(ORG_NAMESPACE, name)) (tested), computed without building UUID objects:
    the generator makes tens of thousands of ids."""
    raw = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def agent_id(index: int) -> str:
    """Id of generated agent number `index` (0-based), whatever the org size."""
    return stable_id(f"agent-{index}")


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


@dataclass(slots=True)
class OrgTopicRejection:
    """Notification topics of `user_ids` that the platform refuses to an OAuth client, as a role
    whose view permissions stop at other divisions does (docs/genesys-api.md#topic-rejection)."""

    user_ids: list[str]
    client_id: str | None = None  # None: every OAuth client
    missing_permissions: list[str] | None = None  # None: what each topic requires (emulator/topics.py)


@dataclass(slots=True)
class OrgLogin:
    """A span during which an agent is logged in to a client (start inclusive, end exclusive)."""

    agent_id: str
    start: datetime
    end: datetime


def logins_from_shifts(shifts: dict[str, list[OrgShift]]) -> list[OrgLogin]:
    """Agents logged in exactly during their shifts (org files that give no `logins`)."""
    return [
        OrgLogin(agent_id, s.start, s.start + timedelta(minutes=s.length_minutes))
        for agent_id, agent_shifts in shifts.items()
        for s in agent_shifts
    ]


@dataclass(slots=True)
class OrgIndex:
    """Lookups over an Org, built once (see Org.index)."""

    agents: dict[str, OrgAgent]
    business_units: dict[str, OrgBusinessUnit]
    management_units: dict[str, OrgManagementUnit]
    presence_definitions: dict[str, OrgPresenceDefinition]
    activity_codes: dict[tuple[str, str], OrgActivityCode]  # (business unit id, code id) -> code
    time_off: dict[str, list[OrgTimeOff]]  # agent id -> markers by date
    fingerprint: tuple[int, ...]


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
    topic_rejections: list[OrgTopicRejection] = field(default_factory=list)
    platform: PlatformOptions = field(default_factory=PlatformOptions)  # UNCONFIRMED behaviours
    # When agents are logged in to a client (a logged-out agent shows Offline); None: every
    # agent is logged in all the time.
    logins: list[OrgLogin] | None = None
    _index: OrgIndex | None = field(default=None, init=False, repr=False, compare=False)

    def index(self) -> OrgIndex:
        """Id lookups, cached. The org is static once built; the cache is rebuilt when a list grows
        or shrinks, and `reindex()` covers in-place edits that keep every length."""
        fingerprint = (
            len(self.agents),
            len(self.business_units),
            len(self.management_units),
            len(self.presence_definitions),
            len(self.activity_codes),
            len(self.time_off),
            len(self.shifts),
        )
        if self._index is None or self._index.fingerprint != fingerprint:
            time_off: dict[str, list[OrgTimeOff]] = {}
            for marker in sorted(self.time_off, key=lambda m: m.business_unit_date):
                time_off.setdefault(marker.agent_id, []).append(marker)
            self._index = OrgIndex(
                agents={a.id: a for a in self.agents},
                business_units={b.id: b for b in self.business_units},
                management_units={m.id: m for m in self.management_units},
                presence_definitions={p.id: p for p in self.presence_definitions},
                activity_codes={(c.business_unit_id, c.id): c for c in self.activity_codes},
                time_off=time_off,
                fingerprint=fingerprint,
            )
        return self._index

    def reindex(self) -> None:
        self._index = None

    def business_unit_of(self, agent_id: str) -> tuple[OrgManagementUnit, OrgBusinessUnit] | None:
        """The agent's management unit and business unit; None when the agent is not in WFM."""
        idx = self.index()
        agent = idx.agents.get(agent_id)
        if agent is None or agent.management_unit_id is None:
            return None
        mu = idx.management_units[agent.management_unit_id]
        return mu, idx.business_units[mu.business_unit_id]
