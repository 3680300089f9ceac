"""The daemon in a real org's situations (issue "Safe in a real org", parts 1-2), driven through the
emulator: an agent who is not logged in, or is Out of Office, is never written; the old behaviour
(`offlineAgents` / `outOfOffice: enforce`) is shown doing the harm the rules prevent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import NamedTuple

from controller.audit import AuditWriter, read_audit
from controller.core.planner import SkipKind
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.executor import Executor
from controller.engine.reconciler import CycleResult, Reconciler
from controller.metrics import Metrics
from tests.engine.conftest import DAY, DESIRED, emulator_clock, open_test_session

NEW_YORK_MORNING = datetime.combine(DAY, time(15), UTC)  # 10:00 in New York, 15:00 in London


class Run(NamedTuple):
    result: CycleResult
    metrics: Metrics


def desired_with(tmp_path: Path, rule: str, value: str) -> Path:
    target = tmp_path / f"desired-{rule}-{value}"
    shutil.copytree(DESIRED, target)
    for policy in target.glob("policy-*.yaml"):
        policy.write_text(policy.read_text().replace(f"{rule}: leave", f"{rule}: {value}"))
    # Every logged-out agent with an opinion is then a write: more than the guard's half.
    config = target / "controller.yaml"
    config.write_text(config.read_text().replace("percent: 50", "percent: 100"))
    return target


def apply_once(emu: RunningEmulator, directory: Path, tmp_path: Path) -> Run:
    session = open_test_session(emu, directory)
    clock = emulator_clock(emu)
    metrics = Metrics()
    executor = Executor(session.client, AuditWriter(tmp_path / "audit.jsonl"), metrics, clock)
    try:
        result = Reconciler(session.client, session.org_reader, metrics, clock, executor).cycle(session.state)
    finally:
        executor.close()
    return Run(result, metrics)


def on_queue_now(emu: RunningEmulator, count: int) -> list[str]:
    """Customer Care agents the schedule wants On Queue now (a dry run of the example policy)."""
    session = open_test_session(emu)
    result = Reconciler(session.client, session.org_reader, Metrics(), emulator_clock(emu)).cycle(
        session.state, write=False
    )
    wanted = [
        d.user_id
        for d in result.plan.decisions
        if d.policy == "customer-care-schedule" and d.decision.target and d.decision.target.name == "On Queue"
    ]
    assert len(wanted) >= count
    return wanted[:count]


def presence(emu: RunningEmulator, user_id: str) -> tuple[str, str]:
    state = emu.backend.presence.users[user_id]
    return emu.backend.presence.system_presence_of(state).value, state.routing_status.value


def skip_of(result: CycleResult, user_id: str) -> SkipKind | None:
    return next((s.kind for s in result.plan.skipped if s.user_id == user_id), None)


def test_a_logged_out_agent_is_never_put_on_queue(day_emulator: RunningEmulator, tmp_path: Path) -> None:
    emu = day_emulator
    emu.control.set_clock(NEW_YORK_MORNING)
    (user_id,) = on_queue_now(emu, 1)
    emu.control.set_logged_in(user_id, False)  # a no-show, or gone home sick
    emu.control.advance_clock(60)  # past every grace: only the safety rule holds the write back

    run = apply_once(emu, DESIRED, tmp_path)

    assert skip_of(run.result, user_id) is SkipKind.LOGGED_OUT
    assert run.result.report is not None and user_id not in run.result.report.ok
    assert presence(emu, user_id) == ("Offline", "OFF_QUEUE")  # routing offers nothing to it
    skipped = run.metrics.registry.get_sample_value("presencectl_agents_skipped", {"reason": "logged-out"})
    assert skipped is not None and skipped >= 1


def test_the_old_behaviour_rings_interactions_at_an_empty_desk(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    emu = day_emulator
    emu.control.set_clock(NEW_YORK_MORNING)
    (user_id,) = on_queue_now(emu, 1)
    emu.control.set_logged_in(user_id, False)
    emu.control.advance_clock(60)

    run = apply_once(emu, desired_with(tmp_path, "offlineAgents", "enforce"), tmp_path)

    assert run.result.report is not None and user_id in run.result.report.ok  # written On Queue
    assert presence(emu, user_id) == ("OnQueue", "IDLE")
    emu.control.offer_interaction(user_id)  # a customer is routed to the empty desk
    assert presence(emu, user_id) == ("OnQueue", "NOT_RESPONDING")


def test_an_out_of_office_agent_is_left_alone_unless_the_policy_enforces(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    emu = day_emulator
    emu.control.set_clock(NEW_YORK_MORNING)
    away, enforced = on_queue_now(emu, 2)
    for user_id in (away, enforced):
        emu.control.set_presence(user_id, "Available")  # logged in, not On Queue
        emu.control.set_out_of_office(user_id, True)
    emu.control.advance_clock(120)  # past every grace

    left = apply_once(emu, DESIRED, tmp_path)
    assert skip_of(left.result, away) is SkipKind.OUT_OF_OFFICE
    assert skip_of(left.result, enforced) is SkipKind.OUT_OF_OFFICE
    assert presence(emu, away) == ("Available", "OFF_QUEUE")

    # the old behaviour, now only by choice: written like anyone else
    written = apply_once(emu, desired_with(tmp_path, "outOfOffice", "enforce"), tmp_path)
    assert written.result.report is not None and {away, enforced} <= set(written.result.report.ok)
    assert presence(emu, away) == ("OnQueue", "IDLE")


def test_plan_and_apply_on_the_demo_org_list_and_spare_logged_out_and_out_of_office_agents(
    tmp_path: Path,
) -> None:
    """The real CLI on the default demo org (real clock): two agents logged out, two out of office."""
    now = datetime.now(UTC)
    with start_emulator(agents=200, seed=1, rate_limit=100_000, initial_adherence=0.85) as emu:
        steady = _customer_care_agents_without_login_changes_near(emu, now)
        logged_out, out_of_office = steady[:2], steady[2:4]
        for user_id in logged_out:
            emu.control.set_logged_in(user_id, False)
        for user_id in out_of_office:
            emu.control.set_presence(user_id, "Away")  # by hand, logged in; the desired is never Away
            emu.control.set_out_of_office(user_id, True)
        before = {u: presence(emu, u) for u in logged_out + out_of_office}
        directory = tmp_path / "desired"
        shutil.copytree(DESIRED, directory)
        # Overrides give the four an opinion (On Queue) whatever the wall-clock time of the run.
        emails = {a.id: a.email for a in emu.org.agents}
        entry = '    - {{agent: {}, presence: On Queue, until: "2030-01-01T00:00:00Z"}}\n'
        policy = directory / "policy-customer-care.yaml"
        overrides = "".join(entry.format(emails[u]) for u in logged_out + out_of_office)
        policy.write_text(policy.read_text().replace("  overrides:\n", "  overrides:\n" + overrides))
        config = directory / "controller.yaml"
        config.write_text(
            config.read_text().replace("path: audit/audit.jsonl", f"path: {tmp_path / 'a.jsonl'}")
        )
        env = {
            **os.environ,
            "GENESYS_API_BASE": emu.api_base,
            "GENESYS_LOGIN_BASE": emu.login_base,
            "GENESYS_CLIENT_ID": emu.client_id,
            "GENESYS_CLIENT_SECRET": emu.client_secret,
        }

        planned = subprocess.run(
            [sys.executable, "-m", "controller", "plan", str(directory)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert planned.returncode in (0, 1), planned.stderr[-2000:]
        table = planned.stdout.split("left alone (never written):", 1)[1]
        for user_id in logged_out:
            assert any(emails[user_id] in line and "logged-out" in line for line in table.splitlines())
        for user_id in out_of_office:
            assert any(emails[user_id] in line and "out-of-office" in line for line in table.splitlines())

        emu.control.clear_requests()
        applied = subprocess.run(
            [sys.executable, "-m", "controller", "apply", str(directory)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert "HELD" not in applied.stdout, applied.stdout
        assert {u: presence(emu, u) for u in before} == before
        written = [r["path"] for r in emu.control.requests_log() if r["method"] in ("PATCH", "PUT")]
        assert not [p for p in written for u in before if u in p]
        assert all(f"wrote {emails[u]} " not in applied.stdout for u in before)


def _customer_care_agents_without_login_changes_near(emu: RunningEmulator, now: datetime) -> list[str]:
    """Customer Care agents with no login or logout within an hour of `now`, so the real clock
    cannot change what the test set up."""
    org = emu.org
    customer_care = {m.id for m in org.management_units if m.name in ("Inbound Sales", "Support")}
    near = {
        s.agent_id
        for s in org.logins or []
        if abs(s.start - now) < timedelta(hours=1) or abs(s.end - now) < timedelta(hours=1)
    }
    chosen = [a.id for a in org.agents if a.management_unit_id in customer_care and a.id not in near]
    assert len(chosen) >= 4
    return chosen


def test_a_not_responding_agent_is_taken_off_queue_and_the_audit_says_so(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    emu = day_emulator
    emu.control.set_clock(NEW_YORK_MORNING)
    (user_id,) = on_queue_now(emu, 1)
    emu.control.set_presence(user_id, "On Queue")
    emu.control.advance_clock(60)  # past the grace of that hand-made change
    emu.control.miss_interaction(user_id)  # an alert went unanswered
    directory = tmp_path / "desired"
    shutil.copytree(DESIRED, directory)
    policy = directory / "policy-customer-care.yaml"
    email = next(a.email for a in emu.org.agents if a.id == user_id)
    entry = f'    - {{agent: {email}, presence: Break, until: "2030-01-01T00:00:00Z"}}\n'
    policy.write_text(policy.read_text().replace("  overrides:\n", "  overrides:\n" + entry))

    run = apply_once(emu, directory, tmp_path)

    assert run.result.report is not None and user_id in run.result.report.ok
    assert presence(emu, user_id) == ("Break", "OFF_QUEUE")
    (record,) = [r for r in read_audit(tmp_path / "audit.jsonl") if r["agent"]["id"] == user_id]
    assert record["before"]["routing_status"] == "NOT_RESPONDING" and record["desired"]["label"] == "Break"
