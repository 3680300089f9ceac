"""Bearer tokens: issued per OAuth client, live until their TTL passes on the emulator clock or a
restart forgets them (docs/genesys-api.md#oauth)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.emulator.core.clock import Clock

DEFAULT_TOKEN_TTL_SECONDS = 86400  # Genesys default for an OAuth client (docs/genesys-api.md#oauth)


@dataclass(slots=True)
class Token:
    client_id: str
    expires_at: datetime


class TokenStore:
    def __init__(self, clock: Clock, ttl: int) -> None:
        self.clock = clock
        self.default_ttl = ttl
        self.ttl = ttl  # seconds a new token lives (POST /_emulator/tokens/ttl changes it)
        self._tokens: dict[str, Token] = {}

    def issue(self, client_id: str) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        ttl = self.ttl
        self._tokens[token] = Token(client_id, self.clock.now() + timedelta(seconds=ttl))
        return token, ttl

    def client_of(self, token: str) -> str | None:
        """The client id of a live token; None when unknown, revoked or expired."""
        found = self._tokens.get(token)
        if found is None or self.clock.now() >= found.expires_at:
            return None
        return found.client_id

    def revoke_all(self) -> None:
        self._tokens.clear()
