"""`presencectl adherence --export`: a range sent on demand through the spool; no URL, one clear line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from controller.adherence.days import Query, compute_days
from controller.adherence.recorder import TimelineRecorder
from controller.adherence.store import TimelineStore
from controller.commands.adherence import export_now
from controller.core.timeline import local_date
from controller.emulator.server import RunningEmulator
from controller.engine.reconciler import Reconciler
from controller.engine.session import Session
from controller.failures import LocalConfigError
from controller.metrics import Metrics
from tests.engine.conftest import emulator_clock, open_test_session
from tests.support.dashboard import Receiver


def test_export_on_demand_delivers_the_range_or_names_the_missing_url(
    day_emulator: RunningEmulator, tmp_path: Path
) -> None:
    session = open_test_session(day_emulator)
    clock = emulator_clock(day_emulator)
    database = tmp_path / "adherence.sqlite"
    store = TimelineStore(database)
    recorder = TimelineRecorder(store, clock)
    Reconciler(session.client, session.org_reader, Metrics(), clock, None, recorder).cycle(session.state)
    day_emulator.control.advance_clock(timedelta(minutes=30).total_seconds())
    recorder.flush()
    store.close()
    today = local_date(clock(), "Europe/London")
    query = Query(today, today)
    days = compute_days(session, query, str(database), clock())
    assert days
    with pytest.raises(LocalConfigError, match=r"--export needs adherenceExport\.url"):
        export_now(session, days, query, str(database))
    board = Receiver()
    try:
        config = replace(session.state.config, adherence_export_url=board.url, adherence_export_batch_size=7)
        with_url = Session(session.client, session.org_reader, replace(session.state, config=config))
        assert export_now(with_url, days, query, str(database)) == 0
        records = [r for _, body, _ in board.received for r in body["records"]]
        assert len(records) == len(days) and len(board.received) == -(-len(days) // 7)
    finally:
        board.server.stop()
