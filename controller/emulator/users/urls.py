"""Routes of the users service."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.users import responses as r


def register(app: web.Application) -> None:
    add = app.router
    add.add_get("/api/v2/users", r.list_users)
    add.add_post("/api/v2/users/search", r.search_users)
    add.add_get("/api/v2/users/{userId}", r.get_user)
    add.add_get("/api/v2/users/{userId}/routingstatus", r.get_routing_status)
    add.add_put("/api/v2/users/{userId}/routingstatus", r.put_routing_status)
    add.add_get("/api/v2/groups", r.list_groups)
    add.add_get("/api/v2/groups/{groupId}/members", r.group_members)
