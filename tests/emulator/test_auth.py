"""OAuth client credentials and bearer-token checks over real HTTP."""

from __future__ import annotations

import requests

from controller.emulator.server import RunningEmulator
from tests.conftest import Api


def _token(
    emulator: RunningEmulator, client_id: str, secret: str, grant: str = "client_credentials"
) -> requests.Response:
    return requests.post(
        f"{emulator.login_base}/oauth/token", auth=(client_id, secret), data={"grant_type": grant}, timeout=10
    )


def test_client_credentials_issue_a_bearer_token(emulator: RunningEmulator) -> None:
    response = _token(emulator, emulator.client_id, emulator.client_secret)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400
    users = requests.get(
        f"{emulator.api_base}/api/v2/users",
        headers={"Authorization": f"bearer {body['access_token']}"},
        timeout=10,
    )
    assert users.status_code == 200


def test_bad_secret_is_invalid_client(emulator: RunningEmulator) -> None:
    response = _token(emulator, emulator.client_id, "wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_other_grant_type_is_refused(emulator: RunningEmulator) -> None:
    response = _token(emulator, emulator.client_id, emulator.client_secret, grant="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_missing_bearer_token_is_authentication_required(emulator: RunningEmulator) -> None:
    response = requests.get(f"{emulator.api_base}/api/v2/users", timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication.required" and body["status"] == 401
    assert body["contextId"] == response.headers["inin-correlation-id"]
    assert body["details"] == [] and body["errors"] == []


def test_unknown_token_is_bad_credentials(emulator: RunningEmulator) -> None:
    response = requests.get(
        f"{emulator.api_base}/api/v2/users", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["code"] == "bad.credentials"


def test_token_expires_on_the_emulator_clock(emulator: RunningEmulator) -> None:
    emulator.control.token_ttl(300)
    api = Api(emulator)
    assert api.get("/api/v2/users").status_code == 200
    emulator.control.advance_clock(299)
    assert api.get("/api/v2/users").status_code == 200
    emulator.control.advance_clock(2)
    expired = api.get("/api/v2/users")
    assert expired.status_code == 401 and expired.json()["code"] == "bad.credentials"
    api.authenticate()
    assert api.get("/api/v2/users").status_code == 200


def test_revoked_tokens_answer_401_and_new_ones_work(api: Api) -> None:
    api.emulator.control.revoke_tokens()
    assert api.get("/api/v2/users").status_code == 401
    api.authenticate()
    assert api.get("/api/v2/users").status_code == 200


def test_restart_drops_tokens(api: Api) -> None:
    api.emulator.control.restart()
    assert api.get("/api/v2/users").status_code == 401
