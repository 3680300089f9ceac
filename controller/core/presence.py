"""Presence vocabulary shared by the emulator, the client and the core.

Genesys spells `systemPresence` differently per endpoint (`OnQueue`, `On Queue`, `ON_QUEUE`;
docs/genesys-api.md#system-presence-spellings). Everything inside presencectl uses `SystemPresence`;
spellings exist only at the API boundary, through `normalize_system_presence` (reading) and the
`*_spelling` helpers (the emulator writing each endpoint's own form).
"""

from __future__ import annotations

from enum import StrEnum


class SystemPresence(StrEnum):
    """The ten system (primary) presences, valued as `/api/v2/presence/definitions` spells them."""

    AVAILABLE = "Available"
    AWAY = "Away"
    BUSY = "Busy"
    OFFLINE = "Offline"
    IDLE = "Idle"
    ON_QUEUE = "OnQueue"
    MEAL = "Meal"
    TRAINING = "Training"
    MEETING = "Meeting"
    BREAK = "Break"

    @property
    def label(self) -> str:
        """Human label, as the Genesys UI and the legacy endpoints show it ("On Queue")."""
        return "On Queue" if self is SystemPresence.ON_QUEUE else self.value

    @property
    def upper_snake(self) -> str:
        """Spelling of notifications and `UserActivity` ("ON_QUEUE")."""
        return self.name


class RoutingStatus(StrEnum):
    OFF_QUEUE = "OFF_QUEUE"
    IDLE = "IDLE"
    INTERACTING = "INTERACTING"
    NOT_RESPONDING = "NOT_RESPONDING"
    COMMUNICATING = "COMMUNICATING"

    @property
    def busy_with_interaction(self) -> bool:
        return self in (RoutingStatus.INTERACTING, RoutingStatus.COMMUNICATING)


def _fold(text: str) -> str:
    return text.replace(" ", "").replace("_", "").replace("-", "").lower()


_BY_FOLDED = {_fold(p.value): p for p in SystemPresence}


def normalize_system_presence(text: str) -> SystemPresence:
    """Map any endpoint's spelling to the enum: `OnQueue` ≡ `On Queue` ≡ `ON_QUEUE`.

    Raises ValueError naming the accepted values for anything else.
    """
    try:
        return _BY_FOLDED[_fold(text)]
    except KeyError:
        accepted = ", ".join(p.label for p in SystemPresence)
        raise ValueError(f"unknown system presence {text!r}; expected one of: {accepted}") from None


def is_system_presence_name(text: str) -> bool:
    return _fold(text) in _BY_FOLDED


# Presence-definition ids captured from a real org (docs/genesys-api.md#presence-definitions).
# UNCONFIRMED that they are equal in every org: the daemon always resolves ids from
# /api/v2/presence/definitions; the emulator uses these so that its org looks like a real one.
WELL_KNOWN_DEFINITION_IDS: dict[SystemPresence, str] = {
    SystemPresence.AVAILABLE: "6a3af858-942f-489d-9700-5f9bcdcdae9b",
    SystemPresence.ON_QUEUE: "e08eaf1b-ee47-4fa9-a231-1200e284798f",
    SystemPresence.BUSY: "31fe3bac-dea6-44b7-bed7-47f91660a1a0",
    SystemPresence.AWAY: "5e5c5c66-ea97-4e7f-ac41-6424784829f2",
    SystemPresence.BREAK: "227b37e2-f1d0-4dd0-8f50-badd7cf6d158",
    SystemPresence.MEAL: "3fd96123-badb-4f69-bc03-1b1ccc6d8014",
    SystemPresence.MEETING: "bbdff279-7ae1-48ea-bade-7831d7234c64",
    SystemPresence.TRAINING: "d2390a99-8546-bad9-8f0a-219548e8aeb0",
    SystemPresence.IDLE: "7ffa01cd-7866-4ad7-8faa-31e11b42f51f",
    SystemPresence.OFFLINE: "ccf3c10a-aa2c-4845-8e8d-f59fa48c58e5",
}
