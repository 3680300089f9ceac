"""Where the process listens and keeps its state comes from flags or the environment, over
desired/'s ControllerConfig, so one desired/ serves a laptop and a container."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from controller.audit import read_audit
from controller.cli import main
from controller.commands.connection import placement_from_args
from controller.emulator.server import RunningEmulator
from controller.engine.session import Placement, placement
from controller.model.types import ControllerConfig, DesiredState
from tests.commands.tty import ROOT

STATE = DesiredState(config=ControllerConfig(http_bind="127.0.0.1:9464", audit_path="audit/audit.jsonl"))


def test_flags_win_over_the_environment_which_wins_over_desired() -> None:
    env = {
        "PRESENCECTL_HTTP_BIND": "0.0.0.0:9464",
        "PRESENCECTL_AUDIT_PATH": "/var/lib/presencectl/audit.jsonl",
        "PRESENCECTL_DATABASE": "/var/lib/presencectl/adherence.sqlite",
    }
    from_env = placement_from_args(argparse.Namespace(), env).apply(STATE).config
    assert from_env.http_bind == "0.0.0.0:9464"
    assert from_env.audit_path == "/var/lib/presencectl/audit.jsonl"
    assert from_env.adherence_database == "/var/lib/presencectl/adherence.sqlite"
    flags = argparse.Namespace(http_bind="127.0.0.1:0", audit_path="a.jsonl", database=None)
    mixed = placement_from_args(flags, env).apply(STATE).config
    assert (mixed.http_bind, mixed.audit_path) == ("127.0.0.1:0", "a.jsonl")
    assert mixed.adherence_database == "/var/lib/presencectl/adherence.sqlite"
    assert Placement().apply(STATE) is STATE
    assert placement(environ={}).apply(STATE).config.adherence_database == "audit/adherence.sqlite"


def test_apply_writes_the_audit_log_where_the_flag_says(
    emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "desired", tmp_path / "desired")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENESYS_CLIENT_ID", emulator.client_id)
    monkeypatch.setenv("GENESYS_CLIENT_SECRET", emulator.client_secret)
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "placement-webhook-secret-0123456789")
    monkeypatch.setenv("PRESENCECTL_AUDIT_PATH", str(tmp_path / "from-env" / "audit.jsonl"))
    wanted = tmp_path / "from-flag" / "audit.jsonl"
    args = ["apply", "desired", "--yes", "--audit-path", str(wanted)]
    code = main([*args, "--api-base", emulator.api_base, "--login-base", emulator.login_base])
    assert code in (0, 1)
    assert list(read_audit(wanted)) != []  # the trigger pass at least: the example's subscription
    assert not (tmp_path / "audit").exists() and not (tmp_path / "from-env").exists()
