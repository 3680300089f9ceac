"""Org files: describe your own org to the emulator in YAML or JSON (format: docs/emulator-org.md).

`load_org` checks the structure with a JSON Schema (jsonschema gives precise paths for free), then
resolves names to ids (groups, management units, activity codes, presences), naming the file and
the entry on any error. Omitted sections fall back to the generated demo org's defaults; omitted
ids derive from names exactly as the generator derives them. `dump_org` writes the fully explicit
form, which loads back to an equal org.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, normalize_system_presence
from controller.emulator import generate
from controller.emulator.core.clock import iso
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
    OrgTopicRejection,
    logins_from_shifts,
    stable_id,
)
from controller.emulator.platform import SCHEMA as PLATFORM_SCHEMA
from controller.emulator.platform import PlatformOptions

FORMAT_VERSION = 1


class OrgFileError(ValueError):
    """A problem in an org file; the message names the file and the entry."""


_STR = {"type": "string", "minLength": 1}
_ID = {"type": "string", "minLength": 1}
_BOOL = {"type": "boolean"}
_MINUTES = {"type": "integer", "minimum": 1}


def _obj(required: list[str], **props: object) -> dict[str, object]:
    return {"type": "object", "required": required, "additionalProperties": False, "properties": props}


_ACTIVITY_CODE = _obj(
    ["name", "category"],
    id=_ID,
    name=_STR,
    category={
        "enum": [
            "OnQueueWork",
            "Break",
            "Meal",
            "Meeting",
            "OffQueueWork",
            "TimeOff",
            "Training",
            "Unavailable",
        ]
    },
    secondaryPresences={"type": "array", "items": _STR},
    lengthInMinutes={"type": "integer", "minimum": 0},
    countsAsPaidTime=_BOOL,
    countsAsWorkTime=_BOOL,
    active=_BOOL,
    defaultCode=_BOOL,
)
_ACTIVITY = _obj(
    ["lengthMinutes", "activityCode"],
    start=_STR,
    lengthMinutes=_MINUTES,
    activityCode=_STR,
    description={"type": "string"},
    paid=_BOOL,
)
_SHIFT = _obj(
    ["start", "activities"],
    id=_ID,
    start=_STR,
    lengthMinutes=_MINUTES,
    schedule=_obj([], id=_ID, weekDate=_STR),
    activities={"type": "array", "minItems": 1, "items": _ACTIVITY},
)
_TIME_OFF = _obj(
    ["date"],
    date=_STR,
    activityCode=_STR,
    lengthMinutes=_MINUTES,
    description={"type": "string"},
)

SCHEMA: dict[str, object] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "presencectl emulator org file",
    **_obj(
        [],
        version={"const": FORMAT_VERSION},
        org=_obj([], id=_ID, name=_STR),
        platform=PLATFORM_SCHEMA,
        presenceDefinitions={
            "type": "array",
            "items": _obj(
                ["systemPresence"],
                id=_ID,
                systemPresence=_STR,
                type={"enum": ["System", "User"]},
                label=_STR,
                labels={"type": "object", "additionalProperties": _STR},
                divisionId=_ID,
                deactivated=_BOOL,
            ),
        },
        groups={"type": "array", "items": _obj(["name"], id=_ID, name=_STR)},
        businessUnits={
            "type": "array",
            "items": _obj(
                ["name", "timeZone"],
                id=_ID,
                name=_STR,
                timeZone=_STR,
                managementUnits={"type": "array", "items": _obj(["name"], id=_ID, name=_STR, timeZone=_STR)},
                activityCodes={"type": "array", "items": _ACTIVITY_CODE},
            ),
        },
        agents={
            "type": "array",
            "items": _obj(
                ["name", "email"],
                id=_ID,
                name=_STR,
                email=_STR,
                divisionId=_ID,
                groups={"type": "array", "items": _STR},
                managementUnit={"type": ["string", "null"]},
                title={"type": "string"},
                department={"type": "string"},
            ),
        },
        schedules={
            "type": "array",
            "items": _obj(
                ["agent"],
                agent=_STR,
                shifts={"type": "array", "items": _SHIFT},
                timeOff={"type": "array", "items": _TIME_OFF},
            ),
        },
        rejectedTopics={
            "type": "array",
            "items": _obj(
                ["users"],
                users={"type": "array", "minItems": 1, "items": _STR},
                client=_STR,
                missingPermissions={"type": "array", "items": _STR},
            ),
        },
        logins={
            "oneOf": [
                {"const": "always"},
                {"type": "array", "items": _obj(["agent", "start", "end"], agent=_STR, start=_STR, end=_STR)},
            ]
        },
    ),
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings: the org file parses them itself (with zones)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _where(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OrgFileError(f"cannot read org file {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise OrgFileError(
            f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}"
        ) from None


def load_org(path: str | Path) -> Org:
    """Read an org file (.json, else YAML); raises OrgFileError naming the file and the bad entry."""
    path = Path(path)
    return org_from_dict(_read(path), source=str(path))


def org_from_dict(data: Any, source: str = "<org>") -> Org:
    if data is None:
        data = {}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    if error is not None:
        raise OrgFileError(f"{source}: {_where(list(error.absolute_path))}: {error.message}")
    return _Builder(source).build(data)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: list[str | int], message: str) -> OrgFileError:
        return OrgFileError(f"{self.source}: {_where(where)}: {message}")

    def build(self, data: Mapping[str, Any]) -> Org:
        meta = data.get("org", {})
        name = meta.get("name", generate.ORG_NAME)
        org = Org(id=meta.get("id", stable_id(f"org:{name}")), name=name)
        org.presence_definitions = self.presences(data)
        org.groups = self.groups(data)
        self.units(data, org)
        org.agents = self.agents(data, org)
        self.schedules(data, org)
        org.topic_rejections = self.rejected_topics(data, org)
        org.platform = PlatformOptions.from_dict(data.get("platform", {}))
        org.logins = self.logins(data, org)
        return org

    # presences, groups, units ------------------------------------------------------------------

    def presences(self, data: Mapping[str, Any]) -> list[OrgPresenceDefinition]:
        if "presenceDefinitions" not in data:
            return generate.system_presence_definitions() + generate.secondary_presence_definitions()
        given: list[OrgPresenceDefinition] = []
        for i, entry in enumerate(data["presenceDefinitions"]):
            where: list[str | int] = ["presenceDefinitions", i]
            try:
                system = normalize_system_presence(entry["systemPresence"])
            except ValueError as exc:
                raise self.fail([*where, "systemPresence"], str(exc)) from None
            kind = entry.get("type", "User")
            labels = dict(entry.get("labels", {}))
            if "label" in entry:
                labels["en_US"] = entry["label"]
            if kind == "System":
                labels = labels or {"en_US": system.label}
                default_id = WELL_KNOWN_DEFINITION_IDS[system]
            elif "en_US" not in labels:
                raise self.fail(where, "a secondary (type User) presence needs a label")
            else:
                default_id = stable_id(f"presence:{labels['en_US']}")
            given.append(
                OrgPresenceDefinition(
                    id=entry.get("id", default_id),
                    system_presence=system,
                    type=kind,
                    labels=labels,
                    division_id=entry.get("divisionId", "*"),
                    deactivated=entry.get("deactivated", False),
                )
            )
        # Every org has the ten primaries; add those the file leaves out, in their usual place.
        present = {p.system_presence for p in given if p.type == "System"}
        missing = [p for p in generate.system_presence_definitions() if p.system_presence not in present]
        self._unique([p.id for p in missing + given], "presenceDefinitions", "presence definition id")
        return missing + given

    def groups(self, data: Mapping[str, Any]) -> list[OrgGroup]:
        if "groups" not in data:
            return [OrgGroup(id=stable_id(f"group:{n}"), name=n) for n in generate.GROUP_NAMES]
        groups = [
            OrgGroup(id=g.get("id", stable_id(f"group:{g['name']}")), name=g["name"]) for g in data["groups"]
        ]
        self._unique([g.id for g in groups], "groups", "group id")
        return groups

    def units(self, data: Mapping[str, Any], org: Org) -> None:
        units = data.get("businessUnits")
        if units is None:
            units = [
                {
                    "name": bu,
                    "timeZone": zone,
                    "managementUnits": [{"name": m, "timeZone": z} for m, z in mus],
                }
                for bu, zone, mus in generate.BUSINESS_UNITS
            ]
        secondaries = {
            p.labels.get("en_US", p.id): p.id for p in org.presence_definitions if p.type == "User"
        }
        presence_ids = {p.id for p in org.presence_definitions}
        for i, entry in enumerate(units):
            where: list[str | int] = ["businessUnits", i]
            zone = self.zone(entry["timeZone"], [*where, "timeZone"])
            bu = OrgBusinessUnit(
                id=entry.get("id", stable_id(f"businessunit:{entry['name']}")),
                name=entry["name"],
                time_zone=zone,
            )
            org.business_units.append(bu)
            for j, mu in enumerate(entry.get("managementUnits", [])):
                org.management_units.append(
                    OrgManagementUnit(
                        id=mu.get("id", stable_id(f"managementunit:{mu['name']}")),
                        name=mu["name"],
                        business_unit_id=bu.id,
                        time_zone=self.zone(
                            mu.get("timeZone", zone), [*where, "managementUnits", j, "timeZone"]
                        ),
                    )
                )
            if "activityCodes" not in entry:
                org.activity_codes += generate.activity_codes_for(bu, secondaries)
                continue
            codes = []
            for j, code in enumerate(entry["activityCodes"]):
                pins = []
                for k, ref in enumerate(code.get("secondaryPresences", [])):
                    pid = ref if ref in presence_ids else secondaries.get(ref)
                    if pid is None:
                        raise self.fail(
                            [*where, "activityCodes", j, "secondaryPresences", k],
                            f"unknown secondary presence {ref!r} (known: {', '.join(sorted(secondaries))})",
                        )
                    pins.append(pid)
                category = code["category"]
                codes.append(
                    OrgActivityCode(
                        id=code.get("id", stable_id(f"activitycode:{bu.name}:{code['name']}")),
                        business_unit_id=bu.id,
                        name=code["name"],
                        category=category,
                        secondary_presence_ids=pins,
                        length_minutes=code.get("lengthInMinutes", 0),
                        counts_as_paid_time=code.get(
                            "countsAsPaidTime", category not in generate.UNPAID_CATEGORIES
                        ),
                        counts_as_work_time=code.get("countsAsWorkTime", True),
                        active=code.get("active", True),
                        default_code=code.get("defaultCode", False),
                    )
                )
            self._unique([c.id for c in codes], f"businessUnits[{i}].activityCodes", "activity code id")
            org.activity_codes += codes
        self._unique([b.id for b in org.business_units], "businessUnits", "business unit id")
        self._unique([m.id for m in org.management_units], "businessUnits", "management unit id")

    def zone(self, name: str, where: list[str | int]) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                where, f"unknown time zone {name!r} (use an IANA name like Europe/London)"
            ) from None
        return name

    # agents ------------------------------------------------------------------------------------

    def agents(self, data: Mapping[str, Any], org: Org) -> list[OrgAgent]:
        groups = self._lookup([(g.id, g.name) for g in org.groups])
        mus = self._lookup([(m.id, m.name) for m in org.management_units])
        agents = []
        for i, entry in enumerate(data.get("agents", [])):
            where: list[str | int] = ["agents", i]
            group_ids = []
            for k, ref in enumerate(entry.get("groups", [])):
                if ref not in groups:
                    raise self.fail(
                        [*where, "groups", k], f"unknown group {ref!r} (known: {self._names(org.groups)})"
                    )
                group_ids.append(groups[ref])
            mu_ref = entry.get("managementUnit")
            if mu_ref is not None and mu_ref not in mus:
                known = self._names(org.management_units)
                raise self.fail(
                    [*where, "managementUnit"], f"unknown management unit {mu_ref!r} (known: {known})"
                )
            agents.append(
                OrgAgent(
                    id=entry.get("id", stable_id(f"agent:{entry['email']}")),
                    name=entry["name"],
                    email=entry["email"],
                    division_id=entry.get("divisionId", generate.HOME_DIVISION_ID),
                    group_ids=group_ids,
                    management_unit_id=mus[mu_ref] if mu_ref is not None else None,
                    title=entry.get("title", "Agent"),
                    department=entry.get("department", "Contact Center"),
                )
            )
        self._unique([a.id for a in agents], "agents", "agent id")
        self._unique([a.email.casefold() for a in agents], "agents", "agent email")
        return agents

    def rejected_topics(self, data: Mapping[str, Any], org: Org) -> list[OrgTopicRejection]:
        agents = self._lookup([(a.id, a.email) for a in org.agents])
        rules = []
        for i, entry in enumerate(data.get("rejectedTopics", [])):
            user_ids = []
            for k, ref in enumerate(entry["users"]):
                if ref not in agents:
                    where: list[str | int] = ["rejectedTopics", i, "users", k]
                    raise self.fail(where, f"unknown agent {ref!r} (give an agent id or email)")
                user_ids.append(agents[ref])
            missing = entry.get("missingPermissions")
            permissions = list(missing) if missing is not None else None
            rules.append(OrgTopicRejection(user_ids, entry.get("client"), permissions))
        return rules

    # schedules ---------------------------------------------------------------------------------

    def schedules(self, data: Mapping[str, Any], org: Org) -> None:
        agents = self._lookup([(a.id, a.email) for a in org.agents])
        by_id = {a.id: a for a in org.agents}
        mus = {m.id: m for m in org.management_units}
        bus = {b.id: b for b in org.business_units}
        codes: dict[str, dict[str, OrgActivityCode]] = {}
        for code in org.activity_codes:
            codes.setdefault(code.business_unit_id, {}).setdefault(code.name, code)
            codes[code.business_unit_id][code.id] = code
        for agent in org.agents:
            if agent.management_unit_id is not None:
                org.shifts[agent.id] = []
        for i, entry in enumerate(data.get("schedules", [])):
            where: list[str | int] = ["schedules", i]
            ref = entry["agent"]
            if ref not in agents:
                raise self.fail([*where, "agent"], f"unknown agent {ref!r} (give an agent id or email)")
            agent = by_id[agents[ref]]
            if agent.management_unit_id is None:
                raise self.fail(
                    [*where, "agent"], f"agent {ref!r} has no managementUnit, so it cannot be scheduled"
                )
            mu = mus[agent.management_unit_id]
            bu = bus[mu.business_unit_id]
            bu_codes = codes.get(bu.id, {})
            for j, shift in enumerate(entry.get("shifts", [])):
                org.shifts[agent.id].append(self.shift(shift, [*where, "shifts", j], agent, mu, bu, bu_codes))
            for j, off in enumerate(entry.get("timeOff", [])):
                at: list[str | int] = [*where, "timeOff", j]
                default_code = next((c.id for c in bu_codes.values() if c.category == "TimeOff"), "5")
                code = self.code(off.get("activityCode", default_code), bu, bu_codes, [*at, "activityCode"])
                org.time_off.append(
                    OrgTimeOff(
                        agent_id=agent.id,
                        business_unit_date=self.date(off["date"], [*at, "date"]),
                        activity_code_id=code.id,
                        length_minutes=off.get("lengthMinutes", 480),
                        description=off.get("description", "Time off"),
                    )
                )
            shifts = org.shifts[agent.id]
            shifts.sort(key=lambda s: s.start)
            for previous, current in pairwise(shifts):
                if previous.start + timedelta(minutes=previous.length_minutes) > current.start:
                    raise self.fail(where, f"shifts of {ref!r} overlap at {iso(current.start)}")

    def logins(self, data: Mapping[str, Any], org: Org) -> list[OrgLogin] | None:
        """`always`: everyone logged in all the time; a list of spans; omitted: during shifts."""
        given = data.get("logins")
        if given is None:
            return logins_from_shifts(org.shifts)
        if given == "always":
            return None
        agents = self._lookup([(a.id, a.email) for a in org.agents])
        zones = {m.id: m.time_zone for m in org.management_units}
        spans = []
        for i, entry in enumerate(given):
            where: list[str | int] = ["logins", i]
            if entry["agent"] not in agents:
                raise self.fail(
                    [*where, "agent"], f"unknown agent {entry['agent']!r} (give an agent id or email)"
                )
            agent = org.index().agents[agents[entry["agent"]]]
            zone = ZoneInfo(zones.get(agent.management_unit_id or "", "UTC"))
            start = self.datetime(entry["start"], [*where, "start"], zone)
            end = self.datetime(entry["end"], [*where, "end"], zone)
            if end <= start:
                raise self.fail([*where, "end"], "a login must end after it starts")
            spans.append(OrgLogin(agent.id, start, end))
        return spans

    def shift(
        self,
        entry: Mapping[str, Any],
        where: list[str | int],
        agent: OrgAgent,
        mu: OrgManagementUnit,
        bu: OrgBusinessUnit,
        codes: Mapping[str, OrgActivityCode],
    ) -> OrgShift:
        zone = ZoneInfo(mu.time_zone)
        start = self.datetime(entry["start"], [*where, "start"], zone)
        activities = []
        cursor = start
        for k, item in enumerate(entry["activities"]):
            at: list[str | int] = [*where, "activities", k]
            begin = self.datetime(item["start"], [*at, "start"], zone) if "start" in item else cursor
            if begin < cursor:
                raise self.fail(
                    [*at, "start"],
                    f"starts at {iso(begin)}, before the previous activity ends ({iso(cursor)})",
                )
            code = self.code(item["activityCode"], bu, codes, [*at, "activityCode"])
            activities.append(
                OrgActivity(
                    start=begin,
                    length_minutes=item["lengthMinutes"],
                    activity_code_id=code.id,
                    description=item.get("description", ""),
                    paid=item.get("paid", code.counts_as_paid_time),
                )
            )
            cursor = begin + timedelta(minutes=item["lengthMinutes"])
        length = entry.get("lengthMinutes", int((cursor - start).total_seconds() // 60))
        if cursor > start + timedelta(minutes=length):
            raise self.fail(
                [*where, "lengthMinutes"], f"the activities run to {iso(cursor)}, past the shift end"
            )
        schedule = entry.get("schedule", {})
        week = (
            self.date(schedule["weekDate"], [*where, "schedule", "weekDate"])
            if "weekDate" in schedule
            else generate.week_start(start.astimezone(zone).date())
        )
        return OrgShift(
            id=entry.get("id", stable_id(f"shift:{agent.id}:{iso(start)}")),
            agent_id=agent.id,
            start=start,
            length_minutes=length,
            activities=activities,
            schedule_id=schedule.get("id", generate.schedule_id(bu.name, week)),
            week_date=week,
        )

    def code(
        self, ref: str, bu: OrgBusinessUnit, codes: Mapping[str, OrgActivityCode], where: list[str | int]
    ) -> OrgActivityCode:
        if ref not in codes:
            known = ", ".join(sorted({c.name for c in codes.values()}))
            raise self.fail(
                where, f"unknown activity code {ref!r} in business unit {bu.name!r} (known: {known})"
            )
        return codes[ref]

    def datetime(self, text: str, where: list[str | int], zone: ZoneInfo) -> datetime:
        """ISO-8601; without an offset it is wall-clock time in the agent's management unit."""
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(
                where, f"{text!r} is not an ISO-8601 date-time (e.g. 2026-11-24T09:00:00Z)"
            ) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)

    def date(self, text: str, where: list[str | int]) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(where, f"{text!r} is not a yyyy-MM-dd date") from None

    # helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _lookup(pairs: list[tuple[str, str]]) -> dict[str, str]:
        """id -> id and name -> id (ids win over a name that happens to equal another's id)."""
        table = {name: entity_id for entity_id, name in pairs}
        table.update({entity_id: entity_id for entity_id, _ in pairs})
        return table

    @staticmethod
    def _names(entities: list[OrgGroup] | list[OrgManagementUnit]) -> str:
        return ", ".join(e.name for e in entities) or "none defined"

    def _unique(self, ids: list[str], where: str, what: str) -> None:
        seen: set[str] = set()
        for value in ids:
            if value in seen:
                raise OrgFileError(f"{self.source}: {where}: duplicate {what} {value!r}")
            seen.add(value)


