"""Code comments cite the project's own API notes (docs/genesys-api.md), by section anchors that
exist, never the team-internal "shared API doc §N" a maintainer outside the team cannot read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "genesys-api.md"
SOURCES = ("controller", "tests", "bench", "docs")
LINK = re.compile(r"genesys-api\.md#([A-Za-z0-9_-]+)")
INTERNAL = re.compile(r"shared API doc|§ ?\d|\bAPI doc \d")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _texts() -> dict[Path, str]:
    files = [ROOT / "README.md"]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md"}]
    # errors="replace": tests/model/bad holds deliberately broken files
    return {p: p.read_text(encoding="utf-8", errors="replace") for p in files if p.is_file()}


def test_every_api_doc_link_names_an_existing_section() -> None:
    headings = re.findall(r"^#+ (.+)$", API_DOC.read_text(encoding="utf-8"), re.M)
    anchors = {_anchor(h) for h in headings}
    broken = [
        f"{path.relative_to(ROOT)}: #{name}"
        for path, text in _texts().items()
        for name in LINK.findall(text)
        if name not in anchors
    ]
    assert not broken, f"links to missing sections of docs/genesys-api.md: {broken}"


def test_no_comment_cites_the_internal_shared_api_doc() -> None:
    me = Path(__file__).resolve()
    cited = [
        f"{path.relative_to(ROOT)}:{n}"
        for path, text in _texts().items()
        if path != me
        for n, line in enumerate(text.splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert not cited, f"cite docs/genesys-api.md#<section> instead of the internal API doc: {cited}"
