"""What the reconcile loop knows of the live org, each fact refreshed on its own cadence.

Presence and routing status are read every cycle (they are what drifts). The directory (agents,
their groups, management and business units) and published schedules change slowly, so they are
cached: the directory for `directory_ttl`, schedules for `schedule_ttl` or until "now" nears the
end of the fetched range. Management-unit membership comes from real-time adherence (100 agents a
call, doc §3.1) instead of one GET …/agents/{id}/managementunit per agent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property

from controller.domain import ActivityCode, Agent, AgentSchedule
from controller.genesys import GenesysClient

_log = logging.getLogger(__name__)


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


class WorldReader:
    def __init__(
        self,
        client: GenesysClient,
        *,
        directory_ttl: timedelta = timedelta(minutes=30),
        schedule_ttl: timedelta = timedelta(minutes=15),
        lookbehind: timedelta = timedelta(hours=12),
        lookahead: timedelta = timedelta(hours=36),
    ) -> None:
        self._client = client
        self._directory_ttl = directory_ttl
        self._schedule_ttl = schedule_ttl
        self._lookbehind = lookbehind
        self._lookahead = lookahead
        self._lock = threading.Lock()
        self._directory: Directory | None = None
        self._schedules: Schedules | None = None

    def invalidate(self) -> None:
        """Forget cached facts (e.g. a schedule-change notification or a desired-state reload)."""
        with self._lock:
            self._directory = None
            self._schedules = None

    def directory(self, now: datetime) -> Directory:
        with self._lock:
            cached = self._directory
            if cached is None or now - cached.fetched_at >= self._directory_ttl or now < cached.fetched_at:
                cached = self._directory = self._read_directory(now)
            return cached

    def schedules(self, directory: Directory, managed: Collection[str], now: datetime) -> Schedules:
        """Schedules covering at least [now - lookbehind/2, now + lookahead/2] for `managed`."""
        wanted = frozenset(a for a in managed if a in directory.business_unit_of)
        with self._lock:
            cached = self._schedules
            stale = (
                cached is None
                or now - cached.fetched_at >= self._schedule_ttl
                or now < cached.start + self._lookbehind / 2
                or now > cached.end - self._lookahead / 2
                or not wanted <= cached.agents
            )
            if stale:
                cached = self._schedules = self._read_schedules(directory, wanted, now)
            assert cached is not None
            return cached

    # ---- reads ----

    def _read_directory(self, now: datetime) -> Directory:
        users = self._client.list_users(with_groups=True)
        unit_of = {
            uid: r.management_unit_id
            for uid, r in self._client.realtime_adherence([u.id for u in users]).items()
            if r.management_unit_id
        }
        bu_of_mu: dict[str, str] = {}
        for bu in self._client.business_units():
            for mu in self._client.management_units(bu.id):
                bu_of_mu[mu.id] = bu.id
        agents = tuple(replace(u, management_unit_id=unit_of.get(u.id)) for u in users)
        business_unit_of = {
            a.id: bu_of_mu[a.management_unit_id]
            for a in agents
            if a.management_unit_id is not None and a.management_unit_id in bu_of_mu
        }
        _log.info(
            "directory read",
            extra={"agents": len(agents), "scheduled_agents": len(business_unit_of), "units": len(bu_of_mu)},
        )
        return Directory(agents, business_unit_of, now)

    def _read_schedules(self, directory: Directory, wanted: frozenset[str], now: datetime) -> Schedules:
        start, end = now - self._lookbehind, now + self._lookahead
        by_bu: dict[str, list[str]] = {}
        for agent_id in sorted(wanted):
            by_bu.setdefault(directory.business_unit_of[agent_id], []).append(agent_id)
        codes: dict[str, ActivityCode] = {}
        by_agent: dict[str, AgentSchedule] = {}
        for bu_id, agent_ids in sorted(by_bu.items()):
            # Activity code ids are unique within a business unit; default codes share ids across
            # units with the same meaning, so one map serves the planner.
            codes.update({c.id: c for c in self._client.activity_codes(bu_id)})
            found = self._client.search_schedules(bu_id, start, end, user_ids=agent_ids)
            # A WFM agent with nothing published in range is off shift, not "schedule unknown":
            # an empty schedule lets the policy's offShift rule apply to them.
            by_agent.update({a: found.get(a) or AgentSchedule(a) for a in agent_ids})
        _log.info("schedules read", extra={"agents": len(by_agent), "business_units": len(by_bu)})
        return Schedules(codes, by_agent, start, end, now, wanted)
