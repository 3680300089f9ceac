"""The one pair of UTC timestamp helpers (controller/core/timestamps.py) the client, the audit log
and its reader share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from controller.core.timestamps import iso, parse_iso


def test_iso_is_the_apis_form() -> None:
    assert iso(datetime(2025, 4, 15, tzinfo=UTC)) == "2025-04-15T00:00:00.000Z"
    east = timezone(timedelta(hours=2))
    assert iso(datetime(2025, 4, 15, 2, 0, 1, 987_654, tzinfo=east)) == "2025-04-15T00:00:01.987Z"


def test_parse_iso_takes_z_offsets_and_naive_as_utc() -> None:
    assert parse_iso("2025-04-15T00:00:00.000Z") == datetime(2025, 4, 15, tzinfo=UTC)
    assert parse_iso("2025-04-15T02:00:00+02:00") == datetime(2025, 4, 15, tzinfo=UTC)
    assert parse_iso("2025-04-15T00:00:00") == datetime(2025, 4, 15, tzinfo=UTC)
    assert parse_iso("2025-04-15T02:00:00+02:00").tzinfo is UTC


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_round_trip_to_the_millisecond(t: datetime) -> None:
    assert parse_iso(iso(t)) == t.replace(microsecond=t.microsecond // 1000 * 1000)
