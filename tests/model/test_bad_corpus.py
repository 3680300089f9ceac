"""Every file in bad/ is rejected with exactly the error its first line announces.

First line: `# expect: <file>:<line>:<col>: <message substring>`. Files are judged on their own,
against the demo org (catalog and 50 agents) at the fixed NOW, so every kind of check is covered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.core.domain import Agent, PresenceCatalog
from controller.model.errors import ERROR, DesiredStateError
from controller.model.loader import load_files
from tests.model.conftest import NOW

BAD = Path(__file__).parent / "bad"
CASES = sorted(p for p in BAD.iterdir() if p.suffix in (".yaml", ".yml"))


def _expectation(path: Path) -> tuple[str, int, int, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    prefix = "# expect: "
    assert first.startswith(prefix), (
        f"{path.name}: first line must be '{prefix}<file>:<line>:<col>: <message>'"
    )
    file, line, column, message = first[len(prefix) :].split(":", 3)
    return file, int(line), int(column), message.strip()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_bad_file_is_rejected_with_its_error(
    path: Path, demo_catalog: PresenceCatalog, demo_agents: list[Agent]
) -> None:
    file, line, column, message = _expectation(path)
    with pytest.raises(DesiredStateError) as caught:
        load_files([path], now=NOW, catalog=demo_catalog, agents=demo_agents)
    found = [
        (Path(d.location.file).name, d.location.line, d.location.column, d.message)
        for d in caught.value.diagnostics
    ]
    assert all(d.severity == ERROR for d in caught.value.diagnostics)
    # Exactly one error: the announced one, with no follow-up noise.
    assert len(found) == 1 and found[0][:3] == (file, line, column) and message in found[0][3], (
        f"expected {file}:{line}:{column}: {message}\nfound:\n" + "\n".join(map(str, found))
    )
