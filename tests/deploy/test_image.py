"""The image's install, without a container engine: the Dockerfile's steps (a wheel of the
project, installed into a clean virtualenv) run here, then the installed `presencectl` answers
--version, validates the example desired/, and runs as the image runs it: listening where
$PRESENCECTL_HTTP_BIND says, state under its working directory (the image's volume), healthy by
the Dockerfile's own HEALTHCHECK command, and exiting 0 on SIGTERM."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from controller import __version__
from controller.emulator.org import agent_id
from controller.emulator.server import RunningEmulator
from tests.deploy.conftest import ROOT
from tests.engine.conftest import desired_copy
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh virtualenv holding only the project's wheel and its dependencies."""
    work = tmp_path_factory.mktemp("image")
    wheels = work / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("presencectl-*.whl")
    assert wheel.name.startswith(f"presencectl-{__version__}-")
    target = work / "venv"
    venv.create(target, with_pip=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    install = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    return target / "bin"


def test_the_wheel_holds_only_what_runs(installed: Path) -> None:
    site = next((installed.parent / "lib").glob("python3*/site-packages"))
    assert (site / "controller" / "cli.py").exists()
    schemas = site / "controller" / "schemas"  # a link in the checkout, files in the wheel
    assert not schemas.is_symlink() and sorted(p.name for p in schemas.glob("*.json")) == sorted(
        p.name for p in (ROOT / "schemas").glob("*.json")
    )
    assert not (site / "tests").exists() and not (site / "bench").exists()


def test_installed_version_and_offline_validate(installed: Path) -> None:
    version = subprocess.run(
        [str(installed / "presencectl"), "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0 and version.stdout.strip() == f"presencectl {__version__}"
    validate = subprocess.run(
        [str(installed / "presencectl"), "validate", "--offline", str(ROOT / "desired")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr


def _healthcheck_code() -> str:
    """The Python the Dockerfile's HEALTHCHECK runs."""
    match = re.search(
        r'HEALTHCHECK .*?CMD \["python", "-c", "(.+?)"\]', (ROOT / "Dockerfile").read_text(), re.S
    )
    assert match is not None, "no HEALTHCHECK CMD in the Dockerfile"
    return match.group(1)


def test_runs_as_the_image_runs_it(installed: Path, day_emulator: RunningEmulator, tmp_path: Path) -> None:
    emu = day_emulator
    emu.control.set_logged_in(agent_id(3), True)  # an agent the real-clock daemon corrects
    directory = desired_copy(tmp_path, 0)
    state = tmp_path / "state"  # the image's WORKDIR and volume, /var/lib/presencectl
    state.mkdir()
    port = free_port()
    env = {
        "PATH": f"{installed}:{os.environ['PATH']}",
        "HOME": str(state),
        "PRESENCECTL_HTTP_BIND": f"127.0.0.1:{port}",  # the image says 0.0.0.0:9464
        "GENESYS_API_BASE": emu.api_base,
        "GENESYS_LOGIN_BASE": emu.login_base,
        "GENESYS_CLIENT_ID": emu.client_id,
        "GENESYS_CLIENT_SECRET": emu.client_secret,
        "PRESENCECTL_WEBHOOK_SECRET": "test-webhook-secret-0123456789",
    }
    proc = subprocess.Popen(
        ["presencectl", "run", str(directory)],
        cwd=state,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def ready() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except requests.ConnectionError:
                assert proc.poll() is None, "presencectl exited"
                return False

        wait_for(ready, what="/readyz on $PRESENCECTL_HTTP_BIND")
        code = _healthcheck_code().replace("127.0.0.1:9464", f"127.0.0.1:{port}")
        probe = subprocess.run(["python", "-c", code], env=env, capture_output=True, text=True, check=False)
        assert probe.returncode == 0, probe.stderr
        audit = state / "audit" / "audit.jsonl"
        wait_for(lambda: audit.exists() and audit.stat().st_size > 0, what="audit records")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert {p.name for p in state.iterdir()} == {"audit"}, "state outside the volume's audit/"
    assert shutil.which("presencectl", path=str(installed))
