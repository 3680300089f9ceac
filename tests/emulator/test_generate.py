"""The generated demo org: stable facts the example desired/ relies on, determinism, realism."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.emulator.generate import generate_org
from controller.emulator.org import Org, agent_id, stable_id

START = date(2026, 11, 23)  # a Monday


def _org(agents: int = 200, seed: int = 1, start: date = START, days: int = 3) -> Org:
    return generate_org(agents=agents, seed=seed, start=start, days=days)


def test_stable_names_and_ids() -> None:
    org = _org(50)
    assert org.agents[0].id == agent_id(0) == stable_id("agent-0")
    assert org.agents[12].email == "agent00012@demo.example.com"
    assert {(b.name, b.time_zone) for b in org.business_units} == {
        ("Customer Care", "America/New_York"),
        ("EMEA Support", "Europe/London"),
    }
    bu_names = {b.id: b.name for b in org.business_units}
    assert {(m.name, m.time_zone, bu_names[m.business_unit_id]) for m in org.management_units} == {
        ("Inbound Sales", "America/New_York", "Customer Care"),
        ("Support", "America/Chicago", "Customer Care"),
        ("London Support", "Europe/London", "EMEA Support"),
    }
    assert {g.name for g in org.groups} == {"Sales Agents", "Support Agents", "EMEA Agents", "Night Shift"}
    assert next(g.id for g in org.groups if g.name == "Night Shift") == stable_id("group:Night Shift")


def test_presence_definitions() -> None:
    org = _org(50)
    system = {p.system_presence: p for p in org.presence_definitions if p.type == "System"}
    assert {p: d.id for p, d in system.items()} == WELL_KNOWN_DEFINITION_IDS
    assert system[SystemPresence.ON_QUEUE].labels == {"en_US": "On Queue"}
    user = {p.labels["en_US"]: p.system_presence for p in org.presence_definitions if p.type == "User"}
    assert user == {
        "Lunch": SystemPresence.MEAL,
        "Coffee Break": SystemPresence.BREAK,
        "Pre-Break": SystemPresence.BREAK,
        "Team Meeting": SystemPresence.MEETING,
        "Coaching": SystemPresence.MEETING,
        "E-Learning": SystemPresence.TRAINING,
        "Back Office": SystemPresence.BUSY,
        "Personal Time": SystemPresence.AWAY,
    }


def test_activity_codes_per_business_unit() -> None:
    org = _org(50)
    secondary = {p.id: p.labels["en_US"] for p in org.presence_definitions if p.type == "User"}
    for bu in org.business_units:
        codes = {c.id: c for c in org.activity_codes if c.business_unit_id == bu.id}
        defaults = {cid: (c.category, c.name) for cid, c in codes.items() if c.default_code}
        assert defaults == {
            "0": ("OnQueueWork", "On Queue Work"),
            "1": ("Break", "Break"),
            "2": ("Meal", "Meal"),
            "3": ("Meeting", "Meeting"),
            "4": ("Training", "Training"),
            "5": ("TimeOff", "Time Off"),
            "6": ("OffQueueWork", "Off Queue Work"),
            "7": ("Unavailable", "Unavailable"),
        }
        assert all(not codes[cid].secondary_presence_ids for cid in defaults)
        custom = {
            c.name: (c.id, c.category, [secondary[s] for s in c.secondary_presence_ids])
            for c in codes.values()
            if not c.default_code
        }
        assert custom == {
            "Lunch": (stable_id(f"activitycode:{bu.name}:Lunch"), "Meal", ["Lunch"]),
            "Coffee Break": (stable_id(f"activitycode:{bu.name}:Coffee Break"), "Break", ["Coffee Break"]),
            "Coaching": (stable_id(f"activitycode:{bu.name}:Coaching"), "Meeting", ["Coaching"]),
            "E-Learning": (stable_id(f"activitycode:{bu.name}:E-Learning"), "Training", ["E-Learning"]),
            "Back Office": (
                stable_id(f"activitycode:{bu.name}:Back Office"),
                "OffQueueWork",
                ["Back Office"],
            ),
        }


def test_deterministic_and_independent_of_size() -> None:
    small, large = _org(50), _org(500)
    assert small == _org(50)
    assert small.agents == large.agents[:50]
    seven = agent_id(7)
    assert small.shifts.get(seven) == large.shifts.get(seven)
    assert [t for t in small.time_off if t.agent_id == seven] == [
        t for t in large.time_off if t.agent_id == seven
    ]
    assert _org(50, seed=2).agents != small.agents


def test_every_agent_in_at_most_one_unit_and_some_outside_wfm() -> None:
    org = _org(1000)
    mu_ids = {m.id for m in org.management_units}
    without = [a for a in org.agents if a.management_unit_id is None]
    assert all(a.management_unit_id in mu_ids for a in org.agents if a.management_unit_id)
    assert 5 <= len(without) <= 60  # a few percent
    assert all(a.id not in org.shifts for a in without)
    per_mu = {m.id: sum(a.management_unit_id == m.id for a in org.agents) for m in org.management_units}
    assert min(per_mu.values()) > 150


def test_shifts_tile_exactly_and_look_like_a_published_schedule() -> None:
    org = _org(300, days=7)
    codes = {(c.business_unit_id, c.id): c for c in org.activity_codes}
    mus = {m.id: m for m in org.management_units}
    night = stable_id("group:Night Shift")
    counted = 0
    for agent in org.agents:
        if agent.management_unit_id is None:
            continue
        mu = mus[agent.management_unit_id]
        zone = ZoneInfo(mu.time_zone)
        for shift in org.shifts[agent.id]:
            counted += 1
            assert shift.start.tzinfo is UTC
            assert 480 <= shift.length_minutes <= 540
            cursor = shift.start
            categories = []
            for activity in shift.activities:
                assert activity.start == cursor and activity.length_minutes > 0
                cursor += timedelta(minutes=activity.length_minutes)
                code = codes[(mu.business_unit_id, activity.activity_code_id)]
                categories.append(code.category)
                assert activity.paid == code.counts_as_paid_time
            assert cursor == shift.start + timedelta(minutes=shift.length_minutes)
            assert categories.count("Break") == 2 and categories.count("Meal") == 1
            local = shift.start.astimezone(zone)
            if night in agent.group_ids:
                assert (local.hour, local.minute) == (22, 0)
            else:
                assert (
                    6 <= local.hour <= 14 and local.minute % 15 == 0 and local.hour * 60 + local.minute <= 840
                )
            assert (
                shift.week_date.weekday() == 0
                and shift.week_date <= local.date() < shift.week_date + timedelta(7)
            )
    assert counted > 300 * 4


def test_weekends_and_time_off_are_rare_but_present() -> None:
    org = _org(1000, days=7)
    weekend = sum(
        1
        for shifts in org.shifts.values()
        for s in shifts
        if s.start.astimezone(ZoneInfo("Europe/London")).weekday() >= 5
    )
    total = sum(len(s) for s in org.shifts.values())
    assert 0 < weekend < total * 0.1
    assert 0.01 < len(org.time_off) / (total + len(org.time_off)) < 0.06
    assert {t.activity_code_id for t in org.time_off} == {"5"}
    shift_days = {(s.agent_id, s.start.date()) for shifts in org.shifts.values() for s in shifts}
    assert len(shift_days) == total


def test_default_start_is_yesterday_utc() -> None:
    org = generate_org(agents=60, days=3)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    starts = [s.start for shifts in org.shifts.values() for s in shifts]
    assert min(starts).date() >= yesterday - timedelta(days=1)
    assert max(starts).date() <= yesterday + timedelta(days=3)


def test_dst_shifts_keep_local_wall_clock() -> None:
    # 2026-03-08 America/New_York springs forward; 2026-03-29 Europe/London.
    org = _org(400, start=date(2026, 3, 2), days=28)
    mus = {m.id: m for m in org.management_units}
    offsets: dict[str, set[int]] = {}
    for agent in org.agents:
        if agent.management_unit_id is None:
            continue
        zone = ZoneInfo(mus[agent.management_unit_id].time_zone)
        for shift in org.shifts[agent.id]:
            local = shift.start.astimezone(zone)
            assert local.minute % 15 == 0 and 6 <= local.hour <= 22
            offset = local.utcoffset()
            assert offset is not None
            offsets.setdefault(zone.key, set()).add(int(offset.total_seconds()) // 3600)
    assert offsets["America/New_York"] == {-5, -4}
    assert offsets["Europe/London"] == {0, 1}


def test_stable_id_is_uuid5_in_the_emulator_namespace() -> None:
    import uuid

    from controller.emulator.org import ORG_NAMESPACE

    for name in ("agent-0", "businessunit:Customer Care", "presence:Café ☕"):
        assert stable_id(name) == str(uuid.uuid5(ORG_NAMESPACE, name))


@given(
    seed=st.integers(min_value=0, max_value=2**31),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=1, max_value=4),
)
@settings(max_examples=25, deadline=None)
def test_any_seed_and_date_gives_tiled_local_shifts(seed: int, start: date, days: int) -> None:
    org = generate_org(agents=60, seed=seed, start=start, days=days)
    zones = {m.id: ZoneInfo(m.time_zone) for m in org.management_units}
    for agent in org.agents:
        for shift in org.shifts.get(agent.id, []):
            assert agent.management_unit_id is not None
            local = shift.start.astimezone(zones[agent.management_unit_id])
            assert start <= local.date() < start + timedelta(days=days)
            assert local.minute % 15 == 0 and (
                6 * 60 <= local.hour * 60 + local.minute <= 14 * 60 or local.hour == 22
            )
            ends = [a.start + timedelta(minutes=a.length_minutes) for a in shift.activities]
            assert [a.start for a in shift.activities[1:]] == ends[:-1]
            assert shift.activities[0].start == shift.start
            assert ends[-1] == shift.start + timedelta(minutes=shift.length_minutes)
