"""Behaviour every /api/v2 call shares: rate limit, headers, faults, error bodies, the request log,
reset."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from controller.emulator.server import start_emulator
from tests.conftest import Api
from tests.support.waiting import wait_for


def test_every_answer_carries_correlation_and_rate_limit_headers(api: Api) -> None:
    response = api.get("/api/v2/users")
    assert response.headers["inin-correlation-id"]
    assert response.headers["inin-ratelimit-allowed"] == "300"
    assert response.headers["inin-ratelimit-count"] == "1"
    assert 1 <= int(response.headers["inin-ratelimit-reset"]) <= 60
    assert api.get("/api/v2/users").headers["inin-ratelimit-count"] == "2"


def test_budget_exhausted_answers_429_with_retry_after_and_real_body() -> None:
    with start_emulator(agents=5, seed=1, rate_limit=3) as emu:
        api = Api(emu)
        assert [api.get("/api/v2/users").status_code for _ in range(3)] == [200, 200, 200]
        refused = api.get("/api/v2/users")
        assert refused.status_code == 429
        seconds = int(refused.headers["Retry-After"])
        assert 1 <= seconds <= 60
        assert refused.json() == {
            "message": f"Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds",
            "code": "too.many.requests.retry.after",
            "status": 429,
            "contextId": refused.headers["inin-correlation-id"],
            "details": [],
            "errors": [],
        }
        emu.control.advance_clock(61)
        assert api.get("/api/v2/users").status_code == 200


def test_control_surface_and_login_are_never_rate_limited() -> None:
    with start_emulator(agents=5, seed=1, rate_limit=1) as emu:
        api = Api(emu)
        api.get("/api/v2/users")
        assert api.get("/api/v2/users").status_code == 429
        for _ in range(3):
            emu.control.now()
            api.authenticate()


def test_error_rate_fault_answers_real_5xx_body(api: Api) -> None:
    api.emulator.control.faults(errorRate=1.0, errorStatus=503)
    response = api.get("/api/v2/users")
    assert response.status_code == 503
    assert response.json()["code"] == "service.unavailable" and response.json()["status"] == 503
    api.emulator.control.clear_faults()
    assert api.get("/api/v2/users").status_code == 200


def test_fault_path_pattern_limits_the_fault(api: Api) -> None:
    api.emulator.control.faults(errorRate=1.0, errorStatus=500, pathPattern="/presences/")
    assert api.get("/api/v2/users").status_code == 200
    user = api.emulator.org.agents[0].id
    failed = api.get(f"/api/v2/users/{user}/presences/purecloud")
    assert failed.status_code == 500 and failed.json()["code"] == "internal.server.error"


def test_burst_of_429_with_and_without_retry_after(api: Api) -> None:
    api.emulator.control.faults(burst429={"count": 2, "retryAfter": 7})
    first, second, third = (api.get("/api/v2/users") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7" and "[7]" in first.json()["message"]
    api.emulator.control.faults(burst429={"count": 1, "retryAfter": None})
    bare = api.get("/api/v2/users")
    assert bare.status_code == 429 and "Retry-After" not in bare.headers


def test_latency_fault_delays_answers(api: Api) -> None:
    api.emulator.control.faults(latencyMs=150)
    started = time.perf_counter()
    assert api.get("/api/v2/systempresences").status_code == 200
    assert time.perf_counter() - started >= 0.14


def test_bad_fault_spec_is_refused(api: Api) -> None:
    response = requests.post(f"{api.emulator.api_base}/_emulator/faults", json={"errorRate": 2}, timeout=10)
    assert response.status_code == 400


def test_unknown_path_is_not_found_body(api: Api) -> None:
    response = api.get("/api/v2/nothing/here")
    assert response.status_code == 404
    assert response.json()["code"] == "not.found" and response.json()["contextId"]


def test_bad_json_is_bad_request(api: Api) -> None:
    user = api.emulator.org.agents[0].id
    response = api.patch(
        f"/api/v2/users/{user}/presences/purecloud", data="{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["code"] == "bad.request"


def test_request_log_names_route_templates(api: Api) -> None:
    control = api.emulator.control
    control.clear_requests()
    user = api.emulator.org.agents[0].id
    api.get(f"/api/v2/users/{user}")
    api.get("/api/v2/users/presences/purecloud/bulk", params={"id": user})
    api.get("/api/v2/users/presences/purecloud/bulk", params={"id": user})
    log = control.requests_log()
    assert [r["route"] for r in log] == [
        "/api/v2/users/{userId}",
        "/api/v2/users/presences/purecloud/bulk",
        "/api/v2/users/presences/purecloud/bulk",
    ]
    assert log[0]["path"] == f"/api/v2/users/{user}" and log[0]["status"] == 200 and log[0]["method"] == "GET"
    assert control.request_counts() == {
        "GET /api/v2/users/{userId}": 1,
        "GET /api/v2/users/presences/purecloud/bulk": 2,
    }


def test_clock_set_and_reset(api: Api) -> None:
    control = api.emulator.control
    before = control.now()
    moved = control.advance_clock(3600)
    assert 3599 <= (moved - before).total_seconds() <= 3610
    user = api.emulator.org.agents[0].id
    control.set_presence(user, "Break")
    control.faults(errorRate=1.0)
    control.reset()
    assert abs((control.now() - before).total_seconds()) < 60
    assert api.get(f"/api/v2/users/{user}/presences/purecloud").status_code == 200
    presence = api.get(f"/api/v2/users/{user}/presences/purecloud").json()
    assert presence["presenceDefinition"]["systemPresence"] in ("Available", "Offline")


def test_latency_on_a_share_of_calls_marks_them_injected(api: Api) -> None:
    control = api.emulator.control
    control.clear_requests()
    control.faults(latencyMs=1, latencyRate=0.5)
    for _ in range(40):
        api.get("/api/v2/systempresences")
    delayed = sum(r["injected"] for r in control.requests_log())
    assert 5 < delayed < 35, "about half the calls, not all and not none"
    control.clear_faults()
    api.get("/api/v2/systempresences")
    assert control.requests_log()[-1]["injected"] is False


def test_request_log_names_the_client_correlation_id_and_agents_written(api: Api) -> None:
    control = api.emulator.control
    on_queue = next(
        d["id"]
        for d in api.get("/api/v2/presence/definitions").json()["entities"]
        if d["systemPresence"] == "OnQueue"
    )
    busy, idle = (a.id for a in api.emulator.org.agents[:2])
    control.set_presence(busy, "On Queue")
    control.start_interaction(busy)
    control.clear_requests()
    bulk = [{"id": u, "presenceDefinition": {"id": on_queue}} for u in (busy, idle)]
    answer = api.put("/api/v2/users/presences/bulk", json=bulk)
    api.put("/api/v2/users/presences/bulk", json=[{"id": idle}])  # refused: changes nobody
    control.faults(burst429={"count": 1})
    api.get("/api/v2/systempresences")
    write, refused, throttled = control.requests_log()
    assert write["client"] == api.emulator.client_id
    assert write["correlationId"] == answer.headers["inin-correlation-id"]
    assert write["written"] == [busy, idle] and write["onInteraction"] == [busy]
    assert refused["status"] == 400 and refused["written"] == []
    assert throttled["status"] == 429 and throttled["injected"] is True
    assert control.summary()["writesOnInteraction"] == 1
    assert [r["route"] for r in control.requests_log(start=2)] == ["/api/v2/systempresences"]


def test_an_emulator_outage_refuses_calls_then_serves_the_same_org(api: Api) -> None:
    emu = api.emulator
    user = emu.org.agents[0].id
    emu.control.set_presence(user, "Away")
    emu.go_down()
    try:
        with pytest.raises(requests.ConnectionError):
            api.get(f"/api/v2/users/{user}/presences/purecloud")
    finally:
        emu.come_back()
    assert api.get(f"/api/v2/users/{user}/presences/purecloud").status_code == 401, "tokens were lost"
    api.authenticate()
    presence = api.get(f"/api/v2/users/{user}/presences/purecloud").json()
    assert presence["presenceDefinition"]["systemPresence"] == "Away"


def test_another_oauth_client_has_its_own_name_in_the_log() -> None:
    with start_emulator(agents=5, seed=1, rate_limit=1) as emu:
        emu.add_client("second-client", "second-client-secret")
        first = Api(emu)
        first.get("/api/v2/users")
        emu.client_id, emu.client_secret = "second-client", "second-client-secret"
        second = Api(emu)
        assert second.get("/api/v2/users").status_code == 200, "its own rate budget"
        assert [r["client"] for r in emu.control.requests_log() if r["route"] == "/api/v2/users"] == [
            "presencectl-demo",
            "second-client",
        ]


def test_a_write_in_flight_when_an_interaction_begins_is_not_a_write_on_an_interaction(api: Api) -> None:
    """The caller could not know: the interaction began after its call arrived (here while an
    injected latency held the call), as with a request already on the wire to the real platform."""
    emulator = api.emulator
    control = emulator.control
    on_queue = next(
        d["id"]
        for d in api.get("/api/v2/presence/definitions").json()["entities"]
        if d["systemPresence"] == "OnQueue"
    )
    agent = emulator.org.agents[0].id
    control.set_presence(agent, "On Queue")
    control.clear_requests()
    control.faults(latencyMs=1000, pathPattern=r"/users/presences/bulk$")
    before = emulator.backend.limiter.used(emulator.client_id)
    body = [{"id": agent, "presenceDefinition": {"id": on_queue}}]
    writer = threading.Thread(target=api.put, args=("/api/v2/users/presences/bulk",), kwargs={"json": body})
    writer.start()
    wait_for(lambda: emulator.backend.limiter.used(emulator.client_id) > before, "the write to arrive")
    control.start_interaction(agent)  # while the write waits out its latency
    writer.join()
    write = next(r for r in control.requests_log() if r["method"] == "PUT")
    assert write["written"] == [agent] and write["onInteraction"] == []
    control.clear_faults()
    api.put("/api/v2/users/presences/bulk", json=body)  # now the interaction was there first
    assert control.requests_log()[-1]["onInteraction"] == [agent]
