"""The client against the emulator over real HTTP: auth, budget, retries, errors, endpoints.
Every test asserts what the emulator saw (EmulatorControl.request_counts), not only results."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from controller.core.presence import RoutingStatus, SystemPresence
from controller.emulator.server import RunningEmulator, start_emulator
from controller.genesys import (
    ClientConfig,
    ConnectionFailed,
    GenesysClient,
    NotFound,
    PresenceUpdate,
    RateBudget,
    RateLimited,
    ReadsAbandoned,
    ServerError,
    TriggerSpec,
    Unauthorized,
    WriteAbandoned,
    shared_budget,
)
from controller.log import setup_logging
from controller.metrics import Metrics
from tests.genesys.conftest import FAST_BACKOFF, client_for
from tests.support.waiting import wait_for

BULK = "GET /api/v2/users/presences/purecloud/bulk"
TOKEN = "POST /oauth/token"
PRESENCE = "GET /api/v2/users/{userId}/presences/purecloud"


def ids(emu: RunningEmulator, n: int) -> list[str]:
    return [a.id for a in emu.org.agents[:n]]


# ---- auth ---------------------------------------------------------------------------------------


def test_token_is_cached_and_refreshed_once_after_revocation(
    emu: RunningEmulator, client: GenesysClient
) -> None:
    uid = ids(emu, 1)[0]
    for _ in range(3):
        client.presence.get_presence(uid)
    emu.control.revoke_tokens()
    assert client.presence.get_presence(uid).user_id == uid
    log = emu.control.requests_log()
    statuses = [r["status"] for r in log if r["route"] == "/api/v2/users/{userId}/presences/purecloud"]
    assert statuses == [200, 200, 200, 401, 200]
    assert emu.control.request_counts()[TOKEN] == 2


def test_token_refreshed_before_expiry_without_a_401(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    now = [0.0]
    client = make_client(clock=lambda: now[0])
    emu.control.token_ttl(300)
    uid = ids(emu, 1)[0]
    client.presence.get_presence(uid)
    now[0] += 200  # still fresh: no refresh
    client.presence.get_presence(uid)
    now[0] += 50  # 250 s > 300 - 60 s margin: refresh proactively
    client.presence.get_presence(uid)
    counts = emu.control.request_counts()
    assert counts[TOKEN] == 2 and counts[PRESENCE] == 3
    assert all(r["status"] == 200 for r in emu.control.requests_log())


def test_token_expired_by_emulator_clock_is_replaced(emu: RunningEmulator, client: GenesysClient) -> None:
    emu.control.token_ttl(120)
    uid = ids(emu, 1)[0]
    client.presence.get_presence(uid)
    emu.control.advance_clock(600)  # the server now considers our token expired; our clock does not
    client.presence.get_presence(uid)
    assert emu.control.request_counts()[TOKEN] == 2
    assert [r["status"] for r in emu.control.requests_log() if r["method"] == "GET"] == [200, 401, 200]


def test_bad_credentials_give_a_clear_error_without_the_secret(emu: RunningEmulator) -> None:
    config = ClientConfig(emu.api_base, emu.login_base, emu.client_id, "wrong-secret-value-42")
    with GenesysClient(config, budget=RateBudget(6000)) as bad, pytest.raises(Unauthorized) as info:
        bad.users.get_user(ids(emu, 1)[0])
    text = str(info.value)
    assert "refused the OAuth client credentials" in text and emu.client_id in text
    assert "wrong-secret-value-42" not in text
    assert emu.control.request_counts() == {TOKEN: 1}


# ---- rate limits and retries --------------------------------------------------------------------


def test_429_with_retry_after_pauses_the_shared_budget(emu: RunningEmulator, client: GenesysClient) -> None:
    uid = ids(emu, 1)[0]
    client.presence.get_presence(uid)
    emu.control.faults(burst429={"count": 1, "retryAfter": 1})
    started = time.monotonic()
    assert client.presence.get_presence(uid).user_id == uid
    assert time.monotonic() - started >= 1.0
    assert [r["status"] for r in emu.control.requests_log() if r["method"] == "GET"] == [200, 429, 200]
    snap = client.budget.snapshot()
    assert snap.slowdowns == 1 and snap.refill_per_minute < 6000 * 0.6  # halved after the 429
    assert client.stats.snapshot().retries == {"429": 1}


def test_429_without_retry_after_backs_off_and_retries(emu: RunningEmulator, client: GenesysClient) -> None:
    emu.control.faults(burst429={"count": 3, "retryAfter": None})
    uid = ids(emu, 1)[0]
    client.presence.get_presence(uid)
    assert emu.control.request_counts()[PRESENCE] == 4
    assert client.stats.snapshot().count(status=429) == 3


def test_429_retries_are_bounded_and_long_retry_after_is_not_waited(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    uid = ids(emu, 1)[0]
    client = make_client(max_retries=2)
    emu.control.faults(burst429={"count": 10, "retryAfter": None})
    with pytest.raises(RateLimited):
        client.presence.get_presence(uid)
    assert emu.control.request_counts()[PRESENCE] == 3
    emu.control.clear_requests()
    impatient = make_client(max_retry_after_seconds=0.5)
    emu.control.faults(burst429={"count": 1, "retryAfter": 3600})
    with pytest.raises(RateLimited, match="exceeds"):
        impatient.presence.get_presence(uid)
    assert emu.control.request_counts()[PRESENCE] == 1


def test_503_bursts_retried_only_for_idempotent_calls(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    client = make_client(max_retries=3)
    uid = ids(emu, 1)[0]
    emu.control.faults(errorRate=1.0, errorStatus=503)
    with pytest.raises(ServerError) as info:
        client.presence.get_presence(uid)
    assert info.value.status == 503 and info.value.code == "service.unavailable" and info.value.context_id
    assert emu.control.request_counts()[PRESENCE] == 4  # 1 + 3 retries
    emu.control.clear_requests()
    spec = TriggerSpec(name="t", topic_name="v2.users.{id}.activity", workflow_id="wf-1")
    with pytest.raises(ServerError):
        client.triggers.create_trigger(spec)  # a POST that creates: never repeated
    assert emu.control.request_counts() == {"POST /api/v2/processautomation/triggers": 1}
    emu.control.clear_requests()
    emu.control.faults(errorRate=0.5, errorStatus=503)
    for _ in range(10):
        client.presence.get_presence(uid)  # a 50 % error rate is absorbed by retries
    seen = emu.control.requests_log()
    assert sum(r["status"] == 200 for r in seen) == 10 and sum(r["status"] == 503 for r in seen) >= 1
    assert client.stats.snapshot().retries["5xx"] >= 1


def test_latency_is_measured_and_timeouts_are_connection_failures(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    uid = ids(emu, 1)[0]
    client = make_client()
    client.presence.get_presence(uid)  # token first, without latency
    emu.control.faults(latencyMs=150)
    client.presence.get_presence(uid)
    snap = client.stats.snapshot()
    assert sum(snap.latency_counts[3:]) >= 1  # a call in the >= 0.1 s buckets
    hasty = make_client(timeout_seconds=0.05, max_retries=1)
    with pytest.raises(ConnectionFailed):
        hasty.presence.get_presence(uid)
    assert hasty.stats.snapshot().count(status=0) == 2  # one try + one retry, both timed out


# ---- errors and secrets -------------------------------------------------------------------------


def test_not_found_carries_code_and_correlation_id(emu: RunningEmulator, client: GenesysClient) -> None:
    with pytest.raises(NotFound) as info:
        client.users.get_user("00000000-0000-0000-0000-000000000000")
    err = info.value
    assert (err.status, err.code, err.path) == (404, "not.found", "/api/v2/users/{userId}")
    correlation = [r for r in emu.control.requests_log() if r["status"] == 404]
    assert err.context_id and len(correlation) == 1


def test_secrets_absent_from_logs_and_errors(emu: RunningEmulator, client: GenesysClient) -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", stream)
    try:
        uid = ids(emu, 1)[0]
        client.presence.get_presence(uid)
        token = client.transport.auth.token().value
        emu.control.revoke_tokens()
        client.presence.get_presence(uid)
        with pytest.raises(NotFound) as info:
            client.users.get_user("missing")
        logging.getLogger("test").info("echo %s %s", token, emu.client_secret)
    finally:
        logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert '"route": "/api/v2/users/{userId}/presences/purecloud"' in text and '"correlation_id"' in text
    for secret in (token, emu.client_secret):
        assert secret not in text and secret not in str(info.value)


# ---- endpoints ----------------------------------------------------------------------------------


def test_51_ids_make_two_bulk_calls(emu: RunningEmulator, client: GenesysClient) -> None:
    wanted = ids(emu, 51)
    got = client.presence.get_presences(wanted)
    assert set(got) == set(wanted)
    assert emu.control.request_counts()[BULK] == 2
    for p in got.values():
        assert isinstance(p.system_presence, SystemPresence)


def test_presence_writes_single_and_bulk(emu: RunningEmulator, client: GenesysClient) -> None:
    catalog = client.presence.presence_catalog()
    client.presence.presence_catalog()  # cached
    brk = catalog.resolve("Break")
    onq = catalog.resolve("on_queue")
    assert brk is not None and onq is not None
    uid = ids(emu, 1)[0]
    written = client.presence.set_presence(uid, brk.id, "coffee")
    assert written.system_presence is SystemPresence.BREAK and written.correlation_id
    assert client.presence.get_presence(uid).message == "coffee"
    targets = ids(emu, 51)
    result = client.presence.set_presences(PresenceUpdate(u, onq.id) for u in targets)
    assert set(result.echoes) == set(targets) == set(result.correlation_ids)  # matched by position
    assert {p.system_presence for p in result.echoes.values()} == {SystemPresence.ON_QUEUE}
    observed = client.presence.observe(targets)
    assert len(observed) == 51
    assert all(o.system_presence is SystemPresence.ON_QUEUE for o in observed.values())
    assert client.presence.get_routing_status(uid).status is RoutingStatus.IDLE
    counts = emu.control.request_counts()
    assert counts["GET /api/v2/presence/definitions"] == 2  # active + deactivated, once (TTL cache)
    assert counts["PUT /api/v2/users/presences/bulk"] == 2
    assert counts["POST /api/v2/workforcemanagement/users/activity"] == 1


def test_observe_strategies_agree_and_cost(emu: RunningEmulator, client: GenesysClient) -> None:
    everyone = ids(emu, 60)
    emu.control.start_interaction(everyone[0])
    a = client.presence.observe_via_activity(everyone)
    b = client.presence.observe_via_users(everyone)
    in_wfm = {u.id for u in emu.org.agents if u.management_unit_id is not None}
    assert a == {k: v for k, v in b.items() if k in in_wfm} and len(b) == 60 and len(a) == 58
    counts = emu.control.request_counts()
    assert counts["POST /api/v2/workforcemanagement/users/activity"] == 1
    assert counts["GET /api/v2/users"] == 1


def test_user_lookups(emu: RunningEmulator, client: GenesysClient) -> None:
    agent = emu.org.agents[3]
    found = client.users.find_user_by_email(agent.email.upper())
    assert found is not None and found.id == agent.id and found.groups == frozenset(agent.group_ids)
    assert client.users.find_user_by_email("nobody@example.invalid") is None
    assert client.users.get_user(agent.id).email == agent.email
    group = emu.org.groups[0]
    members = client.users.group_members(group.id)
    assert {m.id for m in members} == {a.id for a in emu.org.agents if group.id in a.group_ids}
    assert {g.id for g in client.users.list_groups()} == {g.id for g in emu.org.groups}


@pytest.fixture(scope="module")
def big_emu() -> Iterator[RunningEmulator]:
    with start_emulator(agents=10_000, seed=2, rate_limit=100_000) as running:
        yield running


def test_ten_thousand_users_paged_completely(big_emu: RunningEmulator) -> None:
    big_emu.control.clear_requests()
    with client_for(big_emu) as client:
        users = client.users.list_users()
    assert len({u.id for u in users}) == 10_000
    assert big_emu.control.request_counts()["GET /api/v2/users"] == 20  # 500 a page


def test_budget_equal_to_server_limit_draws_no_429(emu: RunningEmulator) -> None:
    """Budget and server limit both 30/min, on the emulator's clock (sleeping advances it)."""
    with start_emulator(agents=5, seed=1, rate_limit=30) as limited:
        control = limited.control

        def advance(seconds: float) -> None:
            control.advance_clock(seconds)

        budget = RateBudget(30, clock=lambda: control.now().timestamp(), sleep=advance)
        started = control.now()
        with client_for(limited, rate=30, budget=budget) as client:
            uid = limited.org.agents[0].id
            for _ in range(100):
                client.presence.get_presence(uid)
        statuses = [r["status"] for r in control.requests_log() if r["route"].startswith("/api/v2/")]
        assert len(statuses) == 100 and 429 not in statuses
        # 100 calls at 30/min: the emulator's clock moved about 3.4 minutes, never faster than allowed
        assert control.now() - started >= timedelta(seconds=180)


