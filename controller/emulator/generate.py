"""Deterministic generator of a realistic demo org (docs/emulator-org.md describes it).

Every random choice is a hash of (seed, agent index[, date]) rather than a shared random stream,
so agent i is the same in an org of 50 or 10,000 agents and generation needs no ordering.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.emulator.org import (
    Org,
    OrgActivity,
    OrgActivityCode,
    OrgAgent,
    OrgBusinessUnit,
    OrgGroup,
    OrgLogin,
    OrgManagementUnit,
    OrgPresenceDefinition,
    OrgShift,
    OrgTimeOff,
    agent_id,
    stable_id,
)

ORG_NAME = "Demo Org"
HOME_DIVISION_ID = stable_id("division:Home")

# Org secondary presences: (label, system presence).
SECONDARY_PRESENCES: tuple[tuple[str, SystemPresence], ...] = (
    ("Lunch", SystemPresence.MEAL),
    ("Coffee Break", SystemPresence.BREAK),
    ("Pre-Break", SystemPresence.BREAK),
    ("Team Meeting", SystemPresence.MEETING),
    ("Coaching", SystemPresence.MEETING),
    ("E-Learning", SystemPresence.TRAINING),
    ("Back Office", SystemPresence.BUSY),
    ("Personal Time", SystemPresence.AWAY),
)

# (business unit, time zone, [(management unit, time zone)])
BUSINESS_UNITS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Customer Care",
        "America/New_York",
        (("Inbound Sales", "America/New_York"), ("Support", "America/Chicago")),
    ),
    ("EMEA Support", "Europe/London", (("London Support", "Europe/London"),)),
)

GROUP_NAMES = ("Sales Agents", "Support Agents", "EMEA Agents", "Night Shift")
MU_GROUP = {"Inbound Sales": "Sales Agents", "Support": "Support Agents", "London Support": "EMEA Agents"}

# Default activity codes of every BU: (id, category, name). Real orgs use small numeric ids.
DEFAULT_CODES: tuple[tuple[str, str, str], ...] = (
    ("0", "OnQueueWork", "On Queue Work"),
    ("1", "Break", "Break"),
    ("2", "Meal", "Meal"),
    ("3", "Meeting", "Meeting"),
    ("4", "Training", "Training"),
    ("5", "TimeOff", "Time Off"),
    ("6", "OffQueueWork", "Off Queue Work"),
    ("7", "Unavailable", "Unavailable"),
)
# Custom codes: (name, category, secondary presence label); ids are stable_id(activitycode:BU:name).
CUSTOM_CODES: tuple[tuple[str, str, str], ...] = (
    ("Lunch", "Meal", "Lunch"),
    ("Coffee Break", "Break", "Coffee Break"),
    ("Coaching", "Meeting", "Coaching"),
    ("E-Learning", "Training", "E-Learning"),
    ("Back Office", "OffQueueWork", "Back Office"),
)
UNPAID_CATEGORIES = frozenset({"Meal", "Unavailable"})
TIME_OFF_CODE = "5"
DEFAULT_NO_SHOWS = 0.05  # share of scheduled shifts whose agent never logs in
# Agents in no MU have no schedule: they log in for office hours on weekdays.
OFFICE_ZONE, OFFICE_START_MINUTE, OFFICE_MINUTES = "America/New_York", 9 * 60, 480

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Isabella", "James",
    "Ava", "William", "Mia", "Benjamin", "Evelyn", "Lucas", "Harper", "Henry", "Luna", "Theodore",
    "Camila", "Jack", "Gianna", "Levi", "Elizabeth", "Alexander", "Eleanor", "Jackson", "Ella", "Mateo",
    "Abigail", "Daniel", "Sofia", "Michael", "Avery", "Mason", "Scarlett", "Sebastian", "Emily", "Ethan",
    "Aria", "Logan", "Penelope", "Owen", "Chloe", "Samuel", "Layla", "Jacob", "Mila", "Asher",
    "Nora", "Aiden", "Hazel", "John", "Madison", "Joseph", "Ellie", "Wyatt", "Lily", "David",
    "Priya", "Arjun", "Mei", "Hiroshi", "Fatima", "Omar", "Aisha", "Kwame", "Ingrid", "Lars",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Patel", "Kim", "Chen", "Singh", "O'Brien", "Murphy", "Kowalski", "Novak", "Jensen", "Okafor",
)  # fmt: skip


def _draw(*parts: object) -> int:
    """A 64-bit number determined by `parts` only (a stateless, order-free random source)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=8192)
