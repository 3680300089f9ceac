"""Process Automation triggers: CRUD at /api/v2/processautomation/triggers
(docs/genesys-api.md#process-automation-triggers).

Cursor paging (`before`/`after`, pageSize <= 200): a cursor is the base64 of a trigger's
creation sequence number, so deleting triggers never shifts a page. Names may repeat (the doc
implies the server does not key on name). PUT needs the current `version` (409 otherwise) and
cannot change topicName (400).
"""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from controller.emulator.httpkit import (
    WORLD,
    ApiError,
    bad_request,
    id_list,
    int_param,
    json_object,
    json_response,
    not_found,
)
from controller.emulator.topics import trigger_topics

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
SEQ = "_seq"  # private key kept on the stored trigger, never returned


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid.value", message)


def _validate_target(target: Any) -> dict[str, Any]:
    if not isinstance(target, dict):
        raise _invalid("target is required.")
    if target.get("type") != "Workflow":
        raise _invalid('target.type must be "Workflow".')
    if not isinstance(target.get("id"), str) or not target["id"]:
        raise _invalid("target.id is required.")
    clean: dict[str, Any] = {"type": "Workflow", "id": target["id"]}
    settings = target.get("workflowTargetSettings")
    if settings is not None:
        if not isinstance(settings, dict) or settings.get("dataFormat") not in ("Json", "TopLevelPrimitives"):
            raise _invalid("target.workflowTargetSettings.dataFormat must be Json or TopLevelPrimitives.")
        clean["workflowTargetSettings"] = {"dataFormat": settings["dataFormat"]}
    return clean


def _validate_criteria(criteria: Any) -> list[dict[str, Any]]:
    if not isinstance(criteria, list):
        raise _invalid("matchCriteria must be a list.")
    clean = []
    for item in criteria:
        if not isinstance(item, dict) or not isinstance(item.get("jsonPath"), str):
            raise _invalid("Each matchCriteria entry needs a jsonPath.")
        if item.get("operator") not in OPERATORS:
            raise _invalid(f"matchCriteria operator must be one of {', '.join(sorted(OPERATORS))}.")
        entry = {"jsonPath": item["jsonPath"], "operator": item["operator"]}
        for key in ("value", "values"):
            if key in item:
                entry[key] = item[key]
        clean.append(entry)
    return clean


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """CreateTriggerRequest -> the stored fields (without id/version)."""
    name, topic, enabled = body.get("name"), body.get("topicName"), body.get("enabled")
    if not isinstance(name, str) or not name.strip():
        raise _invalid("name is required.")
    if not isinstance(topic, str):
        raise _invalid("topicName is required.")
    if topic not in trigger_topics():
        raise _invalid(f"topicName {topic} is not a valid trigger topic.")
    if not isinstance(enabled, bool):
        raise _invalid("enabled is required and must be a boolean.")
    trigger: dict[str, Any] = {
        "name": name,
        "topicName": topic,
        "target": _validate_target(body.get("target")),
        "enabled": enabled,
    }
    if body.get("matchCriteria") is not None:
        trigger["matchCriteria"] = _validate_criteria(body["matchCriteria"])
    ttl, delay = body.get("eventTTLSeconds"), body.get("delayBySeconds")
    if ttl is not None and delay is not None:
        raise _invalid("Only one of eventTTLSeconds or delayBySeconds can be set.")
    if ttl is not None:
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 10:
            raise _invalid("eventTTLSeconds must be set to at least 10 seconds.")
        trigger["eventTTLSeconds"] = ttl
    if delay is not None:
        if not isinstance(delay, int) or isinstance(delay, bool) or not 60 <= delay <= 900:
            raise _invalid("delayBySeconds must be in the range of 60 to 900 seconds.")
        trigger["delayBySeconds"] = delay
    description = body.get("description")
    if description is not None:
        if not isinstance(description, str) or len(description) > 512:
            raise _invalid("description must be a string of at most 512 characters.")
        trigger["description"] = description
    return trigger