def dump_org(org: Org) -> dict[str, Any]:
    """The org as a fully explicit org-file document (every id written, times in UTC)."""
    codes_by_bu: dict[str, list[OrgActivityCode]] = {}
    for code in org.activity_codes:
        codes_by_bu.setdefault(code.business_unit_id, []).append(code)
    time_off: dict[str, list[OrgTimeOff]] = {}
    for marker in org.time_off:
        time_off.setdefault(marker.agent_id, []).append(marker)
    schedules = []
    for agent in org.agents:
        shifts, offs = org.shifts.get(agent.id, []), time_off.get(agent.id, [])
        if not shifts and not offs:
            continue
        entry: dict[str, Any] = {"agent": agent.id}
        if shifts:
            entry["shifts"] = [_dump_shift(s) for s in shifts]
        if offs:
            entry["timeOff"] = [
                {
                    "date": t.business_unit_date.isoformat(),
                    "activityCode": t.activity_code_id,
                    "lengthMinutes": t.length_minutes,
                    "description": t.description,
                }
                for t in offs
            ]
        schedules.append(entry)
    return {
        "version": FORMAT_VERSION,
        "org": {"id": org.id, "name": org.name},
        "platform": org.platform.to_dict(),
        "presenceDefinitions": [
            {
                "id": p.id,
                "systemPresence": p.system_presence.value,
                "type": p.type,
                "labels": dict(p.labels),
                "divisionId": p.division_id,
                "deactivated": p.deactivated,
            }
            for p in org.presence_definitions
        ],
        "groups": [{"id": g.id, "name": g.name} for g in org.groups],
        "businessUnits": [
            {
                "id": bu.id,
                "name": bu.name,
                "timeZone": bu.time_zone,
                "managementUnits": [
                    {"id": m.id, "name": m.name, "timeZone": m.time_zone}
                    for m in org.management_units
                    if m.business_unit_id == bu.id
                ],
                "activityCodes": [_dump_code(c) for c in codes_by_bu.get(bu.id, [])],
            }
            for bu in org.business_units
        ],
        "agents": [
            {
                "id": a.id,
                "name": a.name,
                "email": a.email,
                "divisionId": a.division_id,
                "groups": list(a.group_ids),
                "managementUnit": a.management_unit_id,
                "title": a.title,
                "department": a.department,
            }
            for a in org.agents
        ],
        "schedules": schedules,
        "rejectedTopics": [_dump_rejection(r) for r in org.topic_rejections],
        "logins": "always"
        if org.logins is None
        else [{"agent": s.agent_id, "start": iso(s.start), "end": iso(s.end)} for s in org.logins],
    }