def _local_to_utc(zone: str, day: date, minute_of_day: int) -> datetime:
    """Wall-clock time `minute_of_day` on `day` in `zone`, as UTC (zoneinfo: DST-correct; a time in
    a spring-forward gap resolves with fold=0, i.e. the pre-transition offset)."""
    hour, minute = divmod(minute_of_day, 60)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=_zone(zone)).astimezone(UTC)


@lru_cache(maxsize=4096)
def week_start(day: date) -> date:
    """The Monday of `day`'s week (WFM published-schedule weekDate)."""
    return day - timedelta(days=day.weekday())


_MINUTES = tuple(timedelta(minutes=m) for m in range(24 * 60 + 1))  # shared offsets: fewer allocations


@lru_cache(maxsize=4096)
def schedule_id(business_unit_name: str, week: date) -> str:
    return stable_id(f"schedule:{business_unit_name}:{week.isoformat()}")


def system_presence_definitions() -> list[OrgPresenceDefinition]:
    return [
        OrgPresenceDefinition(
            id=WELL_KNOWN_DEFINITION_IDS[p], system_presence=p, type="System", labels={"en_US": p.label}
        )
        for p in SystemPresence
    ]


def secondary_presence_definitions() -> list[OrgPresenceDefinition]:
    return [
        OrgPresenceDefinition(
            id=stable_id(f"presence:{label}"), system_presence=p, type="User", labels={"en_US": label}
        )
        for label, p in SECONDARY_PRESENCES
    ]


def activity_codes_for(bu: OrgBusinessUnit, secondaries: dict[str, str]) -> list[OrgActivityCode]:
    """The BU's default codes plus the custom codes whose secondary presence (label -> id) exists."""
    codes = [
        OrgActivityCode(
            id=code_id,
            business_unit_id=bu.id,
            name=name,
            category=category,
            secondary_presence_ids=[],
            counts_as_paid_time=category not in UNPAID_CATEGORIES,
            counts_as_work_time=category in ("OnQueueWork", "OffQueueWork", "Meeting", "Training"),
            default_code=True,
        )
        for code_id, category, name in DEFAULT_CODES
    ]
    codes += [
        OrgActivityCode(
            id=stable_id(f"activitycode:{bu.name}:{name}"),
            business_unit_id=bu.id,
            name=name,
            category=category,
            secondary_presence_ids=[secondaries[label]],
            counts_as_paid_time=category not in UNPAID_CATEGORIES,
            counts_as_work_time=category in ("OnQueueWork", "OffQueueWork", "Meeting", "Training"),
            default_code=False,
        )
        for name, category, label in CUSTOM_CODES
        if label in secondaries
    ]
    return codes


def _agent(index: int, seed: int, mus: list[OrgManagementUnit], groups: dict[str, str]) -> OrgAgent:
    roll = _draw(seed, "agent", index)
    first = FIRST_NAMES[roll % len(FIRST_NAMES)]
    last = LAST_NAMES[(roll >> 8) % len(LAST_NAMES)]
    slot = (roll >> 16) % 100
    # 40 % Inbound Sales, 35 % Support, 22 % London Support, 3 % not in WFM.
    mu = mus[0] if slot < 40 else mus[1] if slot < 75 else mus[2] if slot < 97 else None
    group_ids = [groups[MU_GROUP[mu.name] if mu else "Support Agents"]]
    if mu is not None and (roll >> 24) % 100 < 8:
        group_ids.append(groups["Night Shift"])
    return OrgAgent(
        id=agent_id(index),
        name=f"{first} {last}",
        email=f"agent{index:05d}@demo.example.com",
        division_id=HOME_DIVISION_ID,
        group_ids=group_ids,
        management_unit_id=mu.id if mu else None,
    )


