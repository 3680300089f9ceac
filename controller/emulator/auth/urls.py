"""Routes of the auth service (the login host shares the API's port)."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.auth import responses


def register(app: web.Application) -> None:
    app.router.add_post("/oauth/token", responses.token)
