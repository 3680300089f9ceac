"""`make docs-images`: the README's pictures, made from the real thing.

docs/status-page.png: the status page of the daemon on the example desired/ against a 200-agent
emulator, a weekday afternoon (the first resync puts everyone in place:
no blast-radius hold), three agents drifted by hand (their own change stands its grace),
screenshot by headless Chromium at 1280×800. docs/simulate.svg: `simulate` of the same desired/
for that weekday, compared with a copy that takes Customer Care agents off queue at the end of
their shifts (`offShift: Available`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from controller.commands.simulate import read_org_snapshot
from controller.commands.simulate_report import svg_chart
from controller.core.simulate import simulate_day
from controller.core.timeline import day_start
from controller.emulator.generate import generate_org
from controller.emulator.server import RunningEmulator, start_emulator
from controller.engine.daemon import Daemon
from controller.engine.session import Session, connect, load_live, session_on
from controller.genesys import RateBudget
from controller.model.types import BlastRadius
from tests.status import browser
from tests.support.clock import PINNED_DAY
from tests.support.waiting import after, wait_for

ROOT = Path(__file__).resolve().parents[2]
DESIRED, DOCS = ROOT / "desired", ROOT / "docs"
ZONE = "America/New_York"


def _session(emu: RunningEmulator) -> Session:
    client = connect(
        emu.api_base, emu.login_base, emu.client_id, emu.client_secret, 6000, budget=RateBudget(6000)
    )
    return session_on(client, str(DESIRED), emu.control.now())


def main() -> int:
    why = browser.missing()
    if why:
        print(why, file=sys.stderr)
        return 1
    day = PINNED_DAY
    os.environ.setdefault("PRESENCECTL_WEBHOOK_SECRET", "docs-images-webhook-secret-0123")
    org = generate_org(agents=200, seed=1, start=day - timedelta(days=1), days=3)
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_emulator(org=org, rate_limit=100_000) as emu,
    ):
        work = Path(tmp)
        emu.control.set_clock(datetime.combine(day, clock_time(19, 5), UTC))  # 14:05 New York
        session = _session(emu)
        config = replace(
            session.state.config,
            audit_path=str(work / "audit.jsonl"),
            http_bind="127.0.0.1:0",
            blast_radius=BlastRadius(100.0, 5),
        )
        session = Session(session.client, session.org_reader, replace(session.state, config=config))
        daemon = Daemon(str(DESIRED), session, clock=emu.backend.clock.now)
        daemon.start()
        try:
            wait_for(lambda: daemon.health().ready, "the first full resync", after(60))
            wait_for(lambda: daemon.wait_streaming(1), "the stream", after(60))
            emu.control.advance_clock(5)
            on_queue = [
                uid
                for uid, live in sorted(
                    daemon.client.presence.observe(session.org_reader.directory(daemon.now()).by_id).items()
                )
                if live.system_presence.value == "OnQueue" and live.routing_status.value == "IDLE"
            ]
            for uid in on_queue[:3]:
                emu.control.set_presence(uid, "Back Office")
            wait_for(
                lambda: daemon.status_view().counts.get("out", 0) >= 3, "the drift on the page", after(60)
            )
            profile = work / "profile"
            profile.mkdir()
            driver = browser.chromium(profile)
            try:
                driver.get(f"http://127.0.0.1:{daemon.http_port}/status?refresh=0")
                driver.save_screenshot(str(DOCS / "status-page.png"))
            finally:
                driver.quit()
        finally:
            daemon.stop()

        other = work / "desired-off-shift-available"
        shutil.copytree(DESIRED, other)
        policy = other / "policy-customer-care.yaml"
        policy.write_text(
            re.sub(r"(\n    timeOff: Offline)", r"\n    offShift: Available\1", policy.read_text())
        )
        start, end = day_start(day, ZONE), day_start(day + timedelta(days=1), ZONE)
        reader = _session(emu)  # the daemon closed its client on stop
        theirs = load_live(str(other), reader.client, reader.org_reader, emu.control.now())
        snapshot = read_org_snapshot(reader, [reader.state, theirs], start)
        days = [("desired/", simulate_day(reader.state, snapshot, start, end))]
        days.append(("with offShift: Available", simulate_day(theirs, snapshot, start, end)))
        title = f"presencectl simulate desired/ --date {day:%Y-%m-%d} (a Tuesday, {ZONE}), 200 agents"
        (DOCS / "simulate.svg").write_text(svg_chart(days, ZONE, title))
    print(f"wrote {DOCS / 'status-page.png'} and {DOCS / 'simulate.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
