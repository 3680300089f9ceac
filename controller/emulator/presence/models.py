"""Each agent's live presence and routing status, with history, and the rules that couple them
(docs/genesys-api.md#routing-status): writes, logins and logouts, interactions,
Out of Office.

Touched only from the server's event loop thread, so there are no locks. Every change the
platform would announce on the Notifications API is handed to `announce` as a `UserChange`; the
notifications wiring turns it into events.
"""

from __future__ import annotations

import bisect
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from controller.core.presence import RoutingStatus, SystemPresence
from controller.emulator.core.clock import Clock
from controller.emulator.org import Org, OrgLogin
from controller.emulator.presence.definitions import PresenceDefinitions
from controller.emulator.presence.exceptions import PresenceRefused
from controller.emulator.wfm.schedules import activity_at, on_shift

HISTORY_PER_USER = 2000  # presence changes kept per user for historical adherence

HistoryEntry = tuple[datetime, str, str]  # (time, presence definition id, routing status)
LoginEvent = tuple[datetime, bool, str]  # (time, logged in after it, agent id)


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


@dataclass(frozen=True, slots=True)
class UserChange:
    """What changed for one user: presence and/or routing status (each announced on its topic),
    and always the user's activity (alone when only Out of Office changed)."""

    user_id: str
    state: UserState
    presence: bool = False
    routing: bool = False


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


class AgentPresence:
    def __init__(self, org: Org, clock: Clock, initial_adherence: float | None = None) -> None:
        self.org, self.clock = org, clock
        self.initial_adherence = initial_adherence
        self.announce: Callable[[UserChange], None] = lambda change: None
        self.definitions = PresenceDefinitions(org)
        self.agents = {a.id: a for a in org.agents}
        self.logins: dict[str, list[OrgLogin]] | None = None
        self.login_events: list[LoginEvent] = []
        if org.logins is not None:
            self.logins = {a.id: [] for a in org.agents}
            for span in org.logins:
                self.logins.setdefault(span.agent_id, []).append(span)
                self.login_events += [(span.start, True, span.agent_id), (span.end, False, span.agent_id)]
            self.login_events.sort()
        self.login_times = [e[0] for e in self.login_events]
        self.users: dict[str, UserState] = {}
        self.settled = clock.now()
        self.reset()

    def reset(self) -> None:
        """Back to the initial state at the clock's now."""
        now = self.clock.now()
        self.users = self._initial_users(now)
        self.settled = now  # login events up to here are applied

    def _initial_users(self, now: datetime) -> dict[str, UserState]:
        """Logged-out agents start Offline. Logged-in agents start Available (the log-on default,
        not yet On Queue) or, on shift with `initial_adherence` p, a seeded share p of them
        already in the presence their scheduled activity implies, as in a live contact center."""
        available = self.definitions.system_id(SystemPresence.AVAILABLE)
        offline = self.definitions.system_id(SystemPresence.OFFLINE)
        on_queue = self.definitions.system_id(SystemPresence.ON_QUEUE)
        start = now - timedelta(hours=1)
        rng = random.Random(len(self.org.agents))
        users: dict[str, UserState] = {}
        for agent in self.org.agents:
            logged_in = self.logged_in_at(agent.id, now)
            definition = available if logged_in else offline
            adherent = self.initial_adherence is not None and logged_in and on_shift(self.org, agent.id, now)
            if adherent and rng.random() < (self.initial_adherence or 0.0):
                definition = self._scheduled_presence(agent.id, now) or available
            routing = RoutingStatus.IDLE if definition == on_queue else RoutingStatus.OFF_QUEUE
            state = UserState(definition, "", start, routing, start, logged_in=logged_in)
            state.history.append((start, definition, routing.value))
            users[agent.id] = state
        return users

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
        return self.definitions.system_id(presence) if presence is not None else None

    def scheduled_now(self) -> int:
        now = self.clock.now()
        return sum(1 for a in self.org.agents if on_shift(self.org, a.id, now))

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
        return self.set_presence(user_id, self.definitions.system_id(presence), "", at=when)

    def set_out_of_office(self, user_id: str, active: bool) -> UserState:
        state = self.users[user_id]
        if active is not state.out_of_office:
            state.out_of_office = active
            state.out_of_office_modified = self.clock.now()
            self.announce(UserChange(user_id, state))
        return state

    # -- presence and routing status --------------------------------------------------------
    def system_presence_of(self, state: UserState) -> SystemPresence:
        return self.definitions.by_id[state.definition_id].system_presence

    def set_presence(
        self, user_id: str, definition_id: str, message: str | None = None, *, at: datetime | None = None
    ) -> UserState:
        """Apply a presence change the way the platform couples it to routing status. A logged-out
        agent's change is accepted too (whether the platform refuses it is UNCONFIRMED: the
        emulator takes the worst case, docs/genesys-api.md#assumptions): On Queue then rings at an
        empty desk."""
        definition = self.definitions.settable(definition_id)
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
        """PUT routingstatus. Allowed (the rest are refused, 400):
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
            return self.set_presence(user_id, self.definitions.system_id(SystemPresence.ON_QUEUE))
        if status is RoutingStatus.OFF_QUEUE:
            return self.set_presence(user_id, self.definitions.system_id(SystemPresence.AVAILABLE))
        raise PresenceRefused(f"Routing status cannot be changed from {current.value} to {status.value}")

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
                raise PresenceRefused(
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
            raise PresenceRefused(
                f"unknown interaction action {action!r}; expected offer, start, end or miss"
            )
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
        self.announce(UserChange(user_id, state, presence=presence_changed, routing=routing_changed))

    def history(self) -> dict[str, deque[HistoryEntry]]:
        """Presence history per user (live deques: read them before the loop runs again)."""
        return {uid: s.history for uid, s in self.users.items()}
