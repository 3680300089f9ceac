"""The org's presence definitions as the platform resolves them."""

from __future__ import annotations

from controller.core.presence import SystemPresence, is_system_presence_name, normalize_system_presence
from controller.emulator.org import Org, OrgPresenceDefinition
from controller.emulator.presence.exceptions import PresenceRefused


class PresenceDefinitions:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.by_id: dict[str, OrgPresenceDefinition] = {d.id: d for d in org.presence_definitions}
        self.system: dict[SystemPresence, OrgPresenceDefinition] = {}  # the active System definitions
        for d in org.presence_definitions:
            if d.type == "System" and not d.deactivated:
                self.system.setdefault(d.system_presence, d)

    def settable(self, definition_id: str) -> OrgPresenceDefinition:
        """The definition a write may name: it exists and is active."""
        found = self.by_id.get(definition_id)
        if found is None:
            raise PresenceRefused(f"Presence definition {definition_id} does not exist")
        if found.deactivated:
            raise PresenceRefused(f"Presence definition {definition_id} is deactivated")
        return found

    def resolve(self, text: str) -> OrgPresenceDefinition:
        """A definition id, a system presence in any spelling, or an org secondary label."""
        if text in self.by_id:
            return self.settable(text)
        if is_system_presence_name(text):
            found = self.system.get(normalize_system_presence(text))
            if found is not None:
                return found
        for d in self.org.presence_definitions:
            if not d.deactivated and any(label.casefold() == text.casefold() for label in d.labels.values()):
                return d
        raise PresenceRefused(f"no presence definition matches {text!r}")

    def system_id(self, presence: SystemPresence) -> str:
        return self.system[presence].id
