"""The emulator's mutable runtime state: per-user presence and routing status (with history),
tokens, the emulator clock, triggers, async WFM operations and downloads, the request log.

Everything here is touched only from the server's event loop thread, so there are no locks.
Changes that the platform would announce on the Notifications API are handed to `publish`
(the notifications hub) as (topic, eventBody) pairs.
"""

from __future__ import annotations

import bisect
import random
import secrets
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from controller.core.presence import (
    RoutingStatus,
    SystemPresence,
    is_system_presence_name,
    normalize_system_presence,
)
from controller.emulator.faults import Faults
from controller.emulator.org import Org, OrgLogin, OrgPresenceDefinition
from controller.emulator.ratelimit import RateLimiter
from controller.emulator.wfm import activity_at

DEFAULT_TOKEN_TTL_SECONDS = 86400  # Genesys default for an OAuth client (docs/genesys-api.md#oauth)
HISTORY_PER_USER = 2000  # presence changes kept per user for historical adherence
REQUEST_LOG_MAX = 200_000
DOWNLOADS_MAX = 1000  # downloads kept (oldest dropped), like pre-signed URLs that expire

Publish = Callable[[str, dict[str, Any]], None]
HistoryEntry = tuple[datetime, str, str]  # (time, presence definition id, routing status)
LoginEvent = tuple[datetime, bool, str]  # (time, logged in after it, agent id)


def iso(t: datetime) -> str:
    """Genesys timestamps: ISO-8601 UTC with milliseconds and a Z."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 date-time (Z or offset); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Clock:
    """Emulator time = real time + offset, so time keeps flowing after set/advance."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass(slots=True)
class UserState:
    definition_id: str
    message: str
    modified: datetime
    routing_status: RoutingStatus
    routing_start: datetime
    interacting: bool = False
    logged_in: bool = True  # to a client; logged out shows Offline / OFF_QUEUE
    out_of_office: bool = False
    out_of_office_modified: datetime | None = None
    history: deque[HistoryEntry] = field(default_factory=lambda: deque(maxlen=HISTORY_PER_USER))


@dataclass(slots=True)
class Token:
    client_id: str
    expires_at: datetime


@dataclass(slots=True)
class RequestRecord:
    method: str
    path: str
    route: str
    status: int
    time: str
    client: str = ""  # the OAuth client behind the bearer token ("" before authentication)
    correlation_id: str = ""
    injected: bool = False  # shaped by an injected fault (an error answer or added latency)
    written: tuple[str, ...] = ()  # agents whose presence or routing status this call changed
    on_interaction: tuple[str, ...] = ()  # of those, the ones on an interaction at that moment

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "route": self.route,
            "status": self.status,
            "time": self.time,
            "client": self.client,
            "correlationId": self.correlation_id,
            "injected": self.injected,
            "written": list(self.written),
            "onInteraction": list(self.on_interaction),
        }


@dataclass(slots=True)
class HistoricalJob:
    id: str
    client_id: str
    state: str  # Processing | Complete | Error
    download_ids: list[str] = field(default_factory=list)


class PresenceError(ValueError):
    """A presence change the platform would refuse (unknown or deactivated definition)."""


# The natural presence of an adherent agent per activity category (docs/genesys-api.md#activity-codes).
_CATEGORY_PRESENCE = {
    "OnQueueWork": SystemPresence.ON_QUEUE,
    "Break": SystemPresence.BREAK,
    "Meal": SystemPresence.MEAL,
    "Meeting": SystemPresence.MEETING,
    "Training": SystemPresence.TRAINING,
    "OffQueueWork": SystemPresence.BUSY,
    "TimeOff": SystemPresence.OFFLINE,
}


