"""Debian's headless Chromium driven through chromedriver (Selenium), for the status page tests
and the README screenshots. Never downloads a browser: the system packages or nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = os.environ.get("PRESENCECTL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PRESENCECTL_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL_HINT = (
    "headless Chromium is not installed: run `apt-get install -y chromium chromium-driver` "
    "(.ci/run does it) and `make test` again"
)
ARTIFACTS = Path(
    os.environ.get("PRESENCECTL_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)


def missing() -> str:
    """Why the browser cannot run here ('' when it can)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found; {INSTALL_HINT}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is missing: run `make test` (it installs the test extras)"
    return ""


def chromium(profile: Path, width: int = 1280, height: int = 800) -> WebDriver:
    """A headless Chromium WebDriver with a fresh profile and the browser console log enabled;
    nothing in it reaches outside this machine (no sync, updates or background networking)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
