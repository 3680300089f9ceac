"""`python -m tests.support.clocked SECONDS ARGS...`: the presencectl CLI with its clock SECONDS
ahead of the wall clock, as the emulator's runs after a test moved it to a pinned instant.

The commands and the daemon read "now" from one seam, `controller.engine.session.utc_now` (their
clock parameter's default); it is set here before they are imported. Time still flows, and the
daemon's timers convert its clock to wall time as they do for time travel in-process.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from controller.engine import session


def run(ahead: timedelta, args: list[str]) -> int:
    wall = session.utc_now

    def now() -> datetime:
        return wall() + ahead

    session.utc_now = now
    from controller.cli import main  # after the seam is set: its commands bind utc_now on import

    return main(args)


if __name__ == "__main__":
    raise SystemExit(run(timedelta(seconds=float(sys.argv[1])), sys.argv[2:]))
