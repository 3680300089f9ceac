"""POST /oauth/token: OAuth client credentials (docs/genesys-api.md#oauth), in the form body or
HTTP Basic."""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web

from controller.emulator.auth.exceptions import (
    OAuthError,
    client_authentication_required,
    invalid_client,
    unsupported_grant,
)
from controller.emulator.core.httpkit import BACKEND, CALLER, CREDENTIALS, json_response


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


async def _client_id(request: web.Request) -> str:
    """The authenticated OAuth client of a token request."""
    form = await request.post()
    if form.get("grant_type") != "client_credentials":
        raise unsupported_grant()
    credentials = _basic_credentials(request)
    if credentials is None and "client_id" in form:  # RFC 6749 also allows form credentials
        credentials = (str(form.get("client_id", "")), str(form.get("client_secret", "")))
    if credentials is None:
        raise client_authentication_required()
    client_id, secret = credentials
    expected = request.app[CREDENTIALS].get(client_id)
    if expected is None or not hmac.compare_digest(expected, secret):
        raise invalid_client()
    return client_id


async def token(request: web.Request) -> web.Response:
    try:
        client_id = await _client_id(request)
    except OAuthError as error:
        body = {
            "error": error.error,
            "description": error.description,
            "error_description": error.description,
        }
        return json_response(body, error.status)
    request[CALLER] = client_id
    access_token, ttl = request.app[BACKEND].tokens.issue(client_id)
    return json_response({"access_token": access_token, "token_type": "bearer", "expires_in": ttl})
