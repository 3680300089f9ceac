"""Org files: round trip of the generated org, defaults for omitted sections, actionable errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.org import OrgTopicRejection, stable_id
from controller.emulator.orgfile import OrgFileError, dump_org, load_org, save_org
from controller.emulator.wfm import schedules

USER_ORG = """\
org: {name: Acme}
groups:
  - name: Tier 1
businessUnits:
  - name: Acme Care
    timeZone: Europe/Paris
    managementUnits:
      - {name: Paris}
agents:
  - {name: Ada Lovelace, email: ada@acme.example, groups: [Tier 1], managementUnit: Paris}
  - {name: Bob Outside, email: bob@acme.example}
schedules:
  - agent: ada@acme.example
    shifts:
      - start: 2026-11-24T09:00:00        # no offset: Paris wall-clock time
        activities:
          - {lengthMinutes: 120, activityCode: On Queue Work}
          - {lengthMinutes: 30, activityCode: Lunch}
          - {lengthMinutes: 90, activityCode: "0", description: Calls}
    timeOff:
      - {date: 2026-11-26}
"""


SCHEDULED = (
    "agents:\n  - {name: A, email: a@x, managementUnit: Support}\nschedules:\n  - agent: a@x\n    shifts:\n"
)


def _write(tmp_path: Path, text: str, name: str = "org.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip_of_generated_org(tmp_path: Path, suffix: str) -> None:
    generated = generate_org(agents=120, seed=3, start=date(2026, 10, 23), days=5)
    path = tmp_path / f"org{suffix}"
    save_org(generated, path)
    loaded = load_org(path)
    assert dump_org(loaded) == dump_org(generated)
    assert loaded == generated


def test_rejected_topics_resolve_emails_and_round_trip(tmp_path: Path) -> None:
    text = USER_ORG + (
        "rejectedTopics:\n"
        "  - {users: [bob@acme.example], client: presencectl-demo}\n"
        "  - {users: [ada@acme.example], missingPermissions: [directory:user:view]}\n"
    )
    org = load_org(_write(tmp_path, text))
    ada, bob = org.agents
    assert org.topic_rejections == [
        OrgTopicRejection([bob.id], "presencectl-demo", None),
        OrgTopicRejection([ada.id], None, ["directory:user:view"]),
    ]
    path = tmp_path / "again.json"
    save_org(org, path)
    assert load_org(path) == org


def test_dump_is_plain_json() -> None:
    document = dump_org(generate_org(agents=50, start=date(2026, 11, 23)))
    assert json.loads(json.dumps(document)) == document
    assert document["version"] == 1
    shift = document["schedules"][0]["shifts"][0]
    assert shift["start"].endswith(".000Z") and shift["schedule"]["weekDate"] == "2026-11-23"


def test_user_file_with_names_local_times_and_defaults(tmp_path: Path) -> None:
    org = load_org(_write(tmp_path, USER_ORG))
    assert org.name == "Acme" and org.id == stable_id("org:Acme")
    # Omitted presenceDefinitions: the ten primaries plus the demo secondaries.
    assert {p.id for p in org.presence_definitions if p.type == "System"} == set(
        WELL_KNOWN_DEFINITION_IDS.values()
    )
    assert any(p.labels == {"en_US": "Lunch"} for p in org.presence_definitions)
    assert [b.name for b in org.business_units] == ["Acme Care"]
    (mu,) = org.management_units
    assert mu.time_zone == "Europe/Paris"  # inherited from the business unit
    assert {c.id for c in org.activity_codes} >= {"0", "1", "2", "3", "4", "5", "6", "7"}
    ada, bob = org.agents
    assert ada.id == stable_id("agent:ada@acme.example") and ada.group_ids == [stable_id("group:Tier 1")]
    assert bob.management_unit_id is None and bob.id not in org.shifts
    (shift,) = org.shifts[ada.id]
    assert shift.start == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert shift.length_minutes == 240
    assert [a.start.hour for a in shift.activities] == [8, 10, 10]
    assert shift.activities[1].activity_code_id == stable_id("activitycode:Acme Care:Lunch")
    assert shift.activities[1].paid is False and shift.activities[2].description == "Calls"
    assert shift.week_date == date(2026, 11, 23)
    assert shift.schedule_id == stable_id("schedule:Acme Care:2026-11-23")
    (off,) = org.time_off
    assert (off.business_unit_date, off.activity_code_id, off.length_minutes) == (
        date(2026, 11, 26),
        "5",
        480,
    )
    # The loaded org serves the WFM API like a generated one.
    found = schedules.activity_at(org, ada.id, datetime(2026, 11, 24, 10, 15, tzinfo=UTC))
    assert found is not None and found[1].name == "Lunch"


def test_explicit_presences_keep_the_primaries(tmp_path: Path) -> None:
    text = """\