def test_observe_falls_back_when_users_activity_is_forbidden(
    emu: RunningEmulator, client: GenesysClient
) -> None:
    emu.control.faults(errorRate=1.0, errorStatus=403, pathPattern="users/activity")
    everyone = ids(emu, 60)
    first = client.presence.observe(everyone)
    second = client.presence.observe(everyone)
    assert first == second and len(first) == 60
    counts = emu.control.request_counts()
    assert counts["POST /api/v2/workforcemanagement/users/activity"] == 1  # tried once, then remembered
    assert counts["GET /api/v2/users"] == 2


def test_concurrent_callers_share_one_token_refresh(emu: RunningEmulator, client: GenesysClient) -> None:
    everyone = ids(emu, 60)
    client.presence.get_presence(everyone[0])
    emu.control.revoke_tokens()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(client.presence.get_presence, everyone))
    assert [r.user_id for r in results] == everyone
    assert emu.control.request_counts()[TOKEN] == 2  # revocation mid-run: one refresh for all threads


def test_metrics_listener_and_budget_accounting(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    # One metrics path: the client registers no Prometheus metric of its own; the daemon's
    # presencectl_api_* are fed by the call listener.
    metrics = Metrics(CollectorRegistry())
    client = make_client()
    client.stats.add_listener(metrics.api_call_listener)
    client.presence.get_presences(ids(emu, 60))  # 2 bulk calls, run on the pool
    endpoint = {"endpoint": "GET /api/v2/users/presences/purecloud/bulk"}
    assert (
        metrics.registry.get_sample_value("presencectl_api_calls_total", endpoint | {"status_class": "2xx"})
        == 2
    )
    assert metrics.registry.get_sample_value("presencectl_api_call_duration_seconds_count", endpoint) == 2
    assert client.budget.snapshot().acquired == 2 == emu.control.request_counts()[BULK]
    assert client.stats.snapshot().count(route="/oauth/token", status=200) == 1  # counted, not budgeted


def test_shared_budget_is_one_per_oauth_client(emu: RunningEmulator) -> None:
    config = ClientConfig(emu.api_base, emu.login_base, emu.client_id, emu.client_secret, rate_per_minute=300)
    with GenesysClient(config) as a, GenesysClient(replace(config, rate_per_minute=600)) as b:
        assert a.budget is b.budget and a.budget.rate_per_minute == 600  # reloaded rate applied in place
    other = shared_budget(300, ("https://api.mypurecloud.ie", "another-client"))
    assert other is not a.budget and other is shared_budget(
        300, ("https://api.mypurecloud.ie", "another-client")
    )


def test_unreachable_login_host_is_a_connection_failure() -> None:
    with start_emulator(agents=1, seed=1) as gone:
        base, cid, secret = gone.api_base, gone.client_id, gone.client_secret
    config = ClientConfig(base, base, cid, secret, max_retries=2)  # the port is closed now
    slept: list[float] = []
    with GenesysClient(config, budget=RateBudget(6000), backoff=FAST_BACKOFF, sleep=slept.append) as client:
        with pytest.raises(ConnectionFailed, match="cannot reach the login host"):
            client.users.get_user("u")
        # the configured backoff between the 3 attempts, not a hard-coded one
        assert len(slept) == 2 and all(0 <= s <= FAST_BACKOFF.cap_seconds for s in slept), slept
        assert client.stats.snapshot().count(status=0, route="/oauth/token") == 3


# ---- shutdown: reads are abandoned at once, writes are not ----


def test_abandon_reads_ends_a_read_waiting_for_the_budget_at_once(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    # One token now, the next in a minute: the second batch of 50 waits for the budget.
    client = make_client(rate=2, budget=RateBudget(2, burst=1), workers=1)
    ids = [a.id for a in emu.org.agents]
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(client.presence.get_presences(ids))
        except BaseException as exc:  # the assertion below says what it was
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    wait_for(
        lambda: client.budget.snapshot().acquired >= 1 and client.budget.snapshot().tokens < 1,
        "the budget spent",
    )
    client.abandon_reads()
    reader.join()
    assert len(outcome) == 1 and isinstance(outcome[0], ReadsAbandoned), outcome
    assert emu.control.request_counts().get("GET /api/v2/users/presences/purecloud/bulk") == 1


def test_after_abandon_reads_a_write_is_still_sent_and_a_read_is_not(
    emu: RunningEmulator, client: GenesysClient
) -> None:
    agent = emu.org.agents[0].id
    catalog = client.presence.presence_catalog()
    break_id = catalog.resolve("Break")
    assert break_id is not None
    emu.control.clear_requests()
    client.abandon_reads()
    assert client.presence.set_presence(agent, break_id.id).presence_id == break_id.id
    with pytest.raises(ReadsAbandoned):
        client.presence.get_presence(agent)
    with pytest.raises(ReadsAbandoned):
        client.presence.observe([agent])  # a read-only POST (users/activity)
    assert emu.control.request_counts() == {"PATCH /api/v2/users/{userId}/presences/purecloud": 1}


def test_after_abandon_reads_a_write_waiting_for_the_budget_is_not_sent(
    emu: RunningEmulator, make_client: Callable[..., GenesysClient]
) -> None:
    client = make_client(rate=2, budget=RateBudget(2, burst=1))
    first, second = (a.id for a in emu.org.agents[:2])
    busy = emu.backend.presence.definitions.resolve("Busy")
    emu.control.clear_requests()
    client.presence.set_presence(first, busy.id)  # takes the one token: the next write must wait a minute
    outcome: list[BaseException | object] = []

    def write() -> None:
        try:
            outcome.append(client.presence.set_presence(second, busy.id))
        except BaseException as exc:  # the assertion below says what it was
            outcome.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    wait_for(lambda: client.budget.snapshot().tokens < 1, "the budget spent")
    client.abandon_reads()
    writer.join()
    (error,) = outcome
    assert isinstance(error, WriteAbandoned) and error.maybe_applied is False and error.code == "shutdown"
    assert emu.control.request_counts()["PATCH /api/v2/users/{userId}/presences/purecloud"] == 1
