"""The README's desired-state examples are themselves valid desired state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from controller.model.loader import check_files
from tests.model.conftest import NOW

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = README.read_text("utf-8").split("## Desired state", 1)[1]
EXAMPLES = [b for b in re.findall(r"```yaml\n(.*?)```", SECTION, re.S) if "kind: PresencePolicy |" not in b]


def test_every_kind_has_an_example() -> None:
    kinds = {m for b in EXAMPLES for m in re.findall(r"^kind: (\w+)$", b, re.M)}
    assert kinds == {"PresencePolicy", "PresenceMapping", "EventSubscription", "ControllerConfig"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[re.findall(r"kind: (\w+)", b)[0] for b in EXAMPLES])
def test_readme_example_is_valid(example: str, tmp_path: Path) -> None:
    (tmp_path / "example.yaml").write_text(example)
    state, diagnostics = check_files([tmp_path / "example.yaml"], now=NOW)
    assert state is not None, "\n".join(map(str, diagnostics))
