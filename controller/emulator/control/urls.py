"""Routes of the control surface."""

from __future__ import annotations

from aiohttp import web

from controller.emulator.control import responses as r


def register(app: web.Application) -> None:
    add = app.router
    add.add_post("/_emulator/faults", r.post_faults)
    add.add_delete("/_emulator/faults", r.delete_faults)
    add.add_post("/_emulator/tokens/revoke", r.revoke_tokens)
    add.add_post("/_emulator/tokens/ttl", r.token_ttl)
    add.add_post("/_emulator/restart", r.restart)
    add.add_get("/_emulator/clock", r.get_clock)
    add.add_post("/_emulator/clock", r.post_clock)
    add.add_post("/_emulator/agents/{userId}/presence", r.agent_presence)
    add.add_post("/_emulator/agents/{userId}/interaction", r.agent_interaction)
    add.add_post("/_emulator/agents/{userId}/login", r.agent_login)
    add.add_post("/_emulator/agents/{userId}/outofoffice", r.agent_out_of_office)
    add.add_get("/_emulator/requests", r.get_requests)
    add.add_delete("/_emulator/requests", r.delete_requests)
    add.add_post("/_emulator/websockets/drop", r.drop_websockets)
    add.add_post("/_emulator/channels/expire", r.expire_channels)
    add.add_post("/_emulator/reset", r.reset)
    add.add_get("/_emulator/summary", r.get_summary)
