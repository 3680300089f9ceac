"""LICENSE matches the license pyproject.toml declares; CHANGELOG.md follows Keep a Changelog;
the README's "Operating presencectl" section links both."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_license_file_is_the_full_text_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    text = (ROOT / "LICENSE").read_text()
    assert declared == "Apache-2.0"
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and text.count("\n") > 190  # the whole license


def test_the_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n") and "keepachangelog.com" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions[0] == "Unreleased"
    from controller import __version__

    assert __version__ in versions
    sections = set(re.findall(r"^### (\w+)", text, re.M))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_readme_links_them_from_operating_presencectl() -> None:
    readme = (ROOT / "README.md").read_text()
    operating = readme.split("## Operating presencectl", 1)[1].split("\n## ", 1)[0]
    assert "(LICENSE)" in operating and "(CHANGELOG.md)" in operating
    flags = ("--audit-path", "--database", "--http-bind", "--log-format", "--follow", "--limit", "--policy")
    for flag in (*flags, "--progress", "--out", "--yes"):
        assert flag in operating