class World:
    def __init__(
        self,
        org: Org,
        *,
        rate_limit: int,
        token_ttl: int = DEFAULT_TOKEN_TTL_SECONDS,
        initial_adherence: float | None = None,
    ) -> None:
        self.org = org
        self.initial_adherence = initial_adherence
        self.clock = Clock()
        self.rate_limit = rate_limit
        self.default_token_ttl = token_ttl
        self.publish: Publish = lambda topic, body: None
        self.download_base = ""  # the download host (scheme://host:port); "" serves them on the API host
        self.definitions: dict[str, OrgPresenceDefinition] = {d.id: d for d in org.presence_definitions}
        self.agents = {a.id: a for a in org.agents}
        self.agent_index = {a.id: i for i, a in enumerate(org.agents)}
        self.system_definition: dict[SystemPresence, OrgPresenceDefinition] = {}
        for d in org.presence_definitions:
            if d.type == "System" and not d.deactivated:
                self.system_definition.setdefault(d.system_presence, d)
        self.tokens: dict[str, Token] = {}
        self.faults = Faults()
        self.logins: dict[str, list[OrgLogin]] | None = None
        self.login_events: list[LoginEvent] = []
        if org.logins is not None:
            self.logins = {a.id: [] for a in org.agents}
            for span in org.logins:
                self.logins.setdefault(span.agent_id, []).append(span)
                self.login_events += [(span.start, True, span.agent_id), (span.end, False, span.agent_id)]
            self.login_events.sort()
        self.login_times = [e[0] for e in self.login_events]
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the initial org state: presence, clock, faults, triggers, jobs, log, budget."""
        self.clock = Clock()
        self.faults.clear()
        self.token_ttl = self.default_token_ttl
        self.limiter = RateLimiter(self.rate_limit)
        self.triggers: dict[str, dict[str, Any]] = {}
        self.downloads: dict[str, Any] = {}
        self.historical_jobs: dict[str, HistoricalJob] = {}
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_MAX)
        self.writes_on_interaction = 0  # accepted API writes to an agent on an interaction
        now = self.clock.now()
        self.users = self._initial_users(now)
        self.settled = now  # login events up to here are applied

    def _initial_users(self, now: datetime) -> dict[str, UserState]:
        """Logged-out agents start Offline. Logged-in agents start Available (the log-on default,
        not yet On Queue) or, on shift with `initial_adherence` p, a seeded share p of them
        already in the presence their scheduled activity implies, as in a live contact center."""
        available = self.system_definition[SystemPresence.AVAILABLE].id
        offline = self.system_definition[SystemPresence.OFFLINE].id
        start = now - timedelta(hours=1)
        rng = random.Random(len(self.org.agents))
        users: dict[str, UserState] = {}
        for agent in self.org.agents:
            logged_in = self.logged_in_at(agent.id, now)
            definition = available if logged_in else offline
            adherent = self.initial_adherence is not None and logged_in and self._on_shift(agent.id, now)
            if adherent and rng.random() < (self.initial_adherence or 0.0):
                definition = self._scheduled_presence(agent.id, now) or available
            routing = RoutingStatus.IDLE if definition == self._on_queue_id() else RoutingStatus.OFF_QUEUE
            state = UserState(definition, "", start, routing, start, logged_in=logged_in)
            state.history.append((start, definition, routing.value))
            users[agent.id] = state
        return users

    # -- logging in and out -------------------------------------------------------------------
    def logged_in_at(self, agent_id: str, when: datetime) -> bool:
        """Whether the org's login spans have the agent logged in at `when`."""
        if self.logins is None:
            return True
        return any(s.start <= when < s.end for s in self.logins.get(agent_id, ()))

    def settle(self) -> None:
        """Apply the logins and logouts the org's spans put between the last call and now, in time
        order (each at its own instant). A clock set backwards re-derives everyone's login."""
        now = self.clock.now()
        if now < self.settled:
            for user_id, state in self.users.items():
                wanted = self.logged_in_at(user_id, now)
                if wanted is not state.logged_in:
                    self.set_login(user_id, wanted, now)
        else:
            first = bisect.bisect_right(self.login_times, self.settled)
            last = bisect.bisect_right(self.login_times, now)
            for when, logged_in, user_id in self.login_events[first:last]:
                self.set_login(user_id, logged_in, when)
        self.settled = now

    def set_login(self, user_id: str, logged_in: bool, when: datetime | None = None) -> UserState:
        """Log on: presence Available (the default on log-on). Log out (an OAuth token deletion,
        not a presence write): Offline, OFF_QUEUE, no interaction
        (docs/genesys-api.md#logged-out-agents-and-out-of-office)."""
        state = self.users[user_id]
        if logged_in is state.logged_in:
            return state
        state.logged_in = logged_in
        presence = SystemPresence.AVAILABLE if logged_in else SystemPresence.OFFLINE
        if not logged_in:
            state.interacting = False
        return self.set_presence(user_id, self.system_definition[presence].id, "", at=when)

    def set_out_of_office(self, user_id: str, active: bool) -> UserState:
        state = self.users[user_id]
        if active is not state.out_of_office:
            state.out_of_office = active
            state.out_of_office_modified = self.clock.now()
            self.publish(f"v2.users.{user_id}.activity", self.activity(user_id, state))
        return state

    def _on_queue_id(self) -> str:
        return self.system_definition[SystemPresence.ON_QUEUE].id

    def _scheduled_presence(self, agent_id: str, now: datetime) -> str | None:
        """The presence an adherent agent shows for the activity scheduled now: the code's
        secondary presence, else its category's natural system presence
        (docs/genesys-api.md#activity-codes)."""
        found = activity_at(self.org, agent_id, now)
        if found is None:
            return None
        _, code = found
        if code.secondary_presence_ids:
            return code.secondary_presence_ids[0]
        presence = _CATEGORY_PRESENCE.get(code.category)
        return self.system_definition[presence].id if presence is not None else None

    def _on_shift(self, agent_id: str, now: datetime) -> bool:
        for shift in self.org.shifts.get(agent_id, ()):
            if shift.start <= now < shift.start + timedelta(minutes=shift.length_minutes):
                return True
        return False

    def scheduled_now(self) -> int:
        now = self.clock.now()
        return sum(1 for a in self.org.agents if self._on_shift(a.id, now))

    # -- tokens ------------------------------------------------------------------------------
    def issue_token(self, client_id: str) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        ttl = self.token_ttl
        self.tokens[token] = Token(client_id, self.clock.now() + timedelta(seconds=ttl))
        return token, ttl

    def token_client(self, token: str) -> str | None:
        """The client id of a live token; None when unknown, revoked or expired."""
        found = self.tokens.get(token)
        if found is None:
            return None
        if self.clock.now() >= found.expires_at:
            return None
        return found.client_id

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    # -- presence and routing status --------------------------------------------------------
    def definition(self, definition_id: str) -> OrgPresenceDefinition:
        found = self.definitions.get(definition_id)
        if found is None:
            raise PresenceError(f"Presence definition {definition_id} does not exist")
        if found.deactivated:
            raise PresenceError(f"Presence definition {definition_id} is deactivated")
        return found

    def resolve_presence(self, text: str) -> OrgPresenceDefinition:
        """A definition id, a system presence in any spelling, or an org secondary label."""
        if text in self.definitions:
            return self.definition(text)
        if is_system_presence_name(text):
            found = self.system_definition.get(normalize_system_presence(text))
            if found is not None:
                return found
        for d in self.org.presence_definitions:
            if not d.deactivated and any(label.casefold() == text.casefold() for label in d.labels.values()):
                return d
        raise PresenceError(f"no presence definition matches {text!r}")

    def system_presence_of(self, state: UserState) -> SystemPresence:
        return self.definitions[state.definition_id].system_presence

    def set_presence(
        self, user_id: str, definition_id: str, message: str | None = None, *, at: datetime | None = None
    ) -> UserState:
        """Apply a presence change the way the platform couples it to routing status. A logged-out
        agent's change is accepted too (whether the platform refuses it is UNCONFIRMED: the
        emulator takes the worst case, docs/genesys-api.md#assumptions): On Queue then rings at an
        empty desk."""
        definition = self.definition(definition_id)
        state = self.users[user_id]
        now = at if at is not None else self.clock.now()
        was_on_queue = self.system_presence_of(state) is SystemPresence.ON_QUEUE
        now_on_queue = definition.system_presence is SystemPresence.ON_QUEUE
        state.definition_id = definition.id
        if message is not None:
            state.message = message
        state.modified = now
        routing = state.routing_status
        if now_on_queue and not was_on_queue:
            routing = RoutingStatus.INTERACTING if state.interacting else RoutingStatus.IDLE
        elif was_on_queue and not now_on_queue:
            routing = RoutingStatus.OFF_QUEUE
        self._record(user_id, state, routing, now, presence_changed=True)
        return state

    def set_routing_status(self, user_id: str, status: RoutingStatus) -> UserState:
        """PUT routingstatus. Allowed (the rest raise PresenceError -> 400):
        same status (no-op); NOT_RESPONDING -> IDLE (clear); OFF_QUEUE -> IDLE (goes On Queue);
        IDLE/NOT_RESPONDING/INTERACTING/COMMUNICATING -> OFF_QUEUE (leaves On Queue for Available).
        INTERACTING, COMMUNICATING and NOT_RESPONDING are set only by the system."""
        state = self.users[user_id]
        current = state.routing_status
        if status is current:
            return state
        if status is RoutingStatus.IDLE and current is RoutingStatus.NOT_RESPONDING:
            self._record(user_id, state, RoutingStatus.IDLE, self.clock.now(), presence_changed=False)
            return state
        if status is RoutingStatus.IDLE and current is RoutingStatus.OFF_QUEUE:
            return self.set_presence(user_id, self.system_definition[SystemPresence.ON_QUEUE].id)
        if status is RoutingStatus.OFF_QUEUE:
            return self.set_presence(user_id, self.system_definition[SystemPresence.AVAILABLE].id)
        raise PresenceError(f"Routing status cannot be changed from {current.value} to {status.value}")

    def interaction(self, user_id: str, action: str) -> UserState:
        """offer: routing offers an interaction to an On Queue, IDLE agent: answered (INTERACTING)
        when logged in, else nobody is there to answer and the agent goes NOT_RESPONDING;
        start: INTERACTING when On Queue; end: back to IDLE if still On Queue;
        miss: an alert was not answered -> NOT_RESPONDING (On Queue only)."""
        state = self.users[user_id]
        on_queue = self.system_presence_of(state) is SystemPresence.ON_QUEUE
        now = self.clock.now()
        if action == "offer":
            if not on_queue or state.routing_status is not RoutingStatus.IDLE:
                raise PresenceError(
                    "interactions are routed only to On Queue agents whose routing status is IDLE"
                )
            action = "start" if state.logged_in else "miss"
        if action == "start":
            state.interacting = True
            if on_queue:
                self._record(user_id, state, RoutingStatus.INTERACTING, now, presence_changed=False)
        elif action == "end":
            state.interacting = False
            if on_queue:
                self._record(user_id, state, RoutingStatus.IDLE, now, presence_changed=False)
        elif action == "miss":
            if on_queue:
                self._record(user_id, state, RoutingStatus.NOT_RESPONDING, now, presence_changed=False)
        else:
            raise PresenceError(f"unknown interaction action {action!r}; expected offer, start, end or miss")
        return state

    def _record(
        self, user_id: str, state: UserState, routing: RoutingStatus, now: datetime, *, presence_changed: bool
    ) -> None:
        routing_changed = routing is not state.routing_status
        if routing_changed:
            state.routing_status = routing
            state.routing_start = now
        if not (presence_changed or routing_changed):
            return
        state.history.append((now, state.definition_id, state.routing_status.value))
        if presence_changed:
            self.publish(f"v2.users.{user_id}.presence", self.presence_event(state))
        if routing_changed:
            self.publish(f"v2.users.{user_id}.routingStatus", self.routing_event(user_id, state))
        self.publish(f"v2.users.{user_id}.activity", self.activity(user_id, state))

    # -- JSON views shared by routes and events ---------------------------------------------
    def routing_json(self, state: UserState) -> dict[str, Any]:
        return {"status": state.routing_status.value, "startTime": iso(state.routing_start)}

    def presence_event(self, state: UserState) -> dict[str, Any]:
        """PresenceEventUserPresence; systemPresence in upper snake like the official example."""
        return {
            "source": "PURECLOUD",
            "presenceDefinition": {
                "id": state.definition_id,
                "systemPresence": self.system_presence_of(state).upper_snake,
            },
            "primary": True,
            "message": state.message,
            "modifiedDate": iso(state.modified),
        }

    def routing_event(self, user_id: str, state: UserState) -> dict[str, Any]:
        return {"id": user_id, "routingStatus": self.routing_json(state)}

    def activity(self, user_id: str, state: UserState) -> dict[str, Any]:
        """UserActivity / AgentActivityChangedTopicAgentActivity (same field names)."""
        return {
            "id": user_id,
            "routingStatus": self.routing_json(state),
            "presence": {
                "presenceDefinition": {
                    "id": state.definition_id,
                    "systemPresence": self.system_presence_of(state).upper_snake,
                },
                "presenceMessage": state.message,
                "modifiedDate": iso(state.modified),
            },
            "outOfOffice": self.out_of_office_json(state),
            "activeQueueIds": [],
        }

    def out_of_office_json(self, state: UserState) -> dict[str, Any]:
        """UserActivityOutOfOffice / AgentActivityChangedTopicOutOfOffice: {active, modifiedDate}."""
        body: dict[str, Any] = {"active": state.out_of_office}
        if state.out_of_office_modified is not None:
            body["modifiedDate"] = iso(state.out_of_office_modified)
        return body

    def history(self) -> dict[str, deque[HistoryEntry]]:
        """Presence history per user (live deques: read them before the loop runs again)."""
        return {uid: s.history for uid, s in self.users.items()}

    # -- downloads (pre-signed-URL stand-ins) ------------------------------------------------
    def add_download(self, body: Any) -> str:
        download_id = uuid.uuid4().hex
        self.downloads[download_id] = body
        while len(self.downloads) > DOWNLOADS_MAX:
            del self.downloads[next(iter(self.downloads))]
        return download_id

    def log_request(
        self,
        method: str,
        path: str,
        route: str,
        status: int,
        *,
        client: str = "",
        correlation_id: str = "",
        injected: bool = False,
        writes: Sequence[tuple[str, bool]] = (),
    ) -> None:
        """Log one /api/v2 call; `writes` are (agent, on an interaction) pairs the handler applied."""
        written = tuple(user_id for user_id, _ in writes) if 200 <= status < 300 else ()
        busy = tuple(user_id for user_id, on_interaction in writes if on_interaction) if written else ()
        self.writes_on_interaction += len(busy)
        when = iso(self.clock.now())
        record = RequestRecord(method, path, route, status, when, client, correlation_id, injected)
        record.written, record.on_interaction = written, busy
        self.requests.append(record)
