"""Workforce management: business and management units, their users, activity codes, published
schedules and adherence (docs/genesys-api.md#wfm-units-and-membership, #schedule-search)."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from controller.core.domain import ActivityCode, AgentSchedule
from controller.core.timestamps import iso
from controller.genesys.calls import ApiCalls, chunks, unique
from controller.genesys.errors import Forbidden, GenesysError, NotFound, ScheduleSearchPending
from controller.genesys.models import (
    AdherenceRecord,
    AgentUnits,
    BusinessUnit,
    HistoricalAdherence,
    ManagementUnit,
    parse_activity_code,
    parse_adherence,
    parse_historical_adherence,
    parse_schedule_result,
)
from controller.genesys.notifications import Notifications
from controller.genesys.streaming import NotificationStream, RawEvent, StreamEvent

log = logging.getLogger(__name__)

ADHERENCE_MAX = 100  # GET /workforcemanagement/adherence: "Max of 100 userIds per request"
WFM = "/api/v2/workforcemanagement"
_CHECK_SECONDS = 0.25  # long waits look this often whether reads were abandoned (shutdown)


class Wfm:
    def __init__(self, api: ApiCalls, notifications: Notifications) -> None:
        self._api = api
        self._notifications = notifications  # the schedule search's async answer comes as an event

    def agent_units(self, user_id: str) -> AgentUnits | None:
        """The agent's management unit and business unit; None when the agent is in no MU."""
        try:
            body = self._api.body(
                "GET", f"{WFM}/agents/{{agentId}}/managementunit", path_params={"agentId": user_id}
            )
        except NotFound:
            return None
        if not body or not body.get("managementUnit"):
            return None
        return AgentUnits(
            user_id=user_id,
            management_unit_id=str(body["managementUnit"]["id"]),
            business_unit_id=str((body.get("businessUnit") or {}).get("id") or ""),
        )

    def business_units(self) -> list[BusinessUnit]:
        body = self._api.body("GET", f"{WFM}/businessunits") or {}
        return [BusinessUnit(str(b["id"]), str(b.get("name") or "")) for b in body.get("entities") or []]

    def management_units(self, business_unit_id: str) -> list[ManagementUnit]:
        body = (
            self._api.body(
                "GET",
                f"{WFM}/businessunits/{{businessUnitId}}/managementunits",
                path_params={"businessUnitId": business_unit_id},
            )
            or {}
        )
        return [
            ManagementUnit(str(m["id"]), str(m.get("name") or ""), business_unit_id)
            for m in body.get("entities") or []
        ]

    def business_unit_users(
        self, business_unit_id: str, management_unit_ids: Sequence[str] = ()
    ) -> dict[str, list[str]]:
        """GET …/businessunits/{buId}/users (BuUserListing): management unit id -> the ids of its
        users, every MU of the BU in one call (`management_unit_ids` narrows it)
        (docs/genesys-api.md#wfm-units-and-membership)."""
        body = (
            self._api.body(
                "GET",
                f"{WFM}/businessunits/{{businessUnitId}}/users",
                path_params={"businessUnitId": business_unit_id},
                params={"managementUnitIds": list(management_unit_ids) or None},
            )
            or {}
        )
        return {
            str(entry["managementUnit"]["id"]): [str(u["id"]) for u in entry.get("users") or []]
            for entry in body.get("managementUnits") or []
            if (entry.get("managementUnit") or {}).get("id")
        }

    def management_unit_users(self, management_unit_id: str) -> list[str]:
        """GET …/managementunits/{muId}/users (WfmUserEntityListing): its users' ids
        (docs/genesys-api.md#wfm-units-and-membership)."""
        body = (
            self._api.body(
                "GET",
                f"{WFM}/managementunits/{{managementUnitId}}/users",
                path_params={"managementUnitId": management_unit_id},
            )
            or {}
        )
        return [str(u["id"]) for u in body.get("entities") or []]

    def unit_membership(self, user_ids: Iterable[str]) -> dict[str, AgentUnits]:
        """Management and business unit of every WFM agent among `user_ids`, at one call per
        business unit (docs/genesys-api.md#wfm-units-and-membership) instead of one real-time
        adherence call per 100 agents. A BU whose users listing is refused (404/403: it is new in
        SDK 269) is read MU by MU; an org refusing that too is read from real-time adherence (100
        agents a call, the old way)."""
        wanted = set(user_ids)
        out: dict[str, AgentUnits] = {}
        try:
            for bu in self.business_units():
                try:
                    members = self.business_unit_users(bu.id)
                except (NotFound, Forbidden):
                    units = self.management_units(bu.id)
                    members = {mu.id: self.management_unit_users(mu.id) for mu in units}
                for mu_id, users in members.items():
                    out.update((u, AgentUnits(u, mu_id, bu.id)) for u in users if u in wanted)
        except (NotFound, Forbidden) as error:
            log.warning(
                "WFM user listings refused; reading unit membership from real-time adherence",
                extra={"error": str(error)},
            )
            return self._membership_from_adherence(wanted)
        return out

    def _membership_from_adherence(self, user_ids: Collection[str]) -> dict[str, AgentUnits]:
        bu_of_mu = {mu.id: bu.id for bu in self.business_units() for mu in self.management_units(bu.id)}
        return {
            uid: AgentUnits(uid, r.management_unit_id, bu_of_mu[r.management_unit_id])
            for uid, r in self.realtime_adherence(user_ids).items()
            if r.management_unit_id in bu_of_mu
        }

    def activity_codes(self, business_unit_id: str, *, force_download: bool = False) -> list[ActivityCode]:
        """Inline entities, or the downloadUrl's document when the listing is too large."""
        body = (
            self._api.body(
                "GET",
                f"{WFM}/businessunits/{{businessUnitId}}/activitycodes",
                path_params={"businessUnitId": business_unit_id},
                params={"forceDownloadService": True} if force_download else None,
            )
            or {}
        )
        if body.get("downloadUrl"):
            body = self._api.download(str(body["downloadUrl"]))
        return [parse_activity_code(c) for c in body.get("entities") or []]

    def search_schedules(
        self,
        business_unit_id: str,
        start: datetime,
        end: datetime,
        user_ids: Sequence[str] | None = None,
        *,
        wait_seconds: float = 60.0,
        force_async: bool = False,
        force_download: bool = False,
        notification_id: str | None = None,
    ) -> dict[str, AgentSchedule]:
        """POST …/businessunits/{buId}/agentschedules/search -> published schedule per user.

        The answer is "maybe async" (docs/genesys-api.md#schedule-search): an inline `result`, a
        `downloadUrl`, or `Processing` with an operationId whose result arrives only by notification on
        `v2.workforcemanagement.users.{id}.schedules.search`. There is no polling endpoint, and a
        subscription made after the answer may miss the event, so on Processing the client opens a
        channel on that topic first and then searches again, waiting at most `wait_seconds` for the
        event of the new operation. `{id}` for a client-credentials caller is UNCONFIRMED
        (docs/genesys-api.md#assumptions): `notification_id` defaults to the OAuth client id, as
        the emulator publishes it.
        """
        body: dict[str, Any] = {"startDate": iso(start), "endDate": iso(end)}
        if user_ids is not None:
            body["userIds"] = list(user_ids)

        def search() -> Mapping[str, Any]:
            answer: Mapping[str, Any] = (
                self._api.body(
                    "POST",
                    f"{WFM}/businessunits/{{businessUnitId}}/agentschedules/search",
                    path_params={"businessUnitId": business_unit_id},
                    params={
                        "forceAsync": force_async or None,
                        "forceDownloadService": force_download or None,
                    },
                    json=body,
                    idempotent=True,
                )
                or {}
            )
            return answer

        answer = search()
        if str(answer.get("status")) == "Processing" and not answer.get("result"):
            who = notification_id or self._api.config.client_id
            topic = f"v2.workforcemanagement.users.{who}.schedules.search"
            answer = self._await_notification(topic, search, wait_seconds)
        return self._schedule_answer(answer)

    def _await_notification(
        self, topic: str, start: Callable[[], Mapping[str, Any]], wait_seconds: float
    ) -> Mapping[str, Any]:
        """Subscribe to `topic`, call `start()`; if it answers Processing, return the eventBody
        whose operationId matches, within `wait_seconds`."""
        events: queue.Queue[StreamEvent] = queue.Queue()
        deadline = self._api.clock() + wait_seconds
        with NotificationStream(self._notifications, [topic], events.put) as stream:
            while not stream.wait_connected(min(_CHECK_SECONDS, max(0.0, deadline - self._api.clock()))):
                self._api.transport.check_reads(" (schedule search)")
                if self._api.clock() >= deadline:
                    raise ScheduleSearchPending(f"could not subscribe to {topic} within {wait_seconds:.0f}s")
            answer = start()
            if str(answer.get("status")) != "Processing" or answer.get("result"):
                return answer
            operation = str(answer.get("operationId") or "")
            while (remaining := deadline - self._api.clock()) > 0:
                self._api.transport.check_reads(" (schedule search)")
                try:  # in short steps, so a shutdown does not wait for the event
                    event = events.get(timeout=min(remaining, _CHECK_SECONDS))
                except queue.Empty:
                    continue
                if (
                    isinstance(event, RawEvent)
                    and event.topic == topic
                    and isinstance(event.body, Mapping)
                    and str(event.body.get("operationId")) == operation
                ):
                    return cast(Mapping[str, Any], event.body)
        raise ScheduleSearchPending(
            f"schedule search {operation} still Processing after {wait_seconds:.0f}s (no event on {topic})",
            code="timeout",
        )

    def _schedule_answer(self, answer: Mapping[str, Any]) -> dict[str, AgentSchedule]:
        if answer.get("result"):
            return parse_schedule_result(answer["result"])
        if answer.get("downloadUrl"):
            return parse_schedule_result(_unwrap_result(self._api.download(str(answer["downloadUrl"]))))
        raise GenesysError(
            f"schedule search answered {answer.get('status') or 'without a result'}", code="no.result"
        )

    def realtime_adherence(self, user_ids: Iterable[str]) -> dict[str, AdherenceRecord]:
        """GET /workforcemanagement/adherence?userId=…, 100 ids a call."""

        def one(batch: Sequence[str]) -> list[AdherenceRecord]:
            body = self._api.body("GET", f"{WFM}/adherence", params={"userId": list(batch)})
            return [parse_adherence(r) for r in body or []]

        out: dict[str, AdherenceRecord] = {}
        for result in self._api.map(one, chunks(unique(user_ids), ADHERENCE_MAX)):
            out.update((r.user_id, r) for r in result)
        return out

    def historical_adherence(
        self,
        management_unit_id: str,
        start: datetime,
        end: datetime,
        user_ids: Sequence[str] | None = None,
        *,
        time_zone: str = "UTC",
        include_exceptions: bool = True,
        wait_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> list[HistoricalAdherence]:
        """Start the MU historical adherence query, poll its job until Complete, download the rows."""
        body: dict[str, Any] = {
            "startDate": iso(start),
            "endDate": iso(end),
            "timeZone": time_zone,
            "includeExceptions": include_exceptions,
        }
        if user_ids is not None:
            body["userIds"] = list(user_ids)
        job = (
            self._api.body(
                "POST",
                f"{WFM}/managementunits/{{managementUnitId}}/historicaladherencequery",
                path_params={"managementUnitId": management_unit_id},
                json=body,
            )
            or {}
        )
        deadline = self._api.clock() + wait_seconds
        while str(job.get("queryState")) == "Processing":
            if self._api.clock() >= deadline:
                raise GenesysError(
                    f"historical adherence query {job.get('id')} still Processing after {wait_seconds:.0f}s",
                    code="timeout",
                )
            self._api.sleep(poll_seconds)
            job = (
                self._api.body(
                    "GET", f"{WFM}/adherence/historical/jobs/{{jobId}}", path_params={"jobId": str(job["id"])}
                )
                or {}
            )
        if str(job.get("queryState")) != "Complete":
            raise GenesysError(f"historical adherence query {job.get('id')} ended {job.get('queryState')}")
        urls = list(job.get("downloadUrls") or ([job["downloadUrl"]] if job.get("downloadUrl") else []))
        rows: list[HistoricalAdherence] = []
        if job.get("downloadResult"):
            rows.extend(parse_historical_adherence(job["downloadResult"]))
        for url in urls:
            rows.extend(parse_historical_adherence(self._api.download(str(url))))
        return rows


def _unwrap_result(document: Any) -> Mapping[str, Any]:
    """A schedule download is the BuAgentSchedulesSearchResponse, possibly wrapped in {result}."""
    if isinstance(document, Mapping) and isinstance(document.get("result"), Mapping):
        inner: Mapping[str, Any] = document["result"]
        return inner
    return document if isinstance(document, Mapping) else {}
