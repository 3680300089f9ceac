"""Workforce management: business/management units, agent -> MU, activity codes, schedule
search (maybe-async), real-time adherence and the async historical adherence query.
The JSON comes from the pure builders in controller.emulator.wfm; this module adds HTTP,
validation, downloads and async delivery.

Choices where the real API is UNCONFIRMED (docs/genesys-api.md#assumptions):
- Download URLs are unauthenticated GETs of `/downloads/{id}` on another host (the emulator's
  second port, `World.download_base`), like pre-signed URLs; the content is the object the
  inline field would have held (e.g. BuAgentSchedulesSearchResponse).
- Schedule search: more than `platform.scheduleSearchMaxUsers` userIds -> 400; more than 100 users
  (asked for, or in the BU when userIds is omitted) or forceDownloadService=true -> status
  Complete + downloadUrl; forceAsync=true, or more than `platform.scheduleSearchAsyncAboveUsers`
  users -> status Processing + operationId, then (unless `platform.scheduleSearchNotifications` is
  false) a `v2.workforcemanagement.users.{id}.schedules.search` event
  ({operationId, businessUnitId, downloadUrl}) where {id} is the caller's OAuth client id.
- Unit membership: `GET …/businessunits/{id}/users` (BuUserListing, one entry per MU of the BU,
  `managementUnitIds` narrows it) and `GET …/managementunits/{id}/users` (WfmUserEntityListing);
  both unpaged (paging and size limits are UNCONFIRMED, docs/genesys-api.md#wfm-units-and-membership).
- Historical adherence completes shortly after the 202; the event goes to
  `v2.users.{id}.workforcemanagement.historicaladherencequery`, {id} again the OAuth client id.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from controller.emulator import wfm
from controller.emulator.httpkit import (
    CLIENT_ID,
    HUB,
    WORLD,
    ApiError,
    bad_request,
    id_list,
    json_object,
    json_response,
    not_found,
)
from controller.emulator.world import HistoricalJob, World, parse_iso

API = "/api/v2/workforcemanagement"
INLINE_MAX_USERS = 100
ADHERENCE_MAX_USERS = 100
ASYNC_DELAY_SECONDS = 0.05  # the answer always reaches the caller before the event


def _download_base(request: web.Request, world: World) -> str:
    return world.download_base or f"{request.scheme}://{request.host}"


def _download_url(request: web.Request, world: World, body: Any) -> str:
    return f"{_download_base(request, world)}/downloads/{world.add_download(body)}"


def _bu_or_404(request: web.Request) -> str:
    bu_id = request.match_info["businessUnitId"]
    if not any(bu.id == bu_id for bu in request.app[WORLD].org.business_units):
        raise not_found(f"Business unit {bu_id} not found.")
    return bu_id


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


def _date_range(body: dict[str, Any]) -> tuple[datetime, datetime]:
    try:
        start, end = parse_iso(str(body["startDate"])), parse_iso(str(body["endDate"]))
    except KeyError as missing:
        raise bad_request(f"{missing.args[0]} is required.") from None
    except ValueError:
        raise ApiError(400, "invalid.date", "startDate and endDate must be ISO-8601 date-times.") from None
    if end <= start:
        raise ApiError(400, "invalid.date", "endDate must be after startDate.")
    return start, end


def _user_ids(body: dict[str, Any]) -> list[str] | None:
    ids = body.get("userIds")
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("userIds must be a list of user ids.")
    return list(ids)


async def business_units(request: web.Request) -> web.Response:
    return json_response(wfm.business_units_listing(request.app[WORLD].org))


async def management_units(request: web.Request) -> web.Response:
    return json_response(wfm.management_units_listing(request.app[WORLD].org, _bu_or_404(request)))


async def business_unit_users(request: web.Request) -> web.Response:
    org = request.app[WORLD].org
    wanted = set(id_list(request, "managementUnitIds"))
    return json_response(wfm.business_unit_users(org, _bu_or_404(request), wanted or None))


async def management_unit_users(request: web.Request) -> web.Response:
    org = request.app[WORLD].org
    mu_id = request.match_info["managementUnitId"]
    if mu_id not in org.index().management_units:
        raise not_found(f"Management unit {mu_id} not found.")
    return json_response(wfm.management_unit_users(org, mu_id))


async def agent_management_unit(request: web.Request) -> web.Response:
    agent_id = request.match_info["agentId"]
    found = wfm.agent_management_unit(request.app[WORLD].org, agent_id)
    if found is None:
        raise not_found(f"Agent {agent_id} is not in a management unit.")
    return json_response(found)


async def activity_codes(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    listing = wfm.activity_codes_listing(world.org, _bu_or_404(request))
    if _flag(request, "forceDownloadService"):
        return json_response({"downloadUrl": _download_url(request, world, listing)})
    return json_response(listing)


async def schedule_search(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    bu_id = _bu_or_404(request)
    body = await json_object(request)
    start, end = _date_range(body)
    user_ids = _user_ids(body)
    platform = world.org.platform
    if user_ids is not None and len(user_ids) > platform.schedule_search_max_users:
        raise bad_request(
            f"Too many userIds: {len(user_ids)}. The limit is {platform.schedule_search_max_users}."
        )
    result = wfm.schedule_search_result(world.org, bu_id, user_ids, start, end)
    users = len(user_ids) if user_ids is not None else len(result["agentSchedules"])  # type: ignore[arg-type]
    async_above = platform.schedule_search_async_above_users
    if _flag(request, "forceAsync") or (async_above is not None and users > async_above):
        operation_id = str(uuid.uuid4())
        if platform.schedule_search_notifications:
            url = _download_url(request, world, result)
            event = {"operationId": operation_id, "businessUnitId": bu_id, "downloadUrl": url}
            topic = f"v2.workforcemanagement.users.{CLIENT_ID.get()}.schedules.search"
            hub = request.app[HUB]
            asyncio.get_running_loop().call_later(ASYNC_DELAY_SECONDS, hub.publish, topic, event)
        return json_response({"status": "Processing", "operationId": operation_id})
    if users > INLINE_MAX_USERS or _flag(request, "forceDownloadService"):
        return json_response({"status": "Complete", "downloadUrl": _download_url(request, world, result)})
    return json_response({"status": "Complete", "result": result})


async def realtime_adherence(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    ids = id_list(request, "userId")
    if not ids:
        raise bad_request("userId is required (min 1).")
    if len(ids) > ADHERENCE_MAX_USERS:
        raise bad_request(f"Too many userIds: {len(ids)}. Max of {ADHERENCE_MAX_USERS} userIds per request.")
    now = world.clock.now()
    answer = []
    for user_id in ids:
        state = world.users.get(user_id)
        if state is None:
            continue
        answer.append(
            wfm.realtime_adherence(
                world.org,
                user_id,
                now,
                state.definition_id,
                world.system_presence_of(state),
                state.routing_status,
                state.modified,
                state.out_of_office,
            )
        )
    return json_response(answer)


async def historical_query(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    mu_id = request.match_info["managementUnitId"]
    if not any(mu.id == mu_id for mu in world.org.management_units):
        raise not_found(f"Management unit {mu_id} not found.")
    body = await json_object(request)
    start, end = _date_range(body)
    exceptions = bool(body.get("includeExceptions", False))
    limit = timedelta(days=7 if exceptions else 31)
    if end - start > limit:
        raise bad_request(
            "The maximum supported range for historical adherence queries is 31 days, "
            "or 7 days with includeExceptions = true."
        )
    zone = body.get("timeZone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(400, "invalid.value", f"Unknown timeZone {zone}.") from None
    user_ids = _user_ids(body)
    job = HistoricalJob(str(uuid.uuid4()), CLIENT_ID.get(), "Processing")
    world.historical_jobs[job.id] = job
    base = f"{_download_base(request, world)}/downloads/"
    hub = request.app[HUB]

    def complete() -> None:
        result = wfm.historical_adherence_result(world.org, mu_id, user_ids, start, end, world.history())
        job.download_ids = [world.add_download(result)]
        job.state = "Complete"
        urls = [base + d for d in job.download_ids]
        event = {"id": job.id, "downloadUrls": urls, "queryState": "Complete"}
        hub.publish(f"v2.users.{job.client_id}.workforcemanagement.historicaladherencequery", event)

    asyncio.get_running_loop().call_later(ASYNC_DELAY_SECONDS, complete)
    return json_response({"id": job.id, "queryState": "Processing"}, status=202)


async def historical_job(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    job = world.historical_jobs.get(request.match_info["jobId"])
    if job is None or job.client_id != CLIENT_ID.get():  # only the starter may read it
        raise not_found(f"Historical adherence job {request.match_info['jobId']} not found.")
    body: dict[str, Any] = {"id": job.id, "queryState": job.state}
    if job.download_ids:
        base = _download_base(request, world)
        body["downloadUrls"] = [f"{base}/downloads/{d}" for d in job.download_ids]
    return json_response(body)


async def download(request: web.Request) -> web.Response:
    found = request.app[WORLD].downloads.get(request.match_info["downloadId"])
    if found is None:
        raise not_found("The download does not exist or has expired.")
    return json_response(found)


def register(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{API}/businessunits", business_units)
    r.add_get(f"{API}/businessunits/{{businessUnitId}}/managementunits", management_units)
    r.add_get(f"{API}/businessunits/{{businessUnitId}}/users", business_unit_users)
    r.add_get(f"{API}/managementunits/{{managementUnitId}}/users", management_unit_users)
    r.add_get(f"{API}/agents/{{agentId}}/managementunit", agent_management_unit)
    r.add_get(f"{API}/businessunits/{{businessUnitId}}/activitycodes", activity_codes)
    r.add_post(f"{API}/businessunits/{{businessUnitId}}/agentschedules/search", schedule_search)
    r.add_get(f"{API}/adherence", realtime_adherence)
    r.add_post(f"{API}/managementunits/{{managementUnitId}}/historicaladherencequery", historical_query)
    r.add_get(f"{API}/adherence/historical/jobs/{{jobId}}", historical_job)
    r.add_get("/downloads/{downloadId}", download)


def register_downloads(app: web.Application) -> None:
    """The download host's only route (a separate app on its own port: another host)."""
    app.router.add_get("/downloads/{downloadId}", download)
