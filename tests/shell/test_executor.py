"""Executor against the emulator over real HTTP: bulk vs single writes, read-back confirmation,
per-agent backoff and isolation, held and observe plans, audit completeness, graceful close."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from controller.audit import (
    AuditMode,
    AuditRecord,
    AuditResult,
    AuditWriter,
    Phase,
    PresenceRef,
    pending_intents,
    read_audit,
)
from controller.core.domain import Agent, PresenceCatalog
from controller.core.planner import Action, Plan
from controller.core.timeline import Reason, ReasonKind
from controller.emulator.generate import generate_org
from controller.emulator.platform import BULK_ECHOES, PlatformOptions
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.executor import (
    BACKOFF_CAP_SECONDS,
    AgentBackoff,
    Executor,
    ExecutorClosed,
    backoff_delay,
)
from controller.genesys import Backoff, ClientConfig, GenesysClient, RateBudget
from controller.metrics import Metrics
from controller.model.types import Mode, PresenceTarget, SourceLocation
from tests.smallfs import fill, small_filesystem
from tests.support.waiting import wait_for

PUT_BULK = "PUT /api/v2/users/presences/bulk"
PATCH_ONE = "PATCH /api/v2/users/{userId}/presences/purecloud"
GET_BULK = "GET /api/v2/users/presences/purecloud/bulk"
WHERE = SourceLocation("desired/policies/front-line.yaml", 12, 5)
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Env:
    emu: RunningEmulator
    client: GenesysClient
    catalog: PresenceCatalog
    audit_path: Path
    metrics: Metrics
    clock: Clock
    executor: Executor

    def ids(self, n: int, start: int = 0) -> list[str]:
        return [a.id for a in self.emu.org.agents[start : start + n]]

    def target(self, name: str) -> PresenceTarget:
        found = self.catalog.resolve(name)
        assert found is not None
        return PresenceTarget(name, WHERE, found.id)

    def action(self, user_id: str, to: str, message: str = "", mode: Mode = Mode.ENFORCE) -> Action:
        return Action(
            user_id=user_id,
            policy="front-line",
            from_presence_id="ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
            from_label="Offline",
            to=self.target(to),
            message=message,
            reason=Reason(ReasonKind.WINDOW, "front-line", "window Mon-Fri 09:00-17:00", WHERE),
            mode=mode,
        )

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.emu.control.request_counts().items() if "presences" in k}

    def sample(self, name: str, **labels: str) -> float:
        for fam in text_string_to_metric_families(self.metrics.render().decode()):
            for s in fam.samples:
                if s.name == name and s.labels == labels:
                    return float(s.value)
        return 0.0


def plan_of(actions: list[Action], held: bool = False) -> Plan:
    return Plan(
        now=T0,
        actions=tuple(actions),
        skipped=(),
        decisions=(),
        adherence=(),
        managed=len(actions),
        held=held,
        held_reason="9 corrections exceed the blast-radius limit of 2" if held else "",
        limit=2,
        conflicts=(),
    )


def make_env(
    tmp_path: Path, agents: int = 60, echo: str | None = None, audit_dir: Path | None = None
) -> Iterator[Env]:
    org = generate_org(agents=agents, seed=1)
    if echo is not None:
        org.platform = PlatformOptions(bulk_presence_echo=echo)
    with start_emulator(org=org, rate_limit=100_000) as emu:
        config = ClientConfig(emu.api_base, emu.login_base, emu.client_id, emu.client_secret, 100_000)
        fast = Backoff(base_seconds=0.001, cap_seconds=0.005)
        client = GenesysClient(config, budget=RateBudget(100_000), backoff=fast)
        catalog = client.presence.presence_catalog()
        metrics, clock = Metrics(), Clock()
        audit_path = (audit_dir or tmp_path) / "audit.jsonl"
        executor = Executor(
            client, AuditWriter(audit_path), metrics, clock, backoff=AgentBackoff(lambda: 0.5)
        )
        emu.control.clear_requests()
        try:
            yield Env(emu, client, catalog, audit_path, metrics, clock, executor)
        finally:
            executor.close()
            client.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)


def test_bulk_writes_land_confirmed_and_fully_audited(env: Env) -> None:
    ids = env.ids(5)
    agents = {a.id: Agent(a.id, a.name, a.email) for a in env.emu.org.agents}
    boundary = T0 - timedelta(seconds=2)
    report = env.executor.execute(
        plan_of([env.action(i, "Break") for i in ids]),
        "cycle-1",
        boundary,
        digest="sha256:d1",
        agents=agents,
        catalog=env.catalog,
    )
    assert sorted(report.ok) == sorted(ids) and report.failed == ()
    assert {w.via for w in report.writes} == {"bulk"}
    assert env.counts() == {PUT_BULK: 1, GET_BULK: 1}
    live = env.client.presence.get_presences(ids)
    assert {p.presence_id for p in live.values()} == {env.target("Break").definition_id}

    records = list(read_audit(env.audit_path))
    assert len(records) == 5
    for r in records:
        assert r["mode"] == "enforced" and r["result"] == {"status": "ok", "error_code": None}
        assert r["agent"]["email"] == agents[r["agent"]["id"]].email
        assert r["desired"] == {"label": "Break", "id": env.target("Break").definition_id}
        assert r["after"] == r["desired"]
        assert r["before"]["label"] == "Offline"
        assert r["reason"] == {"text": "window Mon-Fri 09:00-17:00", "kind": "window", "source": str(WHERE)}
        assert r["correlation_id"] and r["latency_ms"] > 0
        assert (r["digest"], r["cycle_id"]) == ("sha256:d1", "cycle-1")
    assert len({r["correlation_id"] for r in records}) == 1  # one bulk call
    assert env.sample("presencectl_corrections_total", presence="Break", result="ok") == 5
    assert env.sample("presencectl_write_to_event_seconds_count") == 5
    assert env.sample("presencectl_boundary_to_write_seconds_count") == 5
    assert env.sample("presencectl_boundary_to_write_seconds_bucket", le="1.0") == 0  # 2 s late
    assert env.sample("presencectl_boundary_to_write_seconds_bucket", le="2.0") == 5


@pytest.mark.parametrize("echo", BULK_ECHOES)
def test_each_bulk_echo_shape_writes_every_agent_once(tmp_path: Path, echo: str) -> None:
    """Whatever the bulk PUT answers (its `id` need not be the user id,
    docs/genesys-api.md#bulk-presence), each agent is written once and confirmed by the read-back;
    matching on `id` re-PATCHed every agent."""
    for env in make_env(tmp_path, echo=echo):
        ids = env.ids(7)
        report = env.executor.execute(plan_of([env.action(i, "Break") for i in ids]), "cycle-1")
        assert sorted(report.ok) == sorted(ids) and {w.via for w in report.writes} == {"bulk"}
        assert env.counts() == {PUT_BULK: 1, GET_BULK: 1}  # no PATCH: one write per agent
        records = list(read_audit(env.audit_path))
        assert len({r["correlation_id"] for r in records}) == 1 and records[0]["correlation_id"]


def test_messages_and_lone_agents_are_patched(env: Env) -> None:
    a, b, c = env.ids(3)
    report = env.executor.execute(
        plan_of(
            [
                env.action(a, "Meeting", "team meeting 10:00"),
                env.action(b, "Meeting", "1:1"),
                env.action(c, "Meal"),
            ]
        ),
        "cycle-2",
    )
    assert sorted(report.ok) == sorted([a, b, c])
    assert env.counts() == {PATCH_ONE: 3, GET_BULK: 1}
    assert env.client.presence.get_presence(a).message == "team meeting 10:00"
    corr = [r["correlation_id"] for r in read_audit(env.audit_path)]
    assert len(set(corr)) == 3 and all(corr)


def test_bulk_is_chunked_by_50(env: Env) -> None:
    ids = env.ids(60)
    report = env.executor.execute(plan_of([env.action(i, "Training") for i in ids]), "cycle-3")
    assert len(report.ok) == 60
    assert env.counts() == {PUT_BULK: 2, GET_BULK: 2}


def test_failing_agent_is_isolated_and_backs_off(env: Env) -> None:
    good = env.ids(3)
    bad = "00000000-dead-4bad-8bad-000000000000"  # not a user of the org: the API refuses it
    plan = plan_of([env.action(i, "Away") for i in [*good, bad]])

    report = env.executor.execute(plan, "cycle-4")
    assert sorted(report.ok) == sorted(good) and report.failed == (bad,)
    # The bulk chunk failed as a whole (400), then each agent was written alone.
    assert env.counts() == {PUT_BULK: 1, PATCH_ONE: 4, GET_BULK: 1}
    failed = [r for r in read_audit(env.audit_path) if r["agent"]["id"] == bad]
    assert failed[0]["result"] == {"status": "failed", "error_code": "not.found"}
    assert failed[0]["correlation_id"]  # the error's correlation id
    assert env.executor.backoff.due(bad) == T0 + timedelta(seconds=5)  # rand 0.5: no jitter
    assert env.sample("presencectl_corrections_total", presence="Away", result="failed") == 1

    # Before it is due, the bad agent is skipped without a call; the good ones are written again.
    env.emu.control.clear_requests()
    env.clock.now = T0 + timedelta(seconds=4)
    report = env.executor.execute(plan, "cycle-5")
    assert report.backed_off == (bad,) and sorted(report.ok) == sorted(good)
    assert env.counts() == {PUT_BULK: 1, GET_BULK: 1}
    skipped = [
        r for r in read_audit(env.audit_path) if r["cycle_id"] == "cycle-5" and r["agent"]["id"] == bad
    ]
    assert skipped[0]["result"] == {"status": "skipped", "error_code": "backoff"}

    # Once due it is tried again, fails again, and waits twice as long.
    env.clock.now = T0 + timedelta(seconds=6)
    report = env.executor.execute(plan_of([env.action(bad, "Away")]), "cycle-6")
    assert report.failed == (bad,)
    assert env.executor.backoff.due(bad) == env.clock.now + timedelta(seconds=10)


def test_failed_bulk_falls_back_to_single_writes(env: Env) -> None:
    ids = env.ids(4)
    env.emu.control.faults(errorRate=1.0, errorStatus=500, pathPattern=r"/users/presences/bulk$")
    report = env.executor.execute(plan_of([env.action(i, "Busy") for i in ids]), "cycle-7")
    assert sorted(report.ok) == sorted(ids)
    assert {w.via for w in report.writes} == {"single"}
    counts = env.counts()
    assert counts[PUT_BULK] >= 1 and counts[PATCH_ONE] == 4


def test_recovered_agent_leaves_backoff(env: Env) -> None:
    (agent,) = env.ids(1)
    env.emu.control.faults(errorRate=1.0, errorStatus=400, pathPattern=agent)
    assert env.executor.execute(plan_of([env.action(agent, "Busy")]), "c1").failed == (agent,)
    env.emu.control.clear_faults()
    env.clock.now = T0 + timedelta(seconds=30)
    assert env.executor.execute(plan_of([env.action(agent, "Busy")]), "c2").ok == (agent,)
    assert env.executor.backoff.due(agent) is None


def test_held_plan_writes_nothing(env: Env) -> None:
    ids = env.ids(3)
    plan = plan_of([env.action(i, "Break") for i in ids], held=True)
    report = env.executor.execute(plan, "cycle-8")
    assert report.held and report.writes == () and sorted(report.held_actions) == sorted(ids)
    assert env.counts() == {}
    records = list(read_audit(env.audit_path))
    assert [r["mode"] for r in records] == ["held"] * 3
    assert all("[held: 9 corrections exceed" in r["reason"]["text"] for r in records)
    assert all(r["result"]["status"] == "skipped" and r["after"] is None for r in records)
    assert env.sample("presencectl_plans_held_total") == 1


def test_observe_actions_write_nothing(env: Env) -> None:
    a, b, c = env.ids(3)
    plan = plan_of(
        [
            env.action(a, "Break", mode=Mode.OBSERVE),
            env.action(b, "Break", mode=Mode.OBSERVE),
            env.action(c, "Break"),
        ]
    )
    report = env.executor.execute(plan, "cycle-9")
    assert sorted(report.observed) == sorted([a, b]) and report.ok == (c,)
    assert env.counts() == {PATCH_ONE: 1, GET_BULK: 1}
    modes = {r["agent"]["id"]: (r["mode"], r["result"]["status"]) for r in read_audit(env.audit_path)}
    assert modes == {a: ("observed", "skipped"), b: ("observed", "skipped"), c: ("enforced", "ok")}


def test_close_waits_for_in_flight_writes(env: Env) -> None:
    (agent,) = env.ids(1)
    env.emu.control.faults(latencyMs=400, pathPattern=r"/presences/purecloud$")
    done: list[float] = []

    def run() -> None:
        env.executor.execute(plan_of([env.action(agent, "Meal")]), "cycle-10")
        done.append(time.monotonic())

    worker = threading.Thread(target=run)
    worker.start()
    # In flight once its intent is on disk: from there on it is sent whatever happens (the
    # emulator holds it 400 ms, so close() comes while it is on the wire).
    wait_for(
        lambda: any(r.get("phase") == "intent" for r in read_audit(env.audit_path, intents=True)),
        "the write's intent on disk",
    )
    assert env.executor.close()
    closed_at = time.monotonic()
    worker.join()
    assert done and done[0] <= closed_at
    assert [r["result"]["status"] for r in read_audit(env.audit_path)] == ["ok"]
    with pytest.raises(ExecutorClosed):
        env.executor.execute(plan_of([env.action(agent, "Meal")]), "cycle-11")


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=0.999999))
def test_backoff_delay_doubles_from_5s_to_the_cap(failures: int, rand: float) -> None:
    delay = backoff_delay(failures, rand)
    nominal = min(BACKOFF_CAP_SECONDS, 5.0 * 2 ** (failures - 1))
    assert 0.8 * nominal <= delay <= min(BACKOFF_CAP_SECONDS, 1.2 * nominal)
    assert backoff_delay(failures + 1, rand) >= delay


# ---- write-ahead audit: intents, fail closed, recovery ----


def test_every_write_has_an_intent_before_its_outcome_with_the_same_write_id(env: Env) -> None:
    ids = env.ids(4)
    plan = plan_of([*(env.action(i, "Break") for i in ids[:3]), env.action(ids[3], "Meal", message="lunch")])
    assert sorted(env.executor.execute(plan, "cycle-w").ok) == sorted(ids)
    lines = list(read_audit(env.audit_path, intents=True))
    for agent in ids:
        intent, outcome = [r for r in lines if r["agent"]["id"] == agent]
        assert intent["phase"] == "intent" and intent["result"]["status"] == "pending"
        assert outcome["phase"] == "outcome" and outcome["outcome"] == "confirmed"
        assert outcome["result"]["status"] == "ok" and intent["write_id"] == outcome["write_id"]
    assert [r["phase"] for r in lines[:3]] == ["intent"] * 3  # the bulk chunk's intents, first
    assert pending_intents(env.audit_path) == []
    assert len(list(read_audit(env.audit_path))) == 4  # the default view: one record per write


def test_a_replica_paused_between_its_lease_check_and_the_send_sends_nothing(env: Env) -> None:
    """The engine confirmed the lease before the batch; the process was then paused (SIGSTOP)
    while the intents were fsync'd and woke past its local deadline: nothing goes out, and every
    intent gets its outcome (failed, fenced), bulk and single alike."""
    checks: list[str] = []

    def holds() -> bool:
        checks.append("holds")
        return False

    env.client.set_write_guard(holds)  # the coordinator's `holds`, as the daemon sets it
    executor = Executor(env.client, AuditWriter(env.audit_path), env.metrics, env.clock, fence=lambda: True)
    try:
        ids = env.ids(3)
        plan = plan_of(
            [*(env.action(i, "Break") for i in ids[:2]), env.action(ids[2], "Meal", message="lunch")]
        )
        report = executor.execute(plan, "cycle-paused")
    finally:
        executor.close()
    assert report.ok == () and sorted(report.failed) == sorted(ids)
    assert PUT_BULK not in env.counts() and PATCH_ONE not in env.counts()
    assert checks == ["holds", "holds"]  # the bulk chunk and the lone agent with a message
    lines = list(read_audit(env.audit_path, intents=True))
    outcomes = [r for r in lines if r["phase"] == "outcome"]
    assert len(outcomes) == 3 and {r["result"]["error_code"] for r in outcomes} == {"fenced"}
    assert pending_intents(env.audit_path) == []


def test_a_full_disk_stops_every_write_and_writing_resumes_when_there_is_room(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "fs", 512) as fs:
        env = make_env(tmp_path, audit_dir=fs)
        e = next(env)
        try:
            ids = e.ids(60)
            plan = plan_of([e.action(i, "Break") for i in ids])  # chunks of 50 and 10: neither fits
            e.executor.execute(plan_of([e.action(ids[0], "Coffee Break")]), "before")  # the log exists
            e.emu.control.clear_requests()
            filler = fill(fs, leave_bytes=1024)
            report = e.executor.execute(plan, "cycle-full")
            assert report.audit_error is not None and "No space left" in report.audit_error
            assert report.ok == () and {w.error_code for w in report.writes} == {"audit-unavailable"}
            assert not any(w.sent for w in report.writes)
            assert e.counts() == {}  # fail closed: not one presence write was sent
            assert e.sample("presencectl_audit_writable") == 0
            assert e.sample("presencectl_audit_write_failures_total") >= 1
            assert e.executor.audit_ok() is False
            list(read_audit(e.audit_path, intents=True, on_problem=pytest.fail))  # no torn line

            filler.unlink()
            assert e.executor.audit_ok() is True and e.sample("presencectl_audit_writable") == 1
            report = e.executor.execute(plan, "cycle-room")
            assert sorted(report.ok) == sorted(ids) and report.audit_error is None
            outcomes = [r for r in read_audit(e.audit_path) if r["cycle_id"] == "cycle-room"]
            assert sorted(r["agent"]["id"] for r in outcomes) == sorted(ids)
            assert pending_intents(e.audit_path) == []
        finally:
            next(env, None)


def test_recover_records_what_agents_show_for_intents_a_dead_run_left(env: Env) -> None:
    applied, lost = env.ids(2)
    target = env.target("Break")
    intents = [
        AuditRecord(
            time=T0,
            agent_id=agent,
            policy="front-line",
            mode=AuditMode.ENFORCED,
            result=AuditResult.PENDING,
            reason="window Mon-Fri 09:00-17:00",
            cycle_id="dead-run",
            desired=PresenceRef(target.name, target.definition_id),
            before=PresenceRef("Offline", "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5"),
            phase=Phase.INTENT,
            write_id=f"w-{agent}",
        )
        for agent in (applied, lost)
    ]
    AuditWriter(env.audit_path).write_batch(intents)
    env.emu.control.set_presence(applied, "Break")  # Genesys accepted this one before the crash
    assert env.executor.recover() == 2
    got = {r["agent"]["id"]: r for r in read_audit(env.audit_path)}
    assert got[applied]["outcome"] == "confirmed" and got[applied]["result"]["status"] == "ok"
    assert got[lost]["outcome"] == "unknown" and got[lost]["result"]["status"] == "failed"
    assert got[lost]["after"]["id"] != target.definition_id
    assert {r["write_id"] for r in got.values()} == {f"w-{applied}", f"w-{lost}"}
    assert pending_intents(env.audit_path) == []
    assert env.executor.recover() == 0  # done once per executor
