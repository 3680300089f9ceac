"""What the control surface reports about the emulated org: the summary counts. (The state it
changes belongs to the platform backend and the notifications hub.)"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from controller.emulator.backend import PlatformBackend
from controller.emulator.notifications.models import Hub


@dataclass(frozen=True, slots=True)
class Summary:
    agents: int
    presence_counts: dict[str, int]  # en_US label -> agents in it
    management_units: int
    presence_definitions: int
    scheduled_now: int
    logged_in: int
    out_of_office: int
    channels: int
    socket_connections: int
    writes_on_interaction: int
    now: datetime


def summary(backend: PlatformBackend, hub: Hub) -> Summary:
    presence = backend.presence
    states = presence.users.values()
    labels = (presence.definitions.by_id[s.definition_id].labels.get("en_US", "?") for s in states)
    return Summary(
        agents=len(backend.org.agents),
        presence_counts=dict(Counter(labels)),
        management_units=len(backend.org.management_units),
        presence_definitions=len(backend.org.presence_definitions),
        scheduled_now=presence.scheduled_now(),
        logged_in=sum(1 for s in states if s.logged_in),
        out_of_office=sum(1 for s in states if s.out_of_office),
        channels=len(hub.channels),
        socket_connections=hub.connections,
        writes_on_interaction=backend.requests.writes_on_interaction,
        now=backend.clock.now(),
    )
