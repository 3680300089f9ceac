"""What the reconcile loop knows of the live org, each fact refreshed on its own cadence.

Presence and routing status are read every cycle (they are what drifts). The directory (agents,
their groups, management and business units) and published schedules change slowly, so they are
cached: the directory for `directory_ttl`, schedules for `schedule_ttl` or until "now" nears the
end of the fetched range. Management-unit membership comes from one users listing per business
unit (docs/genesys-api.md#wfm-units-and-membership): 3 WFM calls for 10,000 agents in two BUs,
where real-time adherence took 100.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import TypeVar

from controller.core.domain import ActivityCode, Agent, AgentSchedule
from controller.genesys import BadRequest, GenesysClient, GenesysError, ScheduleSearchPending

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Agents per schedule search (the platform's limit is undocumented, docs/genesys-api.md#schedule-search)
SCHEDULE_CHUNK = 500
SCHEDULE_WAIT = timedelta(seconds=60)  # for the notification of a search that answered Processing


@dataclass(frozen=True)
class Directory:
    """The org's agents, with groups and management unit, and each agent's business unit."""

    agents: tuple[Agent, ...]
    business_unit_of: Mapping[str, str]  # agent id -> business unit id
    fetched_at: datetime

    @cached_property
    def by_id(self) -> dict[str, Agent]:
        """Built once per directory read (the cycle and the webhook lookup use it repeatedly)."""
        return {a.id: a for a in self.agents}

    @cached_property
    def _by_email(self) -> dict[str, Agent]:
        return {a.email.casefold(): a for a in self.agents if a.email}

    def find(self, key: str) -> Agent | None:
        """An agent by user id or e-mail address (case-insensitive)."""
        return self.by_id.get(key) or self._by_email.get(key.casefold())


@dataclass(frozen=True)
class Schedules:
    """Activity codes of every business unit and the published schedules of managed agents."""

    codes: Mapping[str, ActivityCode]
    by_agent: Mapping[str, AgentSchedule]
    start: datetime
    end: datetime
    fetched_at: datetime
    agents: frozenset[str] = field(default_factory=frozenset)


class OrgReader:
    def __init__(
        self,
        client: GenesysClient,
        *,
        directory_ttl: timedelta = timedelta(minutes=30),
        schedule_ttl: timedelta = timedelta(minutes=15),
        lookbehind: timedelta = timedelta(hours=12),
        lookahead: timedelta = timedelta(hours=36),
        schedule_chunk: int = SCHEDULE_CHUNK,
        schedule_wait: timedelta = SCHEDULE_WAIT,
    ) -> None:
        self._client = client
        self._directory_ttl = directory_ttl
        self._schedule_ttl = schedule_ttl
        self._lookbehind = lookbehind
        self._lookahead = lookahead
        self._lock = threading.Lock()  # the cached values
        self._reading = threading.Lock()  # one read of the org at a time (a resync thread, the worker)
        self._directory: Directory | None = None
        self._schedules: Schedules | None = None
        self._configured_chunk = 0
        self.tune_schedule_search(schedule_chunk, schedule_wait)

    def tune_schedule_search(self, chunk: int, wait: timedelta) -> None:
        """Agents per schedule search (halved, for the process, each time a search is refused or
        stays Processing) and how long to wait for a Processing search's notification. A reload
        with the same configured chunk keeps the size learned since."""
        if chunk != self._configured_chunk:
            self._configured_chunk = chunk
            self.schedule_chunk = max(1, chunk)
        self._schedule_wait = wait

    def invalidate(self) -> None:
        """Forget cached facts (e.g. a schedule-change notification or a desired-state reload)."""
        with self._lock:
            self._directory = None
            self._schedules = None

    def directory(self, now: datetime, *, refresh: bool = True) -> Directory:
        """The cached directory, read again when older than its TTL; `refresh=False` (a boundary
        or an event re-plan: a few agents, now) takes any cached copy rather than wait for a read
        of the whole org, which the next full resync makes."""

        def usable(d: Directory) -> bool:
            return now >= d.fetched_at and (not refresh or now - d.fetched_at < self._directory_ttl)

        return self._cached("_directory", usable, lambda: self._read_directory(now))

    def schedules(
        self, directory: Directory, managed: Collection[str], now: datetime, *, refresh: bool = True
    ) -> Schedules:
        """Schedules covering at least [now - lookbehind/2, now + lookahead/2] for `managed`, read
        again after their TTL too unless `refresh=False` (see `directory`)."""
        wanted = frozenset(a for a in managed if a in directory.business_unit_of)

        def usable(s: Schedules) -> bool:
            return (
                (not refresh or now - s.fetched_at < self._schedule_ttl)
                and s.start + self._lookbehind / 2 <= now <= s.end - self._lookahead / 2
                and wanted <= s.agents
            )

        def read() -> Schedules:
            return self._read_schedules(directory, wanted, now - self._lookbehind, now + self._lookahead, now)

        return self._cached("_schedules", usable, read)

    def _cached(self, name: str, usable: Callable[[_T], bool], read: Callable[[], _T]) -> _T:
        """The cached value if usable, else a new read. Reads are one at a time, and a caller
        that can use the cached value never waits for another thread's read."""
        with self._lock:
            cached: _T | None = getattr(self, name)
        if cached is not None and usable(cached):
            return cached
        with self._reading:
            with self._lock:
                cached = getattr(self, name)
            if cached is None or not usable(cached):  # else another thread has just read it
                cached = read()
                with self._lock:
                    setattr(self, name, cached)
            return cached

    def schedules_between(
        self, directory: Directory, agents: Collection[str], start: datetime, end: datetime, now: datetime
    ) -> Schedules:
        """Schedules over an explicit past or future range (reports; not cached)."""
        wanted = frozenset(a for a in agents if a in directory.business_unit_of)
        return self._read_schedules(directory, wanted, start, end, now)

    # ---- reads ----

    def _read_directory(self, now: datetime) -> Directory:
        users = self._client.users.list_users(with_groups=True)
        units = self._client.wfm.unit_membership([u.id for u in users])
        agents = tuple(
            replace(u, management_unit_id=units[u.id].management_unit_id if u.id in units else None)
            for u in users
        )
        business_unit_of = {uid: u.business_unit_id for uid, u in units.items()}
        _log.info(
            "directory read",
            extra={
                "agents": len(agents),
                "scheduled_agents": len(business_unit_of),
                "units": len({u.management_unit_id for u in units.values()}),
            },
        )
        return Directory(agents, business_unit_of, now)

    def _read_schedules(
        self, directory: Directory, wanted: frozenset[str], start: datetime, end: datetime, now: datetime
    ) -> Schedules:
        by_bu: dict[str, list[str]] = {}
        for agent_id in sorted(wanted):
            by_bu.setdefault(directory.business_unit_of[agent_id], []).append(agent_id)
        codes: dict[str, ActivityCode] = {}
        by_agent: dict[str, AgentSchedule] = {}
        for bu_id, agent_ids in sorted(by_bu.items()):
            # Activity code ids are unique within a business unit; default codes share ids across
            # units with the same meaning, so one map serves the planner.
            codes.update({c.id: c for c in self._client.wfm.activity_codes(bu_id)})
            found = self._search(bu_id, agent_ids, start, end)
            # A WFM agent with nothing published in range is off shift, not "schedule unknown":
            # an empty schedule lets the policy's offShift rule apply to them.
            by_agent.update({a: found.get(a) or AgentSchedule(a) for a in agent_ids})
        _log.info("schedules read", extra={"agents": len(by_agent), "business_units": len(by_bu)})
        return Schedules(codes, by_agent, start, end, now, wanted)

    def _search(
        self, bu_id: str, agent_ids: list[str], start: datetime, end: datetime
    ) -> dict[str, AgentSchedule]:
        """Search one BU's schedules in chunks of `schedule_chunk` agents. A chunk refused (400:
        too many users) or still Processing when its notification does not come is searched again
        in halves, and the smaller size is kept: never a silent time-out, never a lost agent."""
        found: dict[str, AgentSchedule] = {}
        todo = [agent_ids[i : i + self.schedule_chunk] for i in range(0, len(agent_ids), self.schedule_chunk)]
        wait = self._schedule_wait.total_seconds()
        while todo:
            chunk = todo.pop(0)
            try:
                found.update(self._client.wfm.search_schedules(bu_id, start, end, chunk, wait_seconds=wait))
                continue
            except (BadRequest, ScheduleSearchPending) as error:
                failure = error
            if len(chunk) == 1:
                raise GenesysError(
                    f"schedule search of business unit {bu_id} failed even for one agent ({chunk[0]}): "
                    f"{failure}; check the OAuth client's WFM permissions and the notification topic",
                    code=failure.code,
                ) from failure
            half = (len(chunk) + 1) // 2
            self.schedule_chunk = min(self.schedule_chunk, half)
            why = (
                f"answered Processing and no notification came within {wait:.0f}s"
                if isinstance(failure, ScheduleSearchPending)
                else f"was refused ({failure})"
            )
            _log.warning(
                f"schedule search for {len(chunk)} agents of business unit {bu_id} {why}; "
                f"searching again in chunks of {half}",
                extra={"business_unit": bu_id, "agents": len(chunk), "chunk": half},
            )
            todo[:0] = [chunk[:half], chunk[half:]]
        return found
