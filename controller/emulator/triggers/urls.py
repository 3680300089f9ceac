"""Routes of the triggers service."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.triggers import responses as r


def register(app: web.Application) -> None:
    add = app.router
    add.add_get(r.BASE, r.list_triggers)
    add.add_post(r.BASE, r.create)
    add.add_get(r.BASE + "/{triggerId}", r.get)
    add.add_put(r.BASE + "/{triggerId}", r.update)
    add.add_delete(r.BASE + "/{triggerId}", r.delete)
