"""load_desired as a whole: all or nothing, ordering, digest, local times, presence resolution."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.core.domain import PresenceCatalog
from controller.core.presence import WELL_KNOWN_DEFINITION_IDS, SystemPresence
from controller.log import scrub
from controller.model.errors import DesiredStateError, secrets_in
from controller.model.loader import check_files, desired_files, load_desired
from controller.model.resolve import resolve_presences, targets
from tests.model.conftest import NOW
from tests.model.documents import override_policy

DESIRED = Path(__file__).resolve().parents[2] / "desired"
BAD = Path(__file__).parent / "bad"


def test_one_bad_file_rejects_the_whole_set_with_every_error_sorted(tmp_path: Path) -> None:
    for name in ("controller.yaml", "mapping-wfm.yaml", "policy-emea-support.yaml"):
        shutil.copy(DESIRED / name, tmp_path)
    shutil.copy(BAD / "sub-ttl-too-small.yaml", tmp_path / "b.yaml")
    shutil.copy(BAD / "policy-mode-invalid.yaml", tmp_path / "a.yml")
    with pytest.raises(DesiredStateError) as caught:
        load_desired(tmp_path, now=NOW)
    where = [(Path(d.location.file).name, d.location.line) for d in caught.value.diagnostics]
    assert where == [("a.yml", 15), ("b.yaml", 11)]
    assert str(caught.value).startswith(
        f"invalid desired state: {tmp_path}/a.yml:15:9: error: invalid value 'Enforce'"
    )
    assert str(caught.value).endswith("(and 1 more)")


def test_files_are_read_sorted_without_dotfiles_or_other_suffixes(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(override_policy("b", "b@x.io"))
    (tmp_path / "a.yaml").write_text(override_policy("a", "a@x.io"))
    (tmp_path / ".hidden.yaml").write_text("not: [valid")
    (tmp_path / "notes.txt").write_text("not: [valid")
    (tmp_path / "sub.yaml").mkdir()
    assert [p.name for p in desired_files(tmp_path)] == ["a.yaml", "b.yml"]
    state = load_desired(tmp_path, now=NOW)
    assert [p.name for p in state.policies] == ["a", "b"]


def test_digest_covers_names_and_contents_not_location(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):
        d.mkdir()
        (d / "p.yaml").write_text(override_policy())
    digest = load_desired(one, now=NOW).digest
    assert len(digest) == 64 and load_desired(two, now=NOW).digest == digest
    (two / "p.yaml").write_text(override_policy() + "  # a comment changes the digest\n")
    assert load_desired(two, now=NOW).digest != digest
    (two / "p.yaml").rename(two / "q.yaml")
    (two / "q.yaml").write_text(override_policy())
    assert load_desired(two, now=NOW).digest != digest


def test_local_override_times_use_the_policy_time_zone(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(override_policy(until="2026-11-24T08:00"))  # 13:00 UTC (EST)
    (override,) = load_desired(tmp_path, now=NOW).policies[0].overrides
    assert override.until == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert override.until.tzinfo is UTC
    at_until = load_desired(tmp_path, now=datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    assert at_until.policies[0].overrides == () and at_until.expired[0].override == override


def test_now_must_be_aware(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(override_policy())
    with pytest.raises(ValueError, match="timezone-aware"):
        load_desired(tmp_path, now=datetime(2026, 11, 24, 12, 0))


def test_resolve_presences_fills_every_definition_id(demo_catalog: PresenceCatalog) -> None:
    state = load_desired(DESIRED, now=NOW)
    assert all(t.definition_id is None for t in targets(state))
    resolved = resolve_presences(state, demo_catalog)
    by_name = {t.name: t.definition_id for t in targets(resolved)}
    assert by_name["On Queue"] == WELL_KNOWN_DEFINITION_IDS[SystemPresence.ON_QUEUE]
    assert by_name["Coffee Break"] == demo_catalog.resolve("coffee break").id  # type: ignore[union-attr]
    assert [t.location for t in targets(resolved)] == [t.location for t in targets(state)]


def test_resolve_presences_names_file_line_and_valid_names(
    tmp_path: Path, demo_catalog: PresenceCatalog
) -> None:
    (tmp_path / "p.yaml").write_text(override_policy(presence="Boardroom"))
    state = load_desired(tmp_path, now=NOW)
    with pytest.raises(DesiredStateError) as caught:
        resolve_presences(state, demo_catalog)
    (problem,) = caught.value.diagnostics
    assert str(problem.location) == f"{tmp_path}/p.yaml:11:17"
    assert problem.message == "unknown presence 'Boardroom'"
    assert problem.hint.startswith("valid presences: Available, Away, Busy, Offline, Idle, On Queue")
    assert "Personal Time" in problem.hint


def test_offline_system_names_are_checked_and_labels_noted(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(override_policy(presence="ON_QUEUE"))
    state, diagnostics = check_files(desired_files(tmp_path), now=NOW)
    assert state is not None and diagnostics == []
    (tmp_path / "p.yaml").write_text(override_policy(presence="Lunch"))
    state, (note,) = check_files(desired_files(tmp_path), now=NOW)
    assert state is not None and note.severity == "note" and note.value == "Lunch"


def test_inline_secret_is_rejected_and_handed_to_the_caller_without_touching_the_logs(tmp_path: Path) -> None:
    secret = "model-only-inline-secret-7f3a"  # registered by no other test: the scrubber's registry is global
    text = (BAD / "config-inline-secret.yaml").read_text().replace("hunter2-very-secret", secret)
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(DesiredStateError) as caught:
        load_desired(tmp_path, now=NOW)
    assert secret not in str(caught.value) and caught.value.diagnostics[0].value == "<redacted>"
    assert secret not in repr(caught.value.diagnostics) and secret not in str(
        caught.value.diagnostics[0].to_json()
    )
    assert secrets_in(caught.value.diagnostics) == {secret}  # the command registers it (tests/commands)
    assert scrub(f"leaked: {secret}") == f"leaked: {secret}"  # validation itself has no side effect


CONFIG = """apiVersion: presencectl.io/v1
kind: ControllerConfig
metadata:
  name: c
spec:
  blastRadius: {radius}
"""


@pytest.mark.parametrize(
    ("radius", "percent", "floor", "limit_of_200"),
    [
        ("0.1", 10.0, 5, 20),
        ("0.29", 29.0, 5, 58),
        ('"12.5%"', 12.5, 5, 25),
        ("{percent: 10, minAgents: 30}", 10.0, 30, 30),
        ("{minAgents: 3}", 25.0, 3, 50),
    ],
)
def test_blast_radius_as_a_share_a_percentage_or_percent_and_floor(
    tmp_path: Path, radius: str, percent: float, floor: int, limit_of_200: int
) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG.format(radius=radius))
    state = load_desired(tmp_path, now=NOW)
    assert (state.config.blast_radius.percent, state.config.blast_radius.min_agents) == (percent, floor)
    assert state.config.blast_radius.limit(200) == limit_of_200
    assert state.config.blast_radius.limit(4) == floor  # a small org: the floor decides
