"""The pre-commit hooks run what `make lint` runs: the same commands, in the same order."""

from __future__ import annotations

import re

import yaml

from tests.deploy.conftest import ROOT


def lint_recipe() -> list[str]:
    """The Makefile's lint commands, its variables spelt out as the hooks spell them."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lint: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe is not None, "the Makefile has no lint target"
    commands = []
    for line in recipe.group(1).splitlines():
        command = line.strip().split("  #")[0].strip()
        commands.append(command.replace("$(VENV)/", ".venv/").replace("$(PY) ", ".venv/bin/python "))
    return commands


def test_the_hooks_are_the_lint_recipe() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "local", "local hooks only: nothing to download, the venv's pinned tools"
    hooks = repo["hooks"]
    assert all(h["language"] == "system" and h["pass_filenames"] is False for h in hooks)
    assert [h["entry"] for h in hooks] == lint_recipe()