def _public(trigger: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in trigger.items() if k != SEQ}


def _trigger_or_404(request: web.Request) -> dict[str, Any]:
    found = request.app[WORLD].triggers.get(request.match_info["triggerId"])
    if found is None:
        raise not_found(f"Trigger {request.match_info['triggerId']} not found.")
    return found


async def create(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    trigger = validate(await json_object(request))
    trigger_id = str(uuid.uuid4())
    seq = max((t[SEQ] for t in world.triggers.values()), default=0) + 1
    stored = {"id": trigger_id, **trigger, "version": 1, "selfUri": f"{BASE}/{trigger_id}", SEQ: seq}
    world.triggers[trigger_id] = stored
    return json_response(_public(stored))


async def get(request: web.Request) -> web.Response:
    return json_response(_public(_trigger_or_404(request)))


async def update(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    current = _trigger_or_404(request)
    body = await json_object(request)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _invalid("version is required.")
    if body.get("topicName") != current["topicName"]:
        raise bad_request(
            "topicName cannot be updated, a new trigger must be created to use a new topicName."
        )
    trigger = validate(body)
    if version != current["version"]:
        raise ApiError(
            409, "conflict", f"Version {version} does not match the current version {current['version']}."
        )
    stored = {
        "id": current["id"],
        **trigger,
        "version": current["version"] + 1,
        "selfUri": current["selfUri"],
        SEQ: current[SEQ],
    }
    world.triggers[current["id"]] = stored
    return json_response(_public(stored))


async def delete(request: web.Request) -> web.Response:
    trigger = _trigger_or_404(request)
    del request.app[WORLD].triggers[trigger["id"]]
    return web.Response(status=204)


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode()


def _seq(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise _invalid("Invalid paging cursor.") from None


def _bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise _invalid(f"{name} must be true or false.")
    return raw.lower() == "true"


async def list_triggers(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    page_size = int_param(request, "pageSize", 25, 1, 200)
    topics = set(id_list(request, "topicName"))
    enabled, has_delay = _bool_param(request, "enabled"), _bool_param(request, "hasDelayBy")
    chosen = sorted(
        (
            t
            for t in world.triggers.values()
            if (not topics or t["topicName"] in topics)
            and (enabled is None or t["enabled"] == enabled)
            and (has_delay is None or ("delayBySeconds" in t) == has_delay)
        ),
        key=lambda t: int(t[SEQ]),
    )
    if "after" in request.query:
        after = _seq(request.query["after"])
        rest = [t for t in chosen if t[SEQ] > after]
        page, more_before, more_after = rest[:page_size], len(rest) < len(chosen), len(rest) > page_size
    elif "before" in request.query:
        before = _seq(request.query["before"])
        head = [t for t in chosen if t[SEQ] < before]
        page = head[-page_size:]
        more_before, more_after = len(head) > page_size, len(head) < len(chosen)
    else:
        page, more_before, more_after = chosen[:page_size], False, len(chosen) > page_size
    kept = [(k, v) for k, v in request.query.items() if k not in ("before", "after")]
    listing: dict[str, Any] = {
        "entities": [_public(t) for t in page],
        "selfUri": f"{BASE}?{urlencode(list(request.query.items()))}",
    }
    if page and more_after:
        listing["nextUri"] = f"{BASE}?{urlencode([*kept, ('after', _cursor(page[-1][SEQ]))])}"
    if page and more_before:
        listing["previousUri"] = f"{BASE}?{urlencode([*kept, ('before', _cursor(page[0][SEQ]))])}"
    return json_response(listing)


def register(app: web.Application) -> None:
    r = app.router
    r.add_get(BASE, list_triggers)
    r.add_post(BASE, create)
    r.add_get(BASE + "/{triggerId}", get)
    r.add_put(BASE + "/{triggerId}", update)
    r.add_delete(BASE + "/{triggerId}", delete)
