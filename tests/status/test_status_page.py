"""The status page in a real browser (Debian's headless Chromium through chromedriver) against
the daemon on the emulator: no console errors, right counts, filtering and search, a hand-made
drift shown out of desired and then corrected, screenshots at 1280×800 and on a phone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from controller.emulator.server import RunningEmulator
from controller.engine.daemon import Daemon
from controller.engine.session import Session
from controller.engine.wakeups import Wake, WakeReason
from tests.engine.conftest import desired_copy, emulator_clock, open_test_session
from tests.status import browser
from tests.support.waiting import wait_for

GRACE = 600  # an agent's own change stands this long: the drift stays visible until time travel


@pytest.fixture
def daemon(
    day_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Daemon]:
    monkeypatch.setenv("PRESENCECTL_WEBHOOK_SECRET", "status-test-webhook-secret-0123")
    directory = desired_copy(tmp_path, GRACE)
    session = open_test_session(day_emulator, directory)
    config = replace(session.state.config, audit_path=str(tmp_path / "audit.jsonl"), http_bind="127.0.0.1:0")
    session = Session(session.client, session.org_reader, replace(session.state, config=config))
    running = Daemon(str(directory), session, clock=emulator_clock(day_emulator))
    running.start()
    try:
        wait_for(lambda: running.health().ready, what="the first full resync")
        wait_for(lambda: running.wait_streaming(0), "the notification stream")
        yield running
    finally:
        running.stop()


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    why = browser.missing()
    if why:
        pytest.skip(why)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    d = browser.chromium(profile)
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _status(daemon: Daemon, **query: str) -> dict[str, Any]:
    answer = requests.get(f"http://127.0.0.1:{daemon.http_port}/status.json", params=query, timeout=10)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def _row(daemon: Daemon, email: str) -> dict[str, Any]:
    rows = _status(daemon, q=email)["agents"]["rows"]
    assert len(rows) == 1, rows
    found: dict[str, Any] = rows[0]
    return found


def _console_errors(d: Any) -> list[dict[str, Any]]:
    return [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def _load(d: Any, url: str) -> None:
    d.get(url)
    wait_for(lambda: d.execute_script("return document.readyState") == "complete", what="page load")


def _table_rows(d: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(d.find_elements(By.CSS_SELECTOR, "#agents tbody tr"))


def _fits(d: Any) -> bool:
    """Nothing wider than the viewport: wide tables scroll inside their own box."""
    return bool(d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _on_queue_agent(daemon: Daemon) -> tuple[str, str]:
    """An agent On Queue and idle now (read live), and its email."""
    directory = daemon.org_reader.directory(daemon.now())
    for user_id, live in sorted(daemon.client.presence.observe(directory.by_id).items()):
        if live.system_presence.value == "OnQueue" and live.routing_status.value == "IDLE":
            return user_id, directory.by_id[user_id].email
    raise AssertionError("no agent On Queue and idle after the first resync")


def test_status_page_in_chromium(daemon: Daemon, day_emulator: RunningEmulator, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = f"http://127.0.0.1:{daemon.http_port}/status"
    browser.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    managed = daemon.status_view().agents
    assert managed, "the daemon manages agents after its first resync"
    plan_managed = sum(p.managed for p in daemon.status_view().policies)
    assert plan_managed == len(managed)

    # Loads with no console error; counts as the daemon's own plan has them.
    _load(driver, base + "?refresh=0")
    assert driver.title == "presencectl status"
    summary = driver.find_element(By.ID, "agents-summary")
    assert int(summary.get_attribute("data-total")) == len(managed)
    assert len(_table_rows(driver)) == min(100, len(managed))
    cells = driver.find_elements(By.CSS_SELECTOR, "#policies td[data-k=managed]")
    assert sum(int(c.text) for c in cells) == len(managed)
    assert daemon.desired.digest[:12] in driver.find_element(By.ID, "digest").text
    assert driver.find_element(By.ID, "stream").text == "connected"
    assert _fits(driver)
    driver.save_screenshot(str(browser.ARTIFACTS / "status-1280x800.png"))
    assert not _console_errors(driver)

    # An agent drifted by hand shows as out of desired (its own change stands for the grace)...
    user_id, email = _on_queue_agent(daemon)
    day_emulator.control.set_presence(user_id, "Back Office")
    wait_for(lambda: _row(daemon, email)["out_of_desired"], what="the drift on /status.json")
    _load(driver, base + "?refresh=0")
    Select(driver.find_element(By.ID, "filter")).select_by_value("out")  # the script submits
    wait_for(lambda: "filter=out" in driver.current_url, what="the filter to submit")
    wait_for(lambda: driver.execute_script("return document.readyState") == "complete", what="reload")
    out_rows = _table_rows(driver)
    assert email in [r.get_attribute("data-agent") for r in out_rows]
    assert all("out" in (r.get_attribute("class") or "") for r in out_rows)
    assert int(driver.find_element(By.ID, "agents-summary").get_attribute("data-matching")) == len(out_rows)
    search = driver.find_element(By.ID, "q")
    search.send_keys(email)  # the script submits after a pause in typing
    wait_for(lambda: "q=agent" in driver.current_url, what="the search to submit")
    wait_for(lambda: len(_table_rows(driver)) == 1, what="one matching row")
    row = _table_rows(driver)[0]
    assert row.get_attribute("data-agent") == email and row.get_attribute("data-state") == "grace"
    assert "Back Office" in row.text
    driver.save_screenshot(str(browser.ARTIFACTS / "status-drifted.png"))

    # ...and as corrected once the grace is over (time travel, then a resync).
    day_emulator.control.advance_clock(GRACE + 1)
    daemon.wake(Wake(WakeReason.RESYNC))
    wait_for(lambda: _row(daemon, email)["state"] == "in-desired", what="the correction on /status.json")
    _load(driver, f"{base}?refresh=0&q={email}")
    row = _table_rows(driver)[0]
    assert row.get_attribute("data-state") == "in-desired" and "ok" in row.text
    newest = driver.find_element(By.CSS_SELECTOR, "#corrections tbody tr")
    assert email in newest.text and "Back Office → On Queue" in newest.text
    assert not _console_errors(driver)

    # Readable on a phone: no sideways scrolling of the page, the header still legible.
    driver.set_window_size(390, 844)
    _load(driver, base + "?refresh=0")
    assert _fits(driver)
    size = driver.execute_script("return parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert size >= 16
    driver.save_screenshot(str(browser.ARTIFACTS / "status-phone.png"))
    assert not _console_errors(driver)


def test_status_json_pages_server_side(daemon: Daemon) -> None:
    total = len(daemon.status_view().agents)
    first = _status(daemon, size="7")
    assert first["agents"]["pages"] == -(-total // 7) and len(first["agents"]["rows"]) == 7
    last = _status(daemon, size="7", page=str(first["agents"]["pages"]))
    seen = {
        r["user_id"]
        for p in range(1, first["agents"]["pages"] + 1)
        for r in _status(daemon, size="7", page=str(p))["agents"]["rows"]
    }
    assert len(seen) == total and len(last["agents"]["rows"]) == total - 7 * (first["agents"]["pages"] - 1)
    assert "secret" not in str(_status(daemon)).casefold()
    page = requests.get(f"http://127.0.0.1:{daemon.http_port}/status", timeout=10)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "http://" not in page.text and "https://" not in page.text, "no external assets"
    header = _status(daemon)["header"]
    assert header["last_cycle"] and header["digest"] == daemon.desired.digest
