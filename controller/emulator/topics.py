"""Notification topic names, from the SDK's notificationMappings.json (257.1.0, copied beside
this module): which concrete topics a channel may subscribe to, and which topic patterns a
Process Automation trigger may name."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

from controller.emulator.org import OrgTopicRejection

_MAPPINGS = "notification-mappings-257.1.0.json"

# What a per-user topic requires of a subscriber outside the user's own token. Assumed, not
# documented (docs/genesys-api.md#topic-rejection): a real org answers it in
# GET /api/v2/notifications/availabletopics?expand=requiresPermissions.
USER_TOPIC_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "presence": ("presence:userPresence:view",),
    "routingStatus": ("routing:agent:view",),
    "activity": ("presence:userPresence:view", "routing:agent:view"),
}
OTHER_USER_TOPIC_PERMISSIONS = ("directory:user:view",)
_USER_TOPIC = re.compile(r"v2\.users\.([^.?]+)\.(.+)")


@cache
def topic_patterns() -> tuple[str, ...]:
    """Every topic of the mappings file, with {id} placeholders."""
    text = resources.files("controller.emulator").joinpath("data", _MAPPINGS).read_text()
    return tuple(entry["topic"] for entry in json.loads(text)["notifications"])


@cache
def _subscription_regex() -> re.Pattern[str]:
    parts = [re.escape(p).replace(re.escape("{id}"), r"[^.?{}]+") for p in topic_patterns()]
    return re.compile("(?:" + "|".join(parts) + ")")


def expand_topic(topic: str) -> list[str]:
    """A combined topic `v2.users.X?presence&routingStatus` stands for each of its parts."""
    base, sep, rest = topic.partition("?")
    if not sep:
        return [topic]
    return [f"{base}.{part}" for part in rest.split("&") if part]


def is_subscribable(topic: str) -> bool:
    parts = expand_topic(topic)
    return bool(parts) and all(_subscription_regex().fullmatch(p) for p in parts)


def missing_permissions(topic: str, client_id: str, rejections: Sequence[OrgTopicRejection]) -> list[str]:
    """The permissions `client_id` lacks to subscribe to `topic` (empty: permitted)."""
    missing: dict[str, None] = {}
    for part in expand_topic(topic):
        match = _USER_TOPIC.fullmatch(part)
        if match is None:
            continue
        user_id, kind = match.groups()
        for rule in rejections:
            if user_id in rule.user_ids and rule.client_id in (None, client_id):
                needed = rule.missing_permissions
                if needed is None:
                    needed = list(USER_TOPIC_PERMISSIONS.get(kind, OTHER_USER_TOPIC_PERMISSIONS))
                missing.update(dict.fromkeys(needed))
    return list(missing)


@cache
def trigger_topics() -> frozenset[str]:
    """Trigger topics: the per-user, per-MU/BU and inbound-webhook topics with {id} placeholders
    (help.mypurecloud.com "Overview of triggers" lists topics of these families)."""
    prefixes = (
        "v2.users.{id}.",
        "v2.workforcemanagement.managementunits.{id}.",
        "v2.workforcemanagement.businessunits.{id}.",
        "v2.integrations.inbound.webhook.{id}.",
    )
    return frozenset(p for p in topic_patterns() if p.startswith(prefixes))
