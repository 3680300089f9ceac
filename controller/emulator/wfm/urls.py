"""Routes of the WFM service; the download host serves only `/downloads/{id}`."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.wfm import responses as r

API = "/api/v2/workforcemanagement"


def register(app: web.Application) -> None:
    add = app.router
    add.add_get(f"{API}/businessunits", r.business_units)
    add.add_get(f"{API}/businessunits/{{businessUnitId}}/managementunits", r.management_units)
    add.add_get(f"{API}/businessunits/{{businessUnitId}}/users", r.business_unit_users)
    add.add_get(f"{API}/managementunits/{{managementUnitId}}/users", r.management_unit_users)
    add.add_get(f"{API}/agents/{{agentId}}/managementunit", r.agent_management_unit)
    add.add_get(f"{API}/businessunits/{{businessUnitId}}/activitycodes", r.activity_codes)
    add.add_post(f"{API}/businessunits/{{businessUnitId}}/agentschedules/search", r.schedule_search)
    add.add_get(f"{API}/adherence", r.realtime_adherence)
    add.add_post(f"{API}/managementunits/{{managementUnitId}}/historicaladherencequery", r.historical_query)
    add.add_get(f"{API}/adherence/historical/jobs/{{jobId}}", r.historical_job)
    add.add_get("/downloads/{downloadId}", r.download)


def register_downloads(app: web.Application) -> None:
    """The download host's only route (a separate app on its own port: another host)."""
    app.router.add_get("/downloads/{downloadId}", r.download)
