"""The control surface's JSON: request records and the summary."""

from __future__ import annotations

from typing import Any

from controller.emulator.control.models import Summary
from controller.emulator.core.clock import iso
from controller.emulator.core.requestlog import RequestRecord


def record_json(record: RequestRecord) -> dict[str, Any]:
    return {
        "method": record.method,
        "path": record.path,
        "route": record.route,
        "status": record.status,
        "time": record.time,
        "client": record.client,
        "correlationId": record.correlation_id,
        "injected": record.injected,
        "written": list(record.written),
        "onInteraction": list(record.on_interaction),
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "agents": summary.agents,
        "presenceCounts": summary.presence_counts,
        "managementUnits": summary.management_units,
        "presenceDefinitions": summary.presence_definitions,
        "scheduledNow": summary.scheduled_now,
        "loggedIn": summary.logged_in,
        "outOfOffice": summary.out_of_office,
        "channels": summary.channels,
        "socketConnections": summary.socket_connections,
        "writesOnInteraction": summary.writes_on_interaction,
        "now": iso(summary.now),
    }
