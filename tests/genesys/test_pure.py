"""Pure parts of the client: budget arithmetic, backoff, config resolution, error parsing, paging,
JSON parsing. An injected clock replaces waiting."""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.cli import add_connection_options
from controller.commands.connection import config_from_args
from controller.core.presence import RoutingStatus, SystemPresence
from controller.genesys.budget import RateBudget
from controller.genesys.config import REGIONS, ClientConfig, ConfigError, login_base_for
from controller.genesys.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GenesysError,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    error_from_response,
    parse_retry_after,
)
from controller.genesys.models import (
    observed_from,
    parse_presence_definition,
    parse_schedule_result,
    parse_user_presence,
)
from controller.genesys.paging import PagingError, iter_cursor, iter_page_numbers
from controller.genesys.transport import Backoff, encode_params, fill_route
from controller.log import register_secret, scrub
from tests.support.clock import FakeClock

# ---- budget -------------------------------------------------------------------------------------


def sends_in_window(times: list[float], window: float = 60.0) -> int:
    """The most sends inside any window of `window` seconds."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.mark.parametrize("rate", [1, 7, 60, 300, 3000])
def test_budget_never_exceeds_rate_in_any_minute(rate: int) -> None:
    clock = FakeClock()
    budget = RateBudget(rate, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(rate * 3 + 5):
        budget.acquire()
        times.append(clock.now)
    assert sends_in_window(times) <= rate
    # and it is not needlessly slow: 3 minutes of traffic takes about 3 minutes
    assert times[-1] - times[0] <= 60.0 * (3 * rate + 5) / max(rate - max(1, rate // 20), 1) + 1


@given(st.integers(min_value=2, max_value=1000), st.lists(st.floats(0, 30), max_size=40))
@settings(max_examples=60, deadline=None)
def test_budget_window_property_with_idle_gaps(rate: int, gaps: list[float]) -> None:
    clock = FakeClock()
    budget = RateBudget(rate, clock=clock, sleep=clock.sleep)
    times = []
    for gap in gaps:
        clock.now += gap
        for _ in range(rate // 4 + 1):
            budget.acquire()
            times.append(clock.now)
    assert sends_in_window(times) <= rate


def test_slow_down_pauses_everyone_then_recovers() -> None:
    clock = FakeClock()
    budget = RateBudget(600, clock=clock, sleep=clock.sleep, recovery_seconds=60)
    budget.acquire()
    budget.slow_down(5.0)
    snap = budget.snapshot()
    assert snap.paused_for == pytest.approx(5.0)
    start = clock.now
    budget.acquire()
    assert clock.now - start >= 5.0  # nothing is sent during the pause
    assert budget.snapshot().refill_per_minute == pytest.approx((600 - 30) * 0.5, rel=0.05)
    clock.now += 61
    assert budget.snapshot().refill_per_minute == pytest.approx(600 - 30)
    assert budget.snapshot().slowdowns == 1


def test_set_rate_applies_in_place() -> None:
    clock = FakeClock()
    budget = RateBudget(6000, clock=clock, sleep=clock.sleep)
    budget.set_rate(60)
    times = []
    for _ in range(200):
        budget.acquire()
        times.append(clock.now)
    assert sends_in_window(times) <= 60 and budget.rate_per_minute == 60


def test_budget_is_thread_safe() -> None:
    budget = RateBudget(60_000)  # real clock; 1,000/s
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            budget.acquire()
            with lock:
                taken.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 400
    assert budget.snapshot().acquired == 400


@given(st.integers(0, 20), st.floats(0, 1))
def test_full_jitter_backoff_bounds(attempt: int, rand: float) -> None:
    backoff = Backoff(base_seconds=0.5, cap_seconds=30)
    delay = backoff.delay(attempt, rand)
    assert 0 <= delay <= min(30, 0.5 * 2**attempt)


@given(st.integers(0, 5000), st.floats(0, 0.999999))
def test_one_backoff_formula_with_a_spread_stays_near_nominal_under_the_cap(
    attempt: int, rand: float
) -> None:
    # The executor's per-agent write backoff is this formula with a ±20 % spread, not its own.
    spread = Backoff(base_seconds=5.0, cap_seconds=900.0, low=0.8, high=1.2)
    nominal = min(900.0, 5.0 * 2.0 ** min(attempt, 62))  # no OverflowError after days of failures
    assert 0.8 * nominal <= spread.delay(attempt, rand) <= 900.0
    assert spread.delay(attempt + 1, rand) >= spread.delay(attempt, rand)
    assert 0 <= Backoff().delay(attempt, rand) <= 30.0


# ---- config -------------------------------------------------------------------------------------


def test_all_eighteen_regions_and_login_hosts() -> None:
    assert len(REGIONS) == 18
    assert REGIONS["eusc_de_east_1"] == "https://api.edee1.eusc-pure.cloud"
    cfg = ClientConfig.from_settings(region="eu-west-1", client_id="id", client_secret="s3cr3t-value", env={})
    assert cfg.api_base == "https://api.mypurecloud.ie"
    assert cfg.login_base == "https://login.mypurecloud.ie"
    for base in REGIONS.values():
        assert login_base_for(base).startswith("https://login.")


def test_config_from_cli_args_files_and_env(tmp_path: Any) -> None:
    parser = argparse.ArgumentParser()
    add_connection_options(parser)
    (tmp_path / "id").write_text("file-client\n")
    (tmp_path / "secret").write_text("file-secret-value\n")
    args = parser.parse_args(
        [
            "--api-base",
            "http://127.0.0.1:9/",
            "--login-base",
            "http://127.0.0.1:9",
            "--client-id-file",
            str(tmp_path / "id"),
            "--client-secret-file",
            str(tmp_path / "secret"),
            "--rate-per-minute",
            "120",
        ]
    )
    cfg = config_from_args(args, env={})
    assert (cfg.api_base, cfg.client_id, cfg.client_secret, cfg.rate_per_minute) == (
        "http://127.0.0.1:9",
        "file-client",
        "file-secret-value",
        120,
    )
    assert "file-secret-value" not in repr(cfg)
    env = {"GENESYS_REGION": "us_west_2", "GENESYS_CLIENT_ID": "a", "GENESYS_CLIENT_SECRET": "env-secret-1"}
    cfg = ClientConfig.from_settings(env=env)
    assert cfg.api_base == "https://api.usw2.pure.cloud" and cfg.client_secret == "env-secret-1"


def test_config_errors_say_what_to_set(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="GENESYS_REGION"):
        ClientConfig.from_settings(client_id="a", client_secret="bbbbbbbb", env={})
    with pytest.raises(ConfigError, match=r"unknown Genesys region 'mars'.*us_east_1"):
        ClientConfig.from_settings(region="mars", client_id="a", client_secret="bbbbbbbb", env={})
    with pytest.raises(ConfigError, match="GENESYS_CLIENT_SECRET"):
        ClientConfig.from_settings(region="us_east_1", client_id="a", env={})
    with pytest.raises(ConfigError, match="--login-base"):
        ClientConfig.from_settings(
            api_base="http://localhost:1", client_id="a", client_secret="bbbbbbbb", env={}
        )
    with pytest.raises(ConfigError, match="cannot read the OAuth client secret"):
        ClientConfig.from_settings(
            region="us_east_1", client_id="a", client_secret_file=str(tmp_path / "no"), env={}
        )


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (418, GenesysError),
    ],
)
def test_error_classes_by_status(status: int, cls: type[GenesysError]) -> None:
    body = f'{{"message":"m{status}","code":"c.{status}","status":{status},"contextId":"ctx-1"}}'
    err = error_from_response(status, body, {"Retry-After": "7"}, method="GET", path="/api/v2/users/{userId}")
    assert type(err) is cls
    assert (err.status, err.code, err.context_id, err.retry_after) == (status, f"c.{status}", "ctx-1", 7.0)
    assert f"m{status}" in str(err) and "ctx-1" in str(err) and "/api/v2/users/{userId}" in str(err)


def test_error_without_json_body_uses_correlation_header() -> None:
    err = error_from_response(502, "<html>bad gateway</html>", {"inin-correlation-id": "abc"})
    assert isinstance(err, ServerError) and err.context_id == "abc" and "bad gateway" in err.message
    assert error_from_response(403, "", {}).message.endswith(
        "grant the OAuth client's role the missing permission"
    )


def test_secrets_never_in_error_text() -> None:
    register_secret("super-secret-token-123")
    body = '{"message":"token super-secret-token-123 is bad","code":"bad.credentials"}'
    err = error_from_response(401, body, {})
    assert "super-secret-token-123" not in str(err) and "super-secret-token-123" not in repr(err.args)
    assert scrub("x super-secret-token-123") == "x ***"


def test_retry_after_parsing() -> None:
    assert parse_retry_after("42") == 42.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


# ---- paging -------------------------------------------------------------------------------------


@given(st.integers(0, 2345), st.integers(1, 500))
@settings(max_examples=50, deadline=None)
def test_page_number_iteration_is_complete(total: int, size: int) -> None:
    calls = []

    def fetch(page: int, page_size: int) -> dict[str, Any]:
        calls.append(page)
        start = (page - 1) * page_size
        ids = list(range(total))[start : start + page_size]
        page_count = -(-total // page_size)
        return {
            "entities": [{"id": i} for i in ids],
            "pageNumber": page,
            "pageCount": page_count,
            "total": total,
        }

    got = [e["id"] for e in iter_page_numbers(fetch, size)]
    assert got == list(range(total))
    assert len(calls) == max(1, -(-total // size))


def test_cursor_iteration_follows_next_uri_and_detects_loops() -> None:
    pages = {None: ("a", [1, 2]), "a": ("b", [3]), "b": (None, [4])}

    def fetch(after: str | None) -> dict[str, Any]:
        nxt, ids = pages[after]
        listing: dict[str, Any] = {"entities": [{"id": i} for i in ids]}
        if nxt:
            listing["nextUri"] = f"/api/v2/processautomation/triggers?after={nxt}&pageSize=2"
        return listing

    assert [e["id"] for e in iter_cursor(fetch)] == [1, 2, 3, 4]

    def looping(after: str | None) -> dict[str, Any]:
        return {"entities": [{"id": 1}], "nextUri": "/x?after=same"}

    with pytest.raises(PagingError, match="repeated"):
        list(iter_cursor(looping))
    with pytest.raises(PagingError, match="truncated"):
        list(iter_page_numbers(lambda p, s: {"entities": [{"id": p}], "pageCount": 10**9}, 1, max_pages=5))


def test_params_and_routes_encoding() -> None:
    assert encode_params({"id": ["a", "b"], "x": None, "f": True, "n": 3}) == {
        "id": "a,b",
        "f": "true",
        "n": "3",
    }
    assert fill_route("/api/v2/users/{userId}", {"userId": "a/b"}) == "/api/v2/users/a%2Fb"


# ---- JSON -> values -----------------------------------------------------------------------------


def test_system_presence_spellings_normalised_everywhere() -> None:
    for spelling in ("OnQueue", "On Queue", "ON_QUEUE"):
        p = parse_user_presence(
            {"userId": "u", "presenceDefinition": {"id": "d", "systemPresence": spelling}}
        )
        assert p.system_presence is SystemPresence.ON_QUEUE
    d = parse_presence_definition(
        {"id": "x", "type": "User", "systemPresence": "Break", "languageLabels": {"en_US": "Coffee"}}
    )
    assert (d.label, d.is_system, d.system_presence) == ("Coffee", False, SystemPresence.BREAK)
    a = observed_from(
        {
            "id": "u1",
            "routingStatus": {"status": "INTERACTING", "startTime": "2026-01-01T10:00:00.000Z"},
            "presence": {
                "presenceDefinition": {"id": "d", "systemPresence": "ON_QUEUE"},
                "presenceMessage": "hi",
                "modifiedDate": "2026-01-01T09:00:00Z",
            },
        }
    )
    assert a.routing_status is RoutingStatus.INTERACTING and a.message == "hi"
    assert a.presence_modified == datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_time_off_marker_placed_on_utc_axis_with_dst() -> None:
    result = {
        "businessUnitTimeZone": "America/New_York",
        "agentSchedules": [
            {
                "user": {"id": "u1"},
                "shifts": [
                    {
                        "startDate": "2026-03-09T13:00:00.000Z",
                        "lengthMinutes": 480,
                        "activities": [
                            {
                                "startDate": "2026-03-09T14:00:00.000Z",
                                "lengthMinutes": 15,
                                "activityCodeId": "1",
                            },
                            {
                                "startDate": "2026-03-09T13:00:00.000Z",
                                "lengthMinutes": 60,
                                "activityCodeId": "0",
                            },
                        ],
                    }
                ],
                # 8 March 2026 is the US spring-forward day: a 23-hour local day
                "fullDayTimeOffMarkers": [
                    {"businessUnitDate": "2026-03-08", "lengthMinutes": 480, "activityCodeId": "t"}
                ],
            }
        ],
    }
    sched = parse_schedule_result(result)["u1"]
    off = sched.time_off[0]
    assert off.business_unit_date == date(2026, 3, 8)
    assert off.start == datetime(2026, 3, 8, 5, tzinfo=UTC)  # local midnight EST
    assert off.end == datetime(2026, 3, 9, 4, tzinfo=UTC)  # next local midnight EDT
    assert [a.activity_code_id for a in sched.activities()] == ["0", "1"]
    assert sched.shifts[0].end == datetime(2026, 3, 9, 21, tzinfo=UTC)


def test_bulk_answer_matched_by_user_id_then_position_never_by_id() -> None:
    from controller.genesys.models import PresenceUpdate, match_bulk_answer
    from controller.genesys.presence import bulk_entry

    users = ["u1", "u2", "u3"]
    named = [{"userId": u, "id": f"p-{u}"} for u in reversed(users)]
    assert {u: e["id"] for u, e in match_bulk_answer(users, named).items()} == {
        "u1": "p-u1",
        "u2": "p-u2",
        "u3": "p-u3",
    }
    by_object_id = [{"id": "p-1"}, {"id": "p-2"}, {"id": "p-3"}]  # documented UserPresence
    assert {u: e["id"] for u, e in match_bulk_answer(users, by_object_id).items()} == {
        "u1": "p-1",
        "u2": "p-2",
        "u3": "p-3",
    }
    assert match_bulk_answer(users, [{}, {}, {}]) == {"u1": {}, "u2": {}, "u3": {}}
    # An answer that does not line up (an entry missing): only named entries, the rest read back.
    assert match_bulk_answer(users, [{"id": "u1"}, {"id": "u2"}]) == {}
    assert list(match_bulk_answer(users, [{"userId": "u2"}, {"id": "x"}])) == ["u2"]
    assert match_bulk_answer(users, [{"userId": "stranger"}, {"userId": "u1"}, {"userId": "u2"}]) == {
        "u1": {"userId": "u1"},
        "u2": {"userId": "u2"},
    }
    assert bulk_entry(PresenceUpdate("u1", "def", None)) == {
        "id": "u1",
        "presenceDefinition": {"id": "def"},
        "source": "PURECLOUD",
    }
    assert bulk_entry(PresenceUpdate("u1", "def", "why"))["message"] == "why"
