"""Adherence figures: hand-computed fixture days (through the recorder and the SQLite store) and
properties of the pure computation (seconds add up, percentages bounded, splitting is exact)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.adherence.compute import (
    ZERO,
    AgentAdherence,
    ObservedSpan,
    agent_adherence,
    check_range,
    local_days,
    total,
)
from controller.adherence.recorder import TimelineRecorder
from controller.adherence.store import TimelineStore
from controller.core.domain import ActivityCategory, AgentSchedule
from controller.core.presence import RoutingStatus, SystemPresence
from controller.model.types import PresencePolicy, ScheduleFollowing, Weekday
from tests.adherence.fixture_day import (
    AGENT,
    DAY,
    FOLLOWS,
    NY,
    SCHEDULE,
    Clock,
    fixture_figures,
    local,
    record_fixture_day,
    seen,
)
from tests.core.builders import CATALOG, CODES, SYS, policy, tgt, window
from tests.core.strategies import policies, schedules


def seconds(t: timedelta) -> float:
    return t.total_seconds()


def test_fixture_day_gives_the_hand_computed_seconds_and_percentages(tmp_path: Path) -> None:
    f = fixture_figures(tmp_path)
    assert seconds(f.scheduled) == 8 * 3600
    assert {k: seconds(v) for k, v in f.scheduled_by_category.items()} == {
        ActivityCategory.ON_QUEUE_WORK: 7.25 * 3600,
        ActivityCategory.BREAK: 900,
        ActivityCategory.MEAL: 1800,
    }
    assert seconds(f.unknown) == 1800  # 14:00-14:30, the daemon was not running
    assert seconds(f.out_of_adherence) == 420 + 600 + 30  # late start, overlong break, Busy
    assert seconds(f.in_adherence) == 28800 - 1800 - 1050
    assert f.adherence_percent == pytest.approx(100 * 25950 / 27000)
    # On Queue 08:07-10:00, 10:25-12:00, 12:30-14:00, 14:30-14:40, 14:40:30-16:00
    assert seconds(f.on_queue_actual) == 6780 + 5700 + 5400 + 600 + 4770
    assert seconds(f.on_queue_unknown) == 1800
    assert f.conformance_percent == pytest.approx(100 * 23250 / (26100 - 1800))


def test_fixture_day_lists_the_exceptions_longer_than_a_minute(tmp_path: Path) -> None:
    f = fixture_figures(tmp_path)
    got = [(e.start, e.end, e.scheduled, e.actual, e.routing_status, e.impact) for e in f.exceptions]
    assert got == [
        (local(8), local(8, 7), "On Queue", SystemPresence.AVAILABLE, RoutingStatus.OFF_QUEUE, "Negative"),
        (local(10, 15), local(10, 25), "On Queue", SystemPresence.BREAK, RoutingStatus.OFF_QUEUE, "Negative"),
    ]
    short = agent_adherence(
        FOLLOWS, AGENT, SCHEDULE, CODES, CATALOG, [], f.start, f.end, threshold=timedelta(seconds=1)
    )
    assert short.exceptions == () and short.unknown == short.scheduled  # nothing observed: all unknown


def test_the_store_records_only_changes_and_their_sources(tmp_path: Path) -> None:
    store = TimelineStore(tmp_path / "adherence.sqlite")
    record_fixture_day(store)
    changes = store.changes(AGENT.id)
    assert [(c.start, c.source) for c in changes][:3] == [
        (local(7), "read"),  # first observation: from when we saw it, not from its modified date
        (local(8, 7), "read"),  # a later change: from the platform's modified date
        (local(10), "stream"),
    ]
    assert len(changes) == 10 and store.schema_version == 2


def test_a_batch_the_database_refuses_waits_and_never_breaks_the_caller(tmp_path: Path) -> None:
    store = TimelineStore(tmp_path / "adherence.sqlite")
    recorder = TimelineRecorder(store, Clock(local(9)))
    recorder.observe([seen(SystemPresence.ON_QUEUE, local(8))], "read")
    store.close()  # as a full disk would, every write now fails
    assert recorder.flush() is False
    reopened = TimelineStore(tmp_path / "adherence.sqlite")
    recorder.store = reopened
    assert recorder.flush() is True and [c.start for c in reopened.changes(AGENT.id)] == [local(9)]


def test_a_dst_day_has_25_hours_and_a_window_is_the_schedule() -> None:
    """2026-11-01, New York falls back at 02:00 EDT: the local day lasts 25 h and a Sunday window
    00:00-04:00 On Queue lasts 5 h; Available 01:30-02:30 EST... is one hour out of adherence."""
    sunday = date(2026, 11, 1)
    ((_, start, end),) = local_days(sunday, sunday, NY)
    assert end - start == timedelta(hours=25)
    windows_policy = policy(tz=NY, windows=(window("00:00", "04:00", "On Queue", frozenset({Weekday.SUN})),))
    t0 = datetime(2026, 11, 1, 4, tzinfo=UTC)  # 00:00 EDT
    on_queue = (SYS[SystemPresence.ON_QUEUE], SystemPresence.ON_QUEUE, RoutingStatus.IDLE)
    available = (SYS[SystemPresence.AVAILABLE], SystemPresence.AVAILABLE, RoutingStatus.OFF_QUEUE)
    spans = [
        ObservedSpan(t0, t0 + timedelta(hours=1.5), *on_queue),  # until 01:30 EDT
        ObservedSpan(t0 + timedelta(hours=1.5), t0 + timedelta(hours=2.5), *available),  # 01:30 EDT-01:30 EST
        ObservedSpan(t0 + timedelta(hours=2.5), end, *on_queue),
    ]
    f = agent_adherence(windows_policy, AGENT, None, CODES, CATALOG, spans, start, end)
    assert seconds(f.scheduled) == 5 * 3600
    assert seconds(f.out_of_adherence) == 3600 and f.adherence_percent == pytest.approx(80.0)
    assert [(e.start, e.end) for e in f.exceptions] == [
        (t0 + timedelta(hours=1.5), t0 + timedelta(hours=2.5))
    ]


def test_no_opinion_and_off_shift_are_not_scheduled() -> None:
    ((_, start, end),) = local_days(DAY, DAY, NY)
    silent = policy(tz=NY)  # no schedule, no windows
    off_shift = policy(tz=NY, schedule=ScheduleFollowing(off_shift=tgt("Available")))
    assert agent_adherence(silent, AGENT, SCHEDULE, CODES, CATALOG, [], start, end).adherence_percent is None
    f = agent_adherence(off_shift, AGENT, SCHEDULE, CODES, CATALOG, [], start, end)
    assert seconds(f.scheduled) == 8 * 3600


def test_the_range_is_capped_at_31_days() -> None:
    assert check_range(date(2026, 11, 1), date(2026, 12, 1)) is None
    assert "32 days" in (check_range(date(2026, 11, 1), date(2026, 12, 2)) or "")
    assert "before" in (check_range(date(2026, 11, 2), date(2026, 11, 1)) or "")


# ---- properties ----

PRESENCE_ROWS = [(d.id, d.system_presence) for d in CATALOG.definitions if not d.deactivated]


@st.composite
def timelines(draw: st.DrawFn, start: datetime, end: datetime) -> list[ObservedSpan]:
    """Sorted, disjoint spans with gaps (unknown), on any second."""
    t = start - timedelta(seconds=draw(st.integers(0, 3600)))
    spans = []
    while t < end:
        t += timedelta(seconds=draw(st.sampled_from([0, 0, 0, 1, 600, 5400])))
        length = timedelta(seconds=draw(st.sampled_from([14400, 3600, 901, 600, 61, 59, 1])))
        pid, system = draw(st.sampled_from(PRESENCE_ROWS))
        spans.append(ObservedSpan(t, t + length, pid, system, draw(st.sampled_from(list(RoutingStatus)))))
        t += length
    return spans


@dataclass(frozen=True)
class Case:
    policy: PresencePolicy
    schedule: AgentSchedule | None
    start: datetime
    end: datetime
    spans: list[ObservedSpan]

    def figures(self, start: datetime, end: datetime) -> AgentAdherence:
        return agent_adherence(self.policy, AGENT, self.schedule, CODES, CATALOG, self.spans, start, end)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    around = datetime(2026, 11, 1, 6, tzinfo=UTC) + timedelta(minutes=draw(st.integers(-2880, 2880)))
    start = around - timedelta(hours=draw(st.integers(0, 30)))
    end = around + timedelta(hours=draw(st.integers(1, 30)))
    return Case(
        draw(policies(0, [AGENT], around)),
        draw(st.none() | schedules(AGENT.id, around)),
        start,
        end,
        draw(timelines(start, end)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_seconds_add_up_and_percentages_stay_bounded(case: Case) -> None:
    f = case.figures(case.start, case.end)
    assert f.in_adherence + f.out_of_adherence + f.unknown == f.scheduled
    assert sum(f.scheduled_by_category.values(), ZERO) == f.scheduled <= case.end - case.start
    assert f.on_queue_unknown <= f.unknown and f.on_queue_scheduled <= f.scheduled
    assert sum((e.duration for e in f.exceptions), ZERO) <= f.out_of_adherence
    if f.adherence_percent is not None:
        assert 0.0 <= f.adherence_percent <= 100.0
    if f.conformance_percent is not None:  # over 100 only when On Queue beyond the scheduled OnQueueWork
        assert f.conformance_percent >= 0.0
        if f.on_queue_actual <= f.on_queue_scheduled - f.on_queue_unknown:
            assert f.conformance_percent <= 100.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.floats(0.0, 1.0))
def test_splitting_a_range_never_changes_the_totals(case: Case, share: float) -> None:
    middle = case.start + (case.end - case.start) * share
    whole = case.figures(case.start, case.end)
    parts = total(
        [case.figures(case.start, middle), case.figures(middle, case.end)], case.start, case.end, AGENT.id
    )
    for name in ("scheduled", "in_adherence", "out_of_adherence", "unknown", "on_queue_scheduled"):
        assert getattr(parts, name) == getattr(whole, name), name
    assert parts.on_queue_actual == whole.on_queue_actual and parts.on_queue_unknown == whole.on_queue_unknown
    assert {k: v for k, v in parts.scheduled_by_category.items() if v} == {
        k: v for k, v in whole.scheduled_by_category.items() if v
    }