presenceDefinitions:
  - {label: Sick, systemPresence: Away}
  - {type: System, systemPresence: On Queue, id: my-onqueue}
businessUnits: []
"""
    org = load_org(_write(tmp_path, text))
    by_system = {p.system_presence: p.id for p in org.presence_definitions if p.type == "System"}
    assert len(by_system) == 10 and by_system[SystemPresence.ON_QUEUE] == "my-onqueue"
    assert [p.labels for p in org.presence_definitions if p.type == "User"] == [{"en_US": "Sick"}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agents:\n  - {name: A, email: 3}\n", "agents[0].email: 3 is not of type 'string'"),
        ("agents:\n  - {name: A, email: a@x, colour: red}\n", "agents[0]: Additional properties"),
        (
            "agents:\n  - {name: A, email: a@x, groups: [Nope]}\n",
            "agents[0].groups[0]: unknown group 'Nope' (known: Sales Agents",
        ),
        (
            "agents:\n  - {name: A, email: a@x, managementUnit: Mars}\n",
            "agents[0].managementUnit: unknown management unit 'Mars'",
        ),
        (
            "businessUnits:\n  - {name: B, timeZone: Mars/Olympus}\n",
            "businessUnits[0].timeZone: unknown time zone",
        ),
        (
            "presenceDefinitions:\n  - {label: X, systemPresence: Napping}\n",
            "presenceDefinitions[0].systemPresence: unknown system presence 'Napping'",
        ),
        ("schedules:\n  - {agent: ghost@x}\n", "schedules[0].agent: unknown agent 'ghost@x'"),
        (
            "agents:\n  - {name: A, email: a@x}\nschedules:\n  - {agent: a@x}\n",
            "schedules[0].agent: agent 'a@x' has no managementUnit",
        ),
        (
            SCHEDULED + "      - start: 2026-11-24T09:00:00Z\n"
            "        activities: [{lengthMinutes: 60, activityCode: Lnch}]\n",
            "schedules[0].shifts[0].activities[0].activityCode: unknown activity code 'Lnch' in "
            "business unit 'Customer Care'",
        ),
        (
            SCHEDULED
            + "      - start: tomorrow\n        activities: [{lengthMinutes: 60, activityCode: '0'}]\n",
            "schedules[0].shifts[0].start: 'tomorrow' is not an ISO-8601 date-time",
        ),
        (
            SCHEDULED
            + "      - {start: 2026-11-24T09:00:00Z, activities: [{lengthMinutes: 120, activityCode: '0'}]}\n"
            "      - {start: 2026-11-24T10:00:00Z, activities: [{lengthMinutes: 60, activityCode: '0'}]}\n",
            "schedules[0]: shifts of 'a@x' overlap at 2026-11-24T10:00:00.000Z",
        ),
        ("agents:\n  - {name: A, email: a@x}\n  - {name: B, email: A@X}\n", "agents: duplicate agent email"),
        ("agents: [unclosed\n", "not valid YAML"),
        ("rejectedTopics:\n  - {users: [ghost@x]}\n", "rejectedTopics[0].users[0]: unknown agent 'ghost@x'"),
        ("rejectedTopics:\n  - {users: []}\n", "rejectedTopics[0].users: [] should be non-empty"),
    ],
)
def test_errors_name_the_file_and_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(OrgFileError) as info:
        load_org(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_missing_file_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match="cannot read org file"):
        load_org(tmp_path / "absent.yaml")
    with pytest.raises(OrgFileError, match=r"org\.json: not valid JSON"):
        load_org(_write(tmp_path, "{", "org.json"))


def test_empty_file_is_the_default_org_without_agents(tmp_path: Path) -> None:
    org = load_org(_write(tmp_path, ""))
    generated = generate_org(agents=0, days=0)
    assert dump_org(org) == dump_org(generated)


def test_documented_example_loads(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).parents[2] / "docs" / "emulator-org.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert match is not None
    org = load_org(_write(tmp_path, match.group(1)))
    ada = next(a for a in org.agents if a.email == "ada@acme.example")
    assert [a.length_minutes for a in org.shifts[ada.id][0].activities] == [120, 30, 90]
    assert [t.business_unit_date for t in org.time_off] == [date(2026, 11, 26)]
