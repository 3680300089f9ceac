"""The README's deployment shapes are valid ControllerConfig documents."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from controller.model.loader import check_files
from tests.model.conftest import NOW

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = README.read_text("utf-8").split("## Deployment shapes", 1)[1].split("\n## ", 1)[0]
EXAMPLES = [textwrap.dedent(b) for b in re.findall(r"```yaml\n(.*?)```", SECTION, re.S)]


def test_there_is_one_example_per_coordinated_shape() -> None:
    shapes = [(re.findall(r"backend: (\w+)", b)[0], re.findall(r"mode: ([\w-]+)", b)[0]) for b in EXAMPLES]
    assert shapes == [
        ("kubernetes", "active-standby"),
        ("kubernetes", "sharded"),
        ("etcd", "sharded"),
        ("etcd", "active-standby"),
    ]


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_shape_is_valid(example: str, tmp_path: Path) -> None:
    (tmp_path / "controller.yaml").write_text(example)
    state, diagnostics = check_files([tmp_path / "controller.yaml"], now=NOW)
    assert state is not None, "\n".join(map(str, diagnostics))
    assert state.config.coordination.backend in ("etcd", "kubernetes")
