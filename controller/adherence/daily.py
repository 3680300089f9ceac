"""When the daemon exports adherence (ControllerConfig.adherenceExport) and what range each run sends.

`schedule: daily HH:MM` (in `timeZone`): every finished local day not exported yet, oldest
first (the previous day, or every day since the last one exported when the daemon was down, at
most 31 back). `intervalSeconds` (the old setting, the default when no schedule is set): the
same, plus today's records so far (each run re-sends today with new keys as it grows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from controller.adherence.compute import MAX_RANGE_DAYS
from controller.adherence.days import Query, compute_days
from controller.adherence.export import Exporter, ExportSettings
from controller.adherence.report import per_policy
from controller.adherence.store import TimelineStore
from controller.core.timeline import local_date
from controller.engine.session import Session
from controller.metrics import Metrics
from controller.model.types import ControllerConfig
from controller.webhook import load_secret

MARK = "daily"
DEFAULT_INTERVAL_SECONDS = 300


def export_trigger(cfg: ControllerConfig) -> BaseTrigger:
    if cfg.adherence_export_daily is not None:
        at = cfg.adherence_export_daily
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(cfg.adherence_export_time_zone))
    return IntervalTrigger(seconds=cfg.adherence_export_interval_seconds or DEFAULT_INTERVAL_SECONDS)


def due_days(last_exported: date | None, today: date) -> list[date]:
    """Finished days not exported yet, oldest first (pure)."""
    yesterday = today - timedelta(days=1)
    first = (
        yesterday
        if last_exported is None
        else max(last_exported + timedelta(days=1), today - timedelta(days=MAX_RANGE_DAYS))
    )
    return [first + timedelta(days=i) for i in range((yesterday - first).days + 1)]


def export_due(
    exporter: Exporter, session: Session, store: TimelineStore, cfg: ControllerConfig, now: datetime
) -> None:
    today = local_date(now, cfg.adherence_export_time_zone)
    mark = store.mark(MARK)
    for day in due_days(mark.date() if mark is not None else None, today):
        exporter.export(compute_days(session, Query(day, day), cfg.adherence_database, now), day, day)
        store.set_mark(MARK, datetime.combine(day, time(), UTC))  # spooled: delivery is the spool's job
    if cfg.adherence_export_daily is None:
        exporter.export(compute_days(session, Query(today, today), cfg.adherence_database, now), today, today)


def today_ratios(session: Session, database: str, now: datetime) -> dict[str, float]:
    """Each policy's time-weighted adherence since its local midnight (policies with nothing
    known scheduled yet are absent)."""
    ratios: dict[str, float] = {}
    for policy in session.state.policies:
        today = local_date(now, policy.timezone)
        days = compute_days(session, Query(today, today, policy=policy.name), database, now)
        figure = per_policy(days).get(policy.name)
        if figure is not None and figure.adherence_percent is not None:
            ratios[policy.name] = figure.adherence_percent / 100.0
    return ratios


def exporter_for(
    cfg: ControllerConfig, store: TimelineStore, metrics: Metrics, clock: Callable[[], datetime]
) -> Exporter | None:
    """The exporter the configuration asks for (secrets read now: a missing one fails at start)."""
    if not cfg.adherence_export_url:
        return None
    auth = None
    if cfg.adherence_export_auth is not None:
        value = load_secret(
            cfg.adherence_export_auth, what="adherence export auth header", setting="adherenceExport.auth"
        )
        auth = (cfg.adherence_export_auth_header, value)
    signing = None
    if cfg.adherence_export_signing is not None:
        signing = load_secret(
            cfg.adherence_export_signing,
            what="adherence export signing secret",
            setting="adherenceExport.signingSecret",
        )
    settings = ExportSettings(cfg.adherence_export_url, cfg.adherence_export_batch_size, auth, signing)
    return Exporter(store, settings, metrics, clock)
