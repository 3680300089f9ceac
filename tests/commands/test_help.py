"""`presencectl --help` is written for users, and every option of every command says what it
does and, where it has one, its default."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from controller.cli import build_parser


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"presencectl": parser, **dict(sub.choices)}


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_option_has_help_text(name: str) -> None:
    parser = _commands()[name]
    missing = [
        "/".join(a.option_strings) or a.dest
        for a in parser._actions
        if not isinstance(a, argparse._SubParsersAction) and not (a.help and a.help.strip())
    ]
    assert missing == [], f"{name}: options without help: {missing}"


def test_top_level_help_is_for_users_not_a_docstring() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "controller", "--help"], capture_output=True, text=True, check=True
    )
    assert "typical use:" in done.stdout and "presencectl plan desired/" in done.stdout
    assert "argument parsing only" not in done.stdout  # the module docstring of cli.py
    assert "--log-format" in done.stdout and "-v, --verbose" in done.stdout


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("emulator", "address to listen on (default: 127.0.0.1)"),
        ("emulator", "OAuth client id the emulator accepts (default: presencectl-demo)"),
        ("audit", "else audit/audit.jsonl"),
        ("plan", "(default: text)"),
    ],
)
def test_defaults_are_shown(command: str, shown: str) -> None:
    text = " ".join(_commands()[command].format_help().split())
    assert shown in text


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "controller", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("presencectl ")
