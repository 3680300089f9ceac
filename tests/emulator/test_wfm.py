"""WFM and adherence JSON builders: exact shapes, range filtering, DST, adherence arithmetic."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, RoutingStatus, SystemPresence
from controller.emulator.core.clock import iso
from controller.emulator.generate import generate_org
from controller.emulator.org import Org, OrgActivity, OrgAgent, OrgShift, OrgTimeOff, agent_id, stable_id
from controller.emulator.wfm import schedules, serialize

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CC = stable_id("businessunit:Customer Care")
EMEA = stable_id("businessunit:EMEA Support")
SALES = stable_id("managementunit:Inbound Sales")
LUNCH_CODE = stable_id("activitycode:Customer Care:Lunch")
LUNCH = stable_id("presence:Lunch")
COFFEE = stable_id("presence:Coffee Break")
ON_QUEUE = WELL_KNOWN_DEFINITION_IDS[SystemPresence.ON_QUEUE]
BREAK = WELL_KNOWN_DEFINITION_IDS[SystemPresence.BREAK]
OFFLINE = WELL_KNOWN_DEFINITION_IDS[SystemPresence.OFFLINE]
AVAILABLE = WELL_KNOWN_DEFINITION_IDS[SystemPresence.AVAILABLE]
MEAL = WELL_KNOWN_DEFINITION_IDS[SystemPresence.MEAL]
ALICE = "alice"
T9 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 09:00 New York


def _at(hour: int, minute: int = 0) -> datetime:
    return T9 + timedelta(hours=hour - 9, minutes=minute)


def hand_org() -> Org:
    """The generated org's units and codes, with one hand-scheduled agent in Inbound Sales:
    09:00-11:00 On Queue Work, 11:00-11:30 Lunch (pinned to the Lunch secondary), 11:30-11:45 Break,
    11:45-13:00 On Queue Work; full-day time off on 2026-11-26; and one agent outside WFM."""
    org = generate_org(agents=0, start=date(2026, 11, 24), days=0)
    org.agents.append(OrgAgent(ALICE, "Alice", "alice@x", "*", [], SALES))
    org.agents.append(OrgAgent("nobody", "Nobody", "nobody@x", "*", [], None))
    plan = [(120, "0", True), (30, LUNCH_CODE, False), (15, "1", True), (75, "0", True)]
    activities, cursor = [], T9
    for minutes, code, paid in plan:
        activities.append(OrgActivity(cursor, minutes, code, "", paid))
        cursor += timedelta(minutes=minutes)
    week = date(2026, 11, 23)
    org.shifts[ALICE] = [OrgShift("s1", ALICE, T9, 240, activities, "sched", week)]
    org.time_off.append(OrgTimeOff(ALICE, date(2026, 11, 26), "5", 480, "Vacation"))
    return org


def test_business_and_management_unit_listings() -> None:
    org = hand_org()
    assert serialize.business_units_listing(org) == {
        "entities": [
            {"id": CC, "name": "Customer Care", "selfUri": f"/api/v2/workforcemanagement/businessunits/{CC}"},
            {
                "id": EMEA,
                "name": "EMEA Support",
                "selfUri": f"/api/v2/workforcemanagement/businessunits/{EMEA}",
            },
        ]
    }
    listing: Any = serialize.management_units_listing(org, CC)["entities"]
    assert isinstance(listing, list)
    assert [e["name"] for e in listing] == ["Inbound Sales", "Support"]
    assert set(listing[0]) == {"id", "name", "selfUri"}
    assert serialize.management_units_listing(org, "unknown") == {"entities": []}


def test_agent_management_unit() -> None:
    org = hand_org()
    assert serialize.agent_management_unit(org, ALICE) == {
        "user": {"id": ALICE, "selfUri": "/api/v2/users/alice"},
        "managementUnit": {"id": SALES, "selfUri": f"/api/v2/workforcemanagement/managementunits/{SALES}"},
        "businessUnit": {"id": CC, "selfUri": f"/api/v2/workforcemanagement/businessunits/{CC}"},
    }
    assert serialize.agent_management_unit(org, "nobody") is None
    assert serialize.agent_management_unit(org, "no-such-user") is None


def test_activity_codes_listing() -> None:
    entities: Any = serialize.activity_codes_listing(hand_org(), CC)["entities"]
    assert isinstance(entities, list) and len(entities) == 13
    lunch = next(e for e in entities if e["id"] == LUNCH_CODE)
    assert lunch == {
        "id": LUNCH_CODE,
        "name": "Lunch",
        "active": True,
        "defaultCode": False,
        "category": "Meal",
        "lengthInMinutes": 0,
        "countsAsPaidTime": False,
        "countsAsWorkTime": False,
        "secondaryPresences": [{"id": LUNCH}],
        "metadata": {"version": 1},
        "selfUri": f"/api/v2/workforcemanagement/businessunits/{CC}/activitycodes/{LUNCH_CODE}",
    }
    assert next(e for e in entities if e["id"] == "0")["secondaryPresences"] == []


def test_schedule_search_shape() -> None:
    result: Any = serialize.schedule_search_result(hand_org(), CC, [ALICE], _at(0), _at(23))
    assert result["businessUnitTimeZone"] == "America/New_York"
    assert result["publishedSchedules"] == [
        {
            "id": "sched",
            "weekDate": "2026-11-23",
            "weekCount": 1,
            "selfUri": f"/api/v2/workforcemanagement/businessunits/{CC}/weeks/2026-11-23/schedules/sched",
        }
    ]
    (agent,) = result["agentSchedules"]
    assert agent["user"] == {"id": ALICE, "selfUri": "/api/v2/users/alice"}
    assert agent["fullDayTimeOffMarkers"] == []
    (shift,) = agent["shifts"]
    assert set(shift) == {"id", "startDate", "lengthMinutes", "activities", "manuallyEdited", "schedule"}
    assert shift["startDate"] == "2026-11-24T14:00:00.000Z" and shift["lengthMinutes"] == 240
    assert shift["activities"][1] == {
        "startDate": "2026-11-24T16:00:00.000Z",
        "lengthMinutes": 30,
        "description": "",
        "activityCodeId": LUNCH_CODE,
        "paid": False,
        "payableMinutes": 0,
    }
    assert shift["activities"][0]["payableMinutes"] == 120


@pytest.mark.parametrize(
    ("start", "end", "found"),
    [
        (_at(12), _at(12, 1), True),  # inside
        (_at(8), _at(9, 1), True),  # overlaps the beginning
        (_at(12, 59), _at(20), True),  # overlaps the end
        (_at(13), _at(20), False),  # starts exactly at the shift end
        (_at(6), _at(9), False),  # ends exactly at the shift start
    ],
)
def test_schedule_search_includes_overlapping_shifts_only(
    start: datetime, end: datetime, found: bool
) -> None:
    result: Any = serialize.schedule_search_result(hand_org(), CC, None, start, end)
    (agent,) = result["agentSchedules"]
    assert agent["user"]["id"] == ALICE  # None = every WFM agent of the BU
    assert bool(agent["shifts"]) is found
    assert bool(result["publishedSchedules"]) is found


def test_schedule_search_filters_users_by_business_unit() -> None:
    org = hand_org()
    assert serialize.schedule_search_result(org, EMEA, [ALICE], _at(0), _at(23))["agentSchedules"] == []
    result: Any = serialize.schedule_search_result(org, CC, [ALICE, "nobody", "ghost"], _at(0), _at(23))
    assert [s["user"]["id"] for s in result["agentSchedules"]] == [ALICE]


def test_time_off_marker_covers_its_local_day() -> None:
    org = hand_org()
    midnight = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 00:00 New York (EST)
    inside: Any = serialize.schedule_search_result(
        org, CC, [ALICE], midnight + timedelta(hours=23), midnight + timedelta(hours=30)
    )
    assert inside["agentSchedules"][0]["fullDayTimeOffMarkers"] == [
        {
            "businessUnitDate": "2026-11-26",
            "lengthMinutes": 480,
            "description": "Vacation",
            "activityCodeId": "5",
            "paid": True,
            "payableMinutes": 480,
        }
    ]
    after: Any = serialize.schedule_search_result(
        org, CC, [ALICE], midnight + timedelta(hours=24), midnight + timedelta(hours=30)
    )
    assert after["agentSchedules"][0]["fullDayTimeOffMarkers"] == []
    found: Any = schedules.time_off_at(org, ALICE, midnight + timedelta(hours=12))
    assert found is not None and found[1].category == "TimeOff"
    assert schedules.time_off_at(org, ALICE, midnight - timedelta(seconds=1)) is None


@pytest.mark.parametrize(
    ("bu_name", "zone_day", "hours"),
    [("EMEA Support", date(2026, 10, 25), 25), ("Customer Care", date(2026, 11, 1), 25)],
)
def test_dst_day_lengths_and_weeks(bu_name: str, zone_day: date, hours: int) -> None:
    org = generate_org(agents=300, start=zone_day - timedelta(days=6), days=14)
    bu = next(b for b in org.business_units if b.name == bu_name)
    begin, end = schedules.time_off_span(bu, OrgTimeOff("x", zone_day, "5"))
    assert end - begin == timedelta(hours=hours)
    result: Any = serialize.schedule_search_result(
        org, bu.id, None, begin - timedelta(days=6), end + timedelta(days=7)
    )
    weeks = [p["weekDate"] for p in result["publishedSchedules"]]
    assert weeks == (["2026-10-19", "2026-10-26"] if zone_day.month == 10 else ["2026-10-26", "2026-11-02"])
    seen_offsets = set()
    for schedule in result["agentSchedules"]:
        units = org.business_unit_of(schedule["user"]["id"])
        assert units is not None
        zone = ZoneInfo(units[0].time_zone)
        for shift in schedule["shifts"]:
            assert ISO.match(shift["startDate"])
            local = datetime.fromisoformat(shift["startDate"]).astimezone(zone)
            assert local.minute % 15 == 0 and (6 <= local.hour <= 14 or local.hour == 22)
            seen_offsets.add(local.utcoffset())
            week = date.fromisoformat(shift["schedule"]["weekDate"])
            assert week.weekday() == 0 and week <= local.date() < week + timedelta(days=7)
    assert len(seen_offsets) >= 2  # shifts on both sides of the change


def test_activity_at() -> None:
    org = hand_org()
    found: Any = schedules.activity_at(org, ALICE, _at(11, 10))
    assert found is not None and found[1].name == "Lunch" and found[0].start == _at(11)
    assert schedules.activity_at(org, ALICE, _at(13)) is None  # end is exclusive
    assert schedules.activity_at(org, ALICE, _at(8, 59)) is None
    assert schedules.activity_at(org, "nobody", _at(10)) is None


def _rta(
    org: Org, now: datetime, presence: str, system: SystemPresence, modified: datetime
) -> dict[str, object]:
    routing = RoutingStatus.IDLE if system is SystemPresence.ON_QUEUE else RoutingStatus.OFF_QUEUE
    return serialize.realtime_adherence(org, ALICE, now, presence, system, routing, modified)


def test_realtime_adherence_shape() -> None:
    body = _rta(hand_org(), _at(10), ON_QUEUE, SystemPresence.ON_QUEUE, _at(8, 55))
    assert body == {
        "id": ALICE,
        "name": "Alice",
        "user": {"id": ALICE, "selfUri": "/api/v2/users/alice"},
        "businessUnit": {"id": CC, "selfUri": f"/api/v2/workforcemanagement/businessunits/{CC}"},
        "managementUnit": {"id": SALES, "selfUri": f"/api/v2/workforcemanagement/managementunits/{SALES}"},
        "scheduledActivityCategory": "OnQueueWork",
        "scheduledActivityCode": {"id": "0", "name": "On Queue Work", "secondaryPresences": []},
        "systemPresence": "OnQueue",
        "organizationSecondaryPresenceId": ON_QUEUE,
        "routingStatus": "IDLE",
        "actualActivityCategory": "OnQueueWork",
        "isOutOfOffice": False,
        "adherenceState": "InAdherence",
        "impact": "Neutral",
        "timeOfAdherenceChange": "2026-11-24T14:00:00.000Z",  # the shift start flipped it
        "presenceUpdateTime": "2026-11-24T13:55:00.000Z",
        "removedFromManagementUnit": False,
        "selfUri": "/api/v2/workforcemanagement/adherence?userId=alice",
    }


@pytest.mark.parametrize(
    ("now", "presence", "system", "state", "impact", "category"),
    [
        (_at(10), AVAILABLE, SystemPresence.AVAILABLE, "OutOfAdherence", "Negative", "OnQueueWork"),
        (_at(11, 5), LUNCH, SystemPresence.MEAL, "InAdherence", "Neutral", "Meal"),
        (_at(11, 5), MEAL, SystemPresence.MEAL, "OutOfAdherence", "Neutral", "Meal"),  # pinned to Lunch
        (_at(11, 5), ON_QUEUE, SystemPresence.ON_QUEUE, "OutOfAdherence", "Positive", "Meal"),
        (_at(11, 35), COFFEE, SystemPresence.BREAK, "InAdherence", "Neutral", "Break"),  # any Break secondary
        (_at(11, 35), BREAK, SystemPresence.BREAK, "InAdherence", "Neutral", "Break"),
        (_at(14), OFFLINE, SystemPresence.OFFLINE, "Unscheduled", "Neutral", "Unscheduled"),
        (_at(14), ON_QUEUE, SystemPresence.ON_QUEUE, "Unscheduled", "Positive", "Unscheduled"),
        (_at(2 * 24 + 10), OFFLINE, SystemPresence.OFFLINE, "InAdherence", "Neutral", "TimeOff"),
        (_at(2 * 24 + 10), AVAILABLE, SystemPresence.AVAILABLE, "OutOfAdherence", "Neutral", "TimeOff"),
    ],
)
def test_realtime_adherence_verdicts(
    now: datetime, presence: str, system: SystemPresence, state: str, impact: str, category: str
) -> None:
    body = _rta(hand_org(), now, presence, system, _at(8))
    assert (body["adherenceState"], body["impact"], body["scheduledActivityCategory"]) == (
        state,
        impact,
        category,
    )
    assert ("scheduledActivityCode" in body) is (category != "Unscheduled")


def test_time_of_adherence_change_walks_back_over_same_verdict() -> None:
    org = hand_org()
    # Available since 08:00: out of adherence since 09:00 through On Queue Work, Lunch (pinned),
    # Break, On Queue Work again: the change time stays at the shift start.
    body = _rta(org, _at(12), AVAILABLE, SystemPresence.AVAILABLE, _at(8))
    assert body["timeOfAdherenceChange"] == iso(_at(9))
    # On Queue since 08:00: in adherence until the Lunch started, out again from 11:00.
    assert _rta(org, _at(11, 40), ON_QUEUE, SystemPresence.ON_QUEUE, _at(8))["timeOfAdherenceChange"] == iso(
        _at(11)
    )
    # A presence change after the activity start wins.
    assert _rta(org, _at(10), ON_QUEUE, SystemPresence.ON_QUEUE, _at(9, 30))["timeOfAdherenceChange"] == iso(
        _at(9, 30)
    )


def test_historical_adherence_arithmetic() -> None:
    org = hand_org()
    history = {
        ALICE: [
            (_at(9, 10), ON_QUEUE, "IDLE"),  # 10 minutes late
            (_at(11), LUNCH, "OFF_QUEUE"),  # lunch on time
            (_at(11, 30), ON_QUEUE, "IDLE"),  # skipped the break: 15 min out, positive
            (_at(12, 30), AVAILABLE, "OFF_QUEUE"),  # left 30 min early
        ]
    }
    result: Any = serialize.historical_adherence_result(
        org, SALES, [ALICE, "nobody"], _at(8), _at(14), history
    )
    assert result["entityId"] == SALES
    (row,) = result["data"]
    # Scheduled 240 min; out: 10 (offline at start) + 15 (break on queue) + 30 (available) = 55.
    assert row["adherencePercentage"] == round(100 * 185 / 240, 2)
    # On queue 110 + 60 = 170 of 195 scheduled On Queue Work minutes.
    assert row["conformancePercentage"] == round(100 * 170 / 195, 2)
    assert row["impact"] == "Negative"  # 40 negative minutes against 15 positive
    assert (row["userId"], row["managementUnitId"], row["startDate"], row["endDate"]) == (
        ALICE,
        SALES,
        "2026-11-24T13:00:00.000Z",
        "2026-11-24T19:00:00.000Z",
    )
    spans = [
        (e["startOffsetSeconds"], e["endOffsetSeconds"], e["impact"], e["systemPresence"])
        for e in row["exceptionInfo"]
    ]
    assert spans == [
        (3600, 3600 + 600, "Negative", "Offline"),
        (3600 * 3 + 1800, 3600 * 3 + 2700, "Positive", "OnQueue"),
        (3600 * 4 + 1800, 3600 * 5, "Negative", "Available"),
    ]
    lookup = result["lookupIdToSecondaryPresenceId"]
    assert isinstance(lookup, dict)
    first = row["exceptionInfo"][0]
    assert lookup[first["secondaryPresenceLookupId"]] == OFFLINE
    assert set(first) == {
        "startOffsetSeconds",
        "endOffsetSeconds",
        "scheduledActivityCodeId",
        "scheduledActivityCategory",
        "actualActivityCategory",
        "systemPresence",
        "routingStatus",
        "impact",
        "secondaryPresenceLookupId",
        "scheduledSecondaryPresenceLookupIds",
    }


def test_historical_adherence_clips_to_range_and_counts_time_off() -> None:
    org = hand_org()
    perfect = {ALICE: [(_at(0), ON_QUEUE, "IDLE")]}
    # Range cut in the middle of the first On Queue Work block: fully adherent.
    result: Any = serialize.historical_adherence_result(org, SALES, None, _at(10), _at(10, 30), perfect)
    (row,) = result["data"]
    assert (row["adherencePercentage"], row["conformancePercentage"], row["exceptionInfo"]) == (
        100.0,
        100.0,
        [],
    )
    # The whole time-off day (24 h, New York): offline all day is 100 % adherent.
    day = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    off: Any = serialize.historical_adherence_result(
        org, SALES, [ALICE], day - timedelta(hours=1), day + timedelta(hours=25), {}
    )
    assert off["data"][0]["adherencePercentage"] == 100.0
    half = {ALICE: [(day + timedelta(hours=6), AVAILABLE, "OFF_QUEUE")]}
    late: Any = serialize.historical_adherence_result(
        org, SALES, [ALICE], day, day + timedelta(hours=24), half
    )
    assert late["data"][0]["adherencePercentage"] == 25.0


def test_generated_org_agent_schedule_round_trips_through_search() -> None:
    org = generate_org(agents=80, start=date(2026, 11, 23), days=3)
    user = agent_id(7)
    units = org.business_unit_of(user)
    assert units is not None
    result: Any = serialize.schedule_search_result(
        org, units[1].id, [user], datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC)
    )
    shifts = result["agentSchedules"][0]["shifts"]
    assert [s["id"] for s in shifts] == [s.id for s in org.shifts[user]]
    for shift in shifts:
        cursor = datetime.fromisoformat(shift["startDate"])
        for activity in shift["activities"]:
            assert datetime.fromisoformat(activity["startDate"]) == cursor
            found = schedules.activity_at(org, user, cursor)
            assert found is not None and found[0].activity_code_id == activity["activityCodeId"]
            cursor += timedelta(minutes=activity["lengthMinutes"])
        assert cursor == datetime.fromisoformat(shift["startDate"]) + timedelta(
            minutes=shift["lengthMinutes"]
        )


PRESENCES = [ON_QUEUE, BREAK, OFFLINE, AVAILABLE, MEAL, LUNCH, COFFEE]


@given(
    changes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=8 * 60), st.sampled_from(PRESENCES)), max_size=12
    ),
    window=st.tuples(st.integers(min_value=0, max_value=8 * 60), st.integers(min_value=1, max_value=8 * 60)),
)
@settings(max_examples=60, deadline=None)
def test_historical_adherence_equals_minute_by_minute_realtime_verdicts(
    changes: list[tuple[int, str]], window: tuple[int, int]
) -> None:
    """Exact interval arithmetic agrees with sampling the real-time verdict every minute (all
    boundaries fall on whole minutes, so sampling is exact)."""
    org = hand_org()
    base = _at(8)  # an hour before the shift, to an hour after; the range is any sub-window
    start = base + timedelta(minutes=window[0])
    end = start + timedelta(minutes=window[1])
    history = [
        (base + timedelta(minutes=m), pid, "OFF_QUEUE") for m, pid in sorted(changes, key=lambda c: c[0])
    ]
    systems = {p.id: p.system_presence for p in org.presence_definitions}
    scheduled = adhered = 0
    t = start
    while t < end:
        current = [h for h in history if h[0] <= t]
        pid = current[-1][1] if current else OFFLINE
        body = serialize.realtime_adherence(org, ALICE, t, pid, systems[pid], "OFF_QUEUE", base)
        if body["adherenceState"] != "Unscheduled":
            scheduled += 1
            adhered += body["adherenceState"] == "InAdherence"
        t += timedelta(minutes=1)
    result: Any = serialize.historical_adherence_result(org, SALES, [ALICE], start, end, {ALICE: history})
    row = result["data"][0]
    expected = round(100 * adhered / scheduled, 2) if scheduled else 100.0
    assert row["adherencePercentage"] == expected
    out_minutes = sum(e["endOffsetSeconds"] - e["startOffsetSeconds"] for e in row["exceptionInfo"]) / 60
    assert out_minutes == scheduled - adhered
