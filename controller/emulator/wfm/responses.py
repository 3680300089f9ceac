"""WFM handlers: parse the request, call the schedule/adherence models, answer their JSON, and
deliver async results (downloads, events).

Choices where the real API is UNCONFIRMED (docs/genesys-api.md#assumptions):
- Download URLs are unauthenticated GETs of `/downloads/{id}` on another host (the emulator's
  second port, `WfmJobs.download_base`), like pre-signed URLs; the content is the object the
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

from controller.emulator.core.clock import parse_iso
from controller.emulator.core.exceptions import BadRequest, InvalidDate, InvalidValue
from controller.emulator.core.httpkit import (
    BACKEND,
    CLIENT_ID,
    HUB,
    find_or_404,
    flag,
    id_list,
    ids_from_query,
    json_object,
    json_response,
)
from controller.emulator.wfm import serialize
from controller.emulator.wfm.exceptions import (
    BusinessUnitNotFound,
    DownloadNotFound,
    JobNotFound,
    ManagementUnitNotFound,
    NotInManagementUnit,
)

INLINE_MAX_USERS = 100
ADHERENCE_MAX_USERS = 100
ASYNC_DELAY_SECONDS = 0.05  # the answer always reaches the caller before the event


def _download_base(request: web.Request) -> str:
    return request.app[BACKEND].wfm.download_base or f"{request.scheme}://{request.host}"


def _download_url(request: web.Request, body: Any) -> str:
    return f"{_download_base(request)}/downloads/{request.app[BACKEND].wfm.add_download(body)}"


def _bu_or_404(request: web.Request) -> str:
    units = request.app[BACKEND].org.index().business_units
    return find_or_404(units, request.match_info["businessUnitId"], BusinessUnitNotFound).id


def _mu_or_404(request: web.Request) -> str:
    units = request.app[BACKEND].org.index().management_units
    return find_or_404(units, request.match_info["managementUnitId"], ManagementUnitNotFound).id


def _date_range(body: dict[str, Any]) -> tuple[datetime, datetime]:
    try:
        start, end = parse_iso(str(body["startDate"])), parse_iso(str(body["endDate"]))
    except KeyError as missing:
        raise BadRequest(f"{missing.args[0]} is required.") from None
    except ValueError:
        raise InvalidDate("startDate and endDate must be ISO-8601 date-times.") from None
    if end <= start:
        raise InvalidDate("endDate must be after startDate.")
    return start, end


def _user_ids(body: dict[str, Any]) -> list[str] | None:
    ids = body.get("userIds")
    if ids is None:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest("userIds must be a list of user ids.")
    return list(ids)


async def business_units(request: web.Request) -> web.Response:
    return json_response(serialize.business_units_listing(request.app[BACKEND].org))


async def management_units(request: web.Request) -> web.Response:
    org = request.app[BACKEND].org
    return json_response(serialize.management_units_listing(org, _bu_or_404(request)))


async def business_unit_users(request: web.Request) -> web.Response:
    org = request.app[BACKEND].org
    wanted = set(id_list(request, "managementUnitIds"))
    return json_response(serialize.business_unit_users(org, _bu_or_404(request), wanted or None))


async def management_unit_users(request: web.Request) -> web.Response:
    org = request.app[BACKEND].org
    return json_response(serialize.management_unit_users(org, _mu_or_404(request)))


async def agent_management_unit(request: web.Request) -> web.Response:
    agent_id = request.match_info["agentId"]
    found = serialize.agent_management_unit(request.app[BACKEND].org, agent_id)
    if found is None:
        raise NotInManagementUnit(agent_id)
    return json_response(found)


async def activity_codes(request: web.Request) -> web.Response:
    listing = serialize.activity_codes_listing(request.app[BACKEND].org, _bu_or_404(request))
    if flag(request, "forceDownloadService"):
        return json_response({"downloadUrl": _download_url(request, listing)})
    return json_response(listing)


async def schedule_search(request: web.Request) -> web.Response:
    org = request.app[BACKEND].org
    bu_id = _bu_or_404(request)
    body = await json_object(request)
    start, end = _date_range(body)
    user_ids = _user_ids(body)
    platform = org.platform
    if user_ids is not None and len(user_ids) > platform.schedule_search_max_users:
        raise BadRequest(
            f"Too many userIds: {len(user_ids)}. The limit is {platform.schedule_search_max_users}."
        )
    result = serialize.schedule_search_result(org, bu_id, user_ids, start, end)
    users = len(user_ids) if user_ids is not None else len(result["agentSchedules"])  # type: ignore[arg-type]
    async_above = platform.schedule_search_async_above_users
    if flag(request, "forceAsync") or (async_above is not None and users > async_above):
        operation_id = str(uuid.uuid4())
        if platform.schedule_search_notifications:
            url = _download_url(request, result)
            event = {"operationId": operation_id, "businessUnitId": bu_id, "downloadUrl": url}
            topic = f"v2.workforcemanagement.users.{CLIENT_ID.get()}.schedules.search"
            hub = request.app[HUB]
            asyncio.get_running_loop().call_later(ASYNC_DELAY_SECONDS, hub.publish, topic, event)
        return json_response({"status": "Processing", "operationId": operation_id})
    if users > INLINE_MAX_USERS or flag(request, "forceDownloadService"):
        return json_response({"status": "Complete", "downloadUrl": _download_url(request, result)})
    return json_response({"status": "Complete", "result": result})


async def realtime_adherence(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ids = ids_from_query(
        request,
        "userId",
        ADHERENCE_MAX_USERS,
        missing="userId is required (min 1).",
        too_many="Too many userIds: {count}. Max of {limit} userIds per request.",
    )
    now = backend.clock.now()
    presence = backend.presence
    answer = []
    for user_id in ids:
        state = presence.users.get(user_id)
        if state is None:
            continue
        answer.append(
            serialize.realtime_adherence(
                backend.org,
                user_id,
                now,
                state.definition_id,
                presence.system_presence_of(state),
                state.routing_status,
                state.modified,
                state.out_of_office,
            )
        )
    return json_response(answer)


def _time_zone(body: dict[str, Any]) -> None:
    zone = body.get("timeZone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidValue(f"Unknown timeZone {zone}.") from None


async def historical_query(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    mu_id = _mu_or_404(request)
    body = await json_object(request)
    start, end = _date_range(body)
    exceptions = bool(body.get("includeExceptions", False))
    if end - start > timedelta(days=7 if exceptions else 31):
        raise BadRequest(
            "The maximum supported range for historical adherence queries is 31 days, "
            "or 7 days with includeExceptions = true."
        )
    _time_zone(body)
    user_ids = _user_ids(body)
    job = backend.wfm.start_historical(CLIENT_ID.get())
    base = f"{_download_base(request)}/downloads/"
    hub = request.app[HUB]

    def complete() -> None:
        history = backend.presence.history()
        backend.wfm.complete(
            job, serialize.historical_adherence_result(backend.org, mu_id, user_ids, start, end, history)
        )
        event = {"id": job.id, "downloadUrls": [base + d for d in job.download_ids], "queryState": "Complete"}
        hub.publish(f"v2.users.{job.client_id}.workforcemanagement.historicaladherencequery", event)

    asyncio.get_running_loop().call_later(ASYNC_DELAY_SECONDS, complete)
    return json_response({"id": job.id, "queryState": "Processing"}, status=202)


async def historical_job(request: web.Request) -> web.Response:
    job_id = request.match_info["jobId"]
    job = request.app[BACKEND].wfm.job_of(job_id, CLIENT_ID.get())
    if job is None:
        raise JobNotFound(job_id)
    body: dict[str, Any] = {"id": job.id, "queryState": job.state}
    if job.download_ids:
        base = _download_base(request)
        body["downloadUrls"] = [f"{base}/downloads/{d}" for d in job.download_ids]
    return json_response(body)


async def download(request: web.Request) -> web.Response:
    return json_response(
        find_or_404(request.app[BACKEND].wfm.downloads, request.match_info["downloadId"], DownloadNotFound)
    )