class _Codes:
    """The activity-code ids a shift uses, per BU."""

    def __init__(self, codes: list[OrgActivityCode]) -> None:
        by_name = {c.name: c for c in codes}
        self.on_queue = by_name["On Queue Work"]
        self.break_ = by_name["Break"]
        self.meal = by_name["Meal"]
        self.lunch = by_name.get("Lunch", self.meal)
        self.coffee = by_name.get("Coffee Break", self.break_)
        # Optional extra blocks; descriptions as a planner would write them.
        self.extras = [
            (by_name["Meeting"], "Team huddle"),
            (by_name.get("Coaching", by_name["Meeting"]), "1:1 coaching"),
            (by_name["Training"], "Product training"),
            (by_name.get("E-Learning", by_name["Training"]), "E-learning module"),
            (by_name.get("Back Office", by_name["Off Queue Work"]), "Back office"),
        ]


def _shift_activities(
    roll: int, length: int, codes: _Codes, prefer_lunch: bool
) -> list[tuple[int, int, OrgActivityCode, str]]:
    """(offset, minutes, code, description) tiling [0, length): breaks, meal, maybe one extra block,
    On Queue Work in every gap."""
    blocks: list[tuple[int, int, OrgActivityCode, str]] = []
    break1 = 105 + 15 * (roll % 3)  # ~2 h in
    meal = 225 + 15 * ((roll >> 4) % 3)  # ~4 h in
    break2 = 375 + 15 * ((roll >> 8) % 3)  # ~6.5 h in
    coffee = (roll >> 12) % 4 == 0
    blocks.append((break1, 15, codes.coffee if coffee else codes.break_, ""))
    blocks.append((meal, 30, codes.lunch if prefer_lunch else codes.meal, ""))
    if (roll >> 16) % 100 < 40:  # an extra block on ~40 % of days
        code, text = codes.extras[(roll >> 24) % len(codes.extras)]
        minutes = 30 + 15 * ((roll >> 28) % 3)
        start = meal + 30 + 15 * ((roll >> 32) % 2)
        blocks.append((start, minutes, code, text))
    blocks.append((break2, 15, codes.break_, ""))
    tiled: list[tuple[int, int, OrgActivityCode, str]] = []
    cursor = 0
    for start, minutes, code, text in blocks:
        if start > cursor:
            tiled.append((cursor, start - cursor, codes.on_queue, ""))
        tiled.append((start, minutes, code, text))
        cursor = start + minutes
    tiled.append((cursor, length - cursor, codes.on_queue, ""))
    return tiled


def _login(
    seed: int, index: int, day: date, start: datetime, minutes: int, no_shows: float
) -> OrgLogin | None:
    """The agent logs in 5-20 min before `start` and out 0-15 min after its end, or, on a share
    `no_shows` of days, not at all (seeded per agent and day)."""
    roll = _draw(seed, "login", index, day.toordinal())
    if roll % 10_000 < no_shows * 10_000:
        return None
    early, late = 5 + (roll >> 16) % 16, (roll >> 24) % 16
    return OrgLogin(agent_id(index), start - _MINUTES[early], start + _MINUTES[minutes + late])


