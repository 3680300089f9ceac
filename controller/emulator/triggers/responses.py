"""Trigger handlers: parse CreateTriggerRequest / UpdateTriggerRequest into typed fields, call
the store, answer the Trigger JSON. PUT needs the current `version` (409 otherwise) and cannot
change topicName (400). Cursor paging (`before`/`after`, pageSize <= 200): a cursor is the
base64 of a trigger's creation sequence number."""

from __future__ import annotations

import base64
from typing import Any, TypeGuard
from urllib.parse import urlencode

from aiohttp import web

from controller.emulator.core.httpkit import BACKEND, id_list, int_param, json_object, json_response
from controller.emulator.topics import trigger_topics
from controller.emulator.triggers.exceptions import InvalidTrigger
from controller.emulator.triggers.models import MatchCriterion, Trigger, TriggerFields, TriggerTarget

BASE = "/api/v2/processautomation/triggers"
OPERATORS = frozenset(
    [
        "GreaterThanOrEqual",
        "LessThanOrEqual",
        "Equal",
        "NotEqual",
        "LessThan",
        "GreaterThan",
        "NotIn",
        "In",
        "Contains",
        "All",
        "Exists",
        "Size",
    ]
)


def _target(target: Any) -> TriggerTarget:
    if not isinstance(target, dict):
        raise InvalidTrigger("target is required.")
    if target.get("type") != "Workflow":
        raise InvalidTrigger('target.type must be "Workflow".')
    if not isinstance(target.get("id"), str) or not target["id"]:
        raise InvalidTrigger("target.id is required.")
    settings = target.get("workflowTargetSettings")
    if settings is None:
        return TriggerTarget(target["id"])
    if not isinstance(settings, dict) or settings.get("dataFormat") not in ("Json", "TopLevelPrimitives"):
        raise InvalidTrigger("target.workflowTargetSettings.dataFormat must be Json or TopLevelPrimitives.")
    return TriggerTarget(target["id"], settings["dataFormat"])


def _criteria(criteria: Any) -> tuple[MatchCriterion, ...]:
    if not isinstance(criteria, list):
        raise InvalidTrigger("matchCriteria must be a list.")
    parsed = []
    for item in criteria:
        if not isinstance(item, dict) or not isinstance(item.get("jsonPath"), str):
            raise InvalidTrigger("Each matchCriteria entry needs a jsonPath.")
        if item.get("operator") not in OPERATORS:
            raise InvalidTrigger(f"matchCriteria operator must be one of {', '.join(sorted(OPERATORS))}.")
        given = tuple(key for key in ("value", "values") if key in item)
        parsed.append(
            MatchCriterion(item["jsonPath"], item["operator"], item.get("value"), item.get("values"), given)
        )
    return tuple(parsed)


def _integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_fields(body: dict[str, Any]) -> TriggerFields:
    """CreateTriggerRequest -> the trigger's fields, checked in the platform's order."""
    name, topic, enabled = body.get("name"), body.get("topicName"), body.get("enabled")
    if not isinstance(name, str) or not name.strip():
        raise InvalidTrigger("name is required.")
    if not isinstance(topic, str):
        raise InvalidTrigger("topicName is required.")
    if topic not in trigger_topics():
        raise InvalidTrigger(f"topicName {topic} is not a valid trigger topic.")
    if not isinstance(enabled, bool):
        raise InvalidTrigger("enabled is required and must be a boolean.")
    target = _target(body.get("target"))
    criteria = _criteria(body["matchCriteria"]) if body.get("matchCriteria") is not None else None
    ttl, delay = body.get("eventTTLSeconds"), body.get("delayBySeconds")
    if ttl is not None and delay is not None:
        raise InvalidTrigger("Only one of eventTTLSeconds or delayBySeconds can be set.")
    if ttl is not None and (not _integer(ttl) or ttl < 10):
        raise InvalidTrigger("eventTTLSeconds must be set to at least 10 seconds.")
    if delay is not None and (not _integer(delay) or not 60 <= delay <= 900):
        raise InvalidTrigger("delayBySeconds must be in the range of 60 to 900 seconds.")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 512):
        raise InvalidTrigger("description must be a string of at most 512 characters.")
    return TriggerFields(name, topic, target, enabled, criteria, ttl, delay, description)


def trigger_json(trigger: Trigger) -> dict[str, Any]:
    fields = trigger.fields
    target: dict[str, Any] = {"type": "Workflow", "id": fields.target.id}
    if fields.target.data_format is not None:
        target["workflowTargetSettings"] = {"dataFormat": fields.target.data_format}
    body: dict[str, Any] = {
        "id": trigger.id,
        "name": fields.name,
        "topicName": fields.topic_name,
        "target": target,
        "enabled": fields.enabled,
    }
    if fields.match_criteria is not None:
        body["matchCriteria"] = [
            {"jsonPath": c.json_path, "operator": c.operator, **{k: getattr(c, k) for k in c.given}}
            for c in fields.match_criteria
        ]
    if fields.event_ttl_seconds is not None:
        body["eventTTLSeconds"] = fields.event_ttl_seconds
    if fields.delay_by_seconds is not None:
        body["delayBySeconds"] = fields.delay_by_seconds
    if fields.description is not None:
        body["description"] = fields.description
    body["version"] = trigger.version
    body["selfUri"] = f"{BASE}/{trigger.id}"
    return body


async def create(request: web.Request) -> web.Response:
    fields = parse_fields(await json_object(request))
    return json_response(trigger_json(request.app[BACKEND].triggers.create(fields)))


async def get(request: web.Request) -> web.Response:
    return json_response(trigger_json(request.app[BACKEND].triggers.get(request.match_info["triggerId"])))


async def update(request: web.Request) -> web.Response:
    store = request.app[BACKEND].triggers
    current = store.get(request.match_info["triggerId"])
    body = await json_object(request)
    version = body.get("version")
    if not _integer(version):
        raise InvalidTrigger("version is required.")
    store.check_topic_unchanged(current, body.get("topicName"))
    return json_response(trigger_json(store.update(current, version, parse_fields(body))))


async def delete(request: web.Request) -> web.Response:
    request.app[BACKEND].triggers.delete(request.match_info["triggerId"])
    return web.Response(status=204)


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode()


def _seq(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise InvalidTrigger("Invalid paging cursor.") from None


def _bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise InvalidTrigger(f"{name} must be true or false.")
    return raw.lower() == "true"


async def list_triggers(request: web.Request) -> web.Response:
    store = request.app[BACKEND].triggers
    size = int_param(request, "pageSize", 25, 1, 200)
    topics = set(id_list(request, "topicName"))
    enabled, has_delay = _bool_param(request, "enabled"), _bool_param(request, "hasDelayBy")
    wanted = store.matching(topics, enabled, has_delay)
    if "after" in request.query:
        page = store.page(wanted, size, after=_seq(request.query["after"]))
    elif "before" in request.query:
        page = store.page(wanted, size, before=_seq(request.query["before"]))
    else:
        page = store.page(wanted, size)
    kept = [(k, v) for k, v in request.query.items() if k not in ("before", "after")]
    listing: dict[str, Any] = {
        "entities": [trigger_json(t) for t in page.triggers],
        "selfUri": f"{BASE}?{urlencode(list(request.query.items()))}",
    }
    if page.triggers and page.more_after:
        listing["nextUri"] = f"{BASE}?{urlencode([*kept, ('after', _cursor(page.triggers[-1].seq))])}"
    if page.triggers and page.more_before:
        listing["previousUri"] = f"{BASE}?{urlencode([*kept, ('before', _cursor(page.triggers[0].seq))])}"
    return json_response(listing)
