"""Routes of the presence service."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.presence import responses as r


def register(app: web.Application) -> None:
    add = app.router
    add.add_get("/api/v2/presence/definitions", r.list_definitions)
    add.add_get("/api/v2/presence/definitions/{definitionId}", r.get_definition)
    add.add_get("/api/v2/systempresences", r.system_presences)
    add.add_get("/api/v2/users/presences/purecloud/bulk", r.bulk_get)
    add.add_put("/api/v2/users/presences/bulk", r.bulk_put)
    add.add_get("/api/v2/users/{userId}/presences/purecloud", r.get_presence)
    add.add_patch("/api/v2/users/{userId}/presences/purecloud", r.patch_presence)
    add.add_post("/api/v2/workforcemanagement/users/activity", r.users_activity)
