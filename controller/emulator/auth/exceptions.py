"""Authentication errors. Bearer failures on /api/v2 answer an ErrorBody; the login service
answers OAuth-style bodies instead ({"error", "description", "error_description"}: the exact login
error text is not in the shared doc, this is our chosen, documented shape)."""

from __future__ import annotations

from controller.emulator.core.exceptions import ApiError


class AuthenticationRequired(ApiError):
    status, code = 401, "authentication.required"

    def __init__(self) -> None:
        super().__init__("No authentication bearer token specified in authorization header.")


class BadCredentials(ApiError):
    status, code = 401, "bad.credentials"

    def __init__(self) -> None:
        super().__init__("Invalid login credentials.")


class OAuthError(Exception):
    """A refusal of POST /oauth/token, answered in OAuth style rather than ErrorBody."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def unsupported_grant() -> OAuthError:
    return OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials")


def client_authentication_required() -> OAuthError:
    return OAuthError(401, "invalid_client", "client authentication is required")


def invalid_client() -> OAuthError:
    return OAuthError(401, "invalid_client", "client not found or bad client secret")