def _dump_rejection(rule: OrgTopicRejection) -> dict[str, Any]:
    entry: dict[str, Any] = {"users": list(rule.user_ids)}
    if rule.client_id is not None:
        entry["client"] = rule.client_id
    if rule.missing_permissions is not None:
        entry["missingPermissions"] = list(rule.missing_permissions)
    return entry


def _dump_code(code: OrgActivityCode) -> dict[str, Any]:
    return {
        "id": code.id,
        "name": code.name,
        "category": code.category,
        "secondaryPresences": list(code.secondary_presence_ids),
        "lengthInMinutes": code.length_minutes,
        "countsAsPaidTime": code.counts_as_paid_time,
        "countsAsWorkTime": code.counts_as_work_time,
        "active": code.active,
        "defaultCode": code.default_code,
    }


def _dump_shift(shift: OrgShift) -> dict[str, Any]:
    return {
        "id": shift.id,
        "start": iso(shift.start),
        "lengthMinutes": shift.length_minutes,
        "schedule": {"id": shift.schedule_id, "weekDate": shift.week_date.isoformat()},
        "activities": [
            {
                "start": iso(a.start),
                "lengthMinutes": a.length_minutes,
                "activityCode": a.activity_code_id,
                "description": a.description,
                "paid": a.paid,
            }
            for a in shift.activities
        ],
    }


def save_org(org: Org, path: str | Path) -> None:
    """Write the org to `path`: JSON for a .json suffix, else YAML."""
    path = Path(path)
    document = dump_org(org)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