def generate_org(
    agents: int = 200,
    seed: int = 1,
    start: date | None = None,
    days: int = 3,
    *,
    no_shows: float = DEFAULT_NO_SHOWS,
    always_logged_in: bool = False,
) -> Org:
    """A demo org with `agents` agents and published schedules for local dates start..start+days-1.

    Agents log in shortly before each shift and out after it (`_login`); `always_logged_in`
    instead keeps every agent logged in all the time (Org.logins None)."""
    if agents < 0 or days < 0:
        raise ValueError("agents and days must be >= 0")
    if not 0.0 <= no_shows <= 1.0:
        raise ValueError("no_shows must be a share between 0 and 1")
    if start is None:
        start = datetime.now(UTC).date() - timedelta(days=1)
    presences = system_presence_definitions() + secondary_presence_definitions()
    secondaries = {p.labels["en_US"]: p.id for p in presences if p.type == "User"}
    groups = {name: stable_id(f"group:{name}") for name in GROUP_NAMES}
    org = Org(
        id=stable_id(f"org:{ORG_NAME}"),
        name=ORG_NAME,
        groups=[OrgGroup(id=gid, name=name) for name, gid in groups.items()],
        presence_definitions=presences,
    )
    codes_by_bu: dict[str, _Codes] = {}
    bu_of_mu: dict[str, OrgBusinessUnit] = {}
    for bu_name, bu_zone, mu_specs in BUSINESS_UNITS:
        bu = OrgBusinessUnit(id=stable_id(f"businessunit:{bu_name}"), name=bu_name, time_zone=bu_zone)
        org.business_units.append(bu)
        bu_codes = activity_codes_for(bu, secondaries)
        org.activity_codes += bu_codes
        codes_by_bu[bu.id] = _Codes(bu_codes)
        for mu_name, mu_zone in mu_specs:
            mu = OrgManagementUnit(
                id=stable_id(f"managementunit:{mu_name}"),
                name=mu_name,
                business_unit_id=bu.id,
                time_zone=mu_zone,
            )
            org.management_units.append(mu)
            bu_of_mu[mu.id] = bu
    mus = org.management_units
    mu_by_id = {mu.id: mu for mu in mus}
    night_group = groups["Night Shift"]
    dates = [start + timedelta(days=d) for d in range(days)]
    logins: list[OrgLogin | None] = []
    for index in range(agents):
        agent = _agent(index, seed, mus, groups)
        org.agents.append(agent)
        if agent.management_unit_id is None:
            for day in dates:
                if day.weekday() < 5:
                    office = _local_to_utc(OFFICE_ZONE, day, OFFICE_START_MINUTE)
                    logins.append(_login(seed, index, day, office, OFFICE_MINUTES, no_shows))
            continue
        mu = mu_by_id[agent.management_unit_id]
        bu = bu_of_mu[mu.id]
        codes = codes_by_bu[bu.id]
        profile = _draw(seed, "profile", index)
        works_weekends = profile % 100 < 10  # they rest Tuesday and Wednesday instead
        prefer_lunch = (profile >> 8) % 2 == 0
        night = night_group in agent.group_ids
        shifts: list[OrgShift] = []
        for day in dates:
            off_days = (1, 2) if works_weekends else (5, 6)
            if day.weekday() in off_days:
                continue
            roll = _draw(seed, "day", index, day.toordinal())
            if roll % 100 < 3:
                org.time_off.append(
                    OrgTimeOff(agent_id=agent.id, business_unit_date=day, activity_code_id=TIME_OFF_CODE)
                )
                continue
            roll >>= 8
            start_minute = 22 * 60 if night else 6 * 60 + 15 * (roll % 33)
            length = 480 + 30 * ((roll >> 8) % 3)
            shift_start = _local_to_utc(mu.time_zone, day, start_minute)
            activities = [
                OrgActivity(
                    start=shift_start + _MINUTES[offset],
                    length_minutes=minutes,
                    activity_code_id=code.id,
                    description=text,
                    paid=code.counts_as_paid_time,
                )
                for offset, minutes, code, text in _shift_activities(roll >> 16, length, codes, prefer_lunch)
            ]
            logins.append(_login(seed, index, day, shift_start, length, no_shows))
            week = week_start(day)
            shifts.append(
                OrgShift(
                    id=stable_id(f"shift:{agent.id}:{day.isoformat()}"),
                    agent_id=agent.id,
                    start=shift_start,
                    length_minutes=length,
                    activities=activities,
                    schedule_id=schedule_id(bu.name, week),
                    week_date=week,
                )
            )
        org.shifts[agent.id] = shifts
    org.logins = None if always_logged_in else [s for s in logins if s is not None]
    return org
