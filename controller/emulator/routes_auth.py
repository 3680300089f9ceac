"""POST /oauth/token: OAuth client credentials (docs/genesys-api.md#oauth).

Failures answer like the Genesys login service, in OAuth style rather than ErrorBody:
401 {"error":"invalid_client","description":...,"error_description":...} for a bad client,
400 {"error":"unsupported_grant_type",...} for another grant type. (The exact login error text is
not in the shared doc; this is our chosen, documented shape.)
"""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web

from controller.emulator.httpkit import CALLER, CREDENTIALS, WORLD, json_response


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    body = {"error": error, "description": description, "error_description": description}
    return json_response(body, status)


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


async def token(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    credentials = _basic_credentials(request)
    if credentials is None and "client_id" in form:  # RFC 6749 also allows form credentials
        credentials = (str(form.get("client_id", "")), str(form.get("client_secret", "")))
    known = request.app[CREDENTIALS]
    if credentials is None:
        return _oauth_error(401, "invalid_client", "client authentication is required")
    client_id, secret = credentials
    expected = known.get(client_id)
    if expected is None or not hmac.compare_digest(expected, secret):
        return _oauth_error(401, "invalid_client", "client not found or bad client secret")
    request[CALLER] = client_id
    access_token, ttl = request.app[WORLD].issue_token(client_id)
    return json_response({"access_token": access_token, "token_type": "bearer", "expires_in": ttl})


def register(app: web.Application) -> None:
    app.router.add_post("/oauth/token", token)
