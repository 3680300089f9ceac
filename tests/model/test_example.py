"""The shipped desired/ example describes the emulator's demo org: valid, resolved, non-overlapping."""

from __future__ import annotations

from pathlib import Path

from controller.core.domain import ActivityCategory, Agent, PresenceCatalog
from controller.model.loader import check_files, desired_files, load_desired
from controller.model.resolve import targets
from controller.model.types import PresencePolicy
from tests.model.conftest import NOW

DESIRED = Path(__file__).resolve().parents[2] / "desired"


def test_example_resolves_against_the_demo_org(
    demo_catalog: PresenceCatalog, demo_agents: list[Agent]
) -> None:
    state = load_desired(DESIRED, now=NOW, catalog=demo_catalog, agents=demo_agents)
    assert all(t.definition_id for t in targets(state))
    lunch = demo_catalog.resolve("Lunch")
    assert lunch is not None
    assert state.mappings[0].states["WFM_LUNCH"].definition_id == lunch.id
    # Every kind is shown.
    assert len(state.policies) == 2 and state.mappings and state.subscriptions
    assert (
        state.config.webhook_secret is not None
        and state.config.webhook_secret.env == "PRESENCECTL_WEBHOOK_SECRET"
    )
    assert state.config.http_bind == "127.0.0.1:9464" and state.config.audit_path == "audit/audit.jsonl"


def test_example_policies_manage_disjoint_agents(
    demo_catalog: PresenceCatalog, demo_agents: list[Agent]
) -> None:
    state = load_desired(DESIRED, now=NOW, catalog=demo_catalog, agents=demo_agents)
    selected = [{a.id for a in demo_agents if p.agents.matches(a)} for p in state.policies]
    assert all(selected) and not set.intersection(*selected)
    # Every agent with a management unit is managed.
    assert set.union(*selected) == {a.id for a in demo_agents if a.management_unit_id}


def test_example_shows_schedule_windows_exceptions_and_overrides() -> None:
    state = load_desired(DESIRED, now=NOW)
    by_name: dict[str, PresencePolicy] = {p.name: p for p in state.policies}
    wfm = by_name["customer-care-schedule"]
    assert wfm.schedule is not None and wfm.schedule.time_off
    # No opinion off shift: Offline there would sign out agents logging in early (README).
    assert wfm.schedule.off_shift is None
    assert wfm.schedule.categories[ActivityCategory.OFF_QUEUE_WORK].name == "Back Office"
    assert wfm.schedule.activity_codes["3"].name == "Team Meeting"
    assert wfm.overrides and wfm.overrides[0].until > NOW
    hours = by_name["emea-support-hours"]
    assert any(w.crosses_midnight for w in hours.windows)
    assert hours.exceptions and hours.rules.allowed_presences


def test_example_offline_has_only_notes_for_secondary_labels() -> None:
    state, diagnostics = check_files(desired_files(DESIRED), now=NOW)
    assert state is not None
    assert diagnostics and all(d.severity == "note" for d in diagnostics)
    assert {d.value for d in diagnostics} == {
        "Back Office",
        "Coaching",
        "Coffee Break",
        "E-Learning",
        "Lunch",
        "Team Meeting",
    }
