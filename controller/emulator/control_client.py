"""`EmulatorControl`: a small requests-based client of the emulator's control surface
(/_emulator/..., see `controller.emulator.control`), for tests, benchmarks, the demo and users'
own tests."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import requests

from controller.emulator.core.clock import parse_iso


class EmulatorControlError(RuntimeError):
    pass


class EmulatorControl:
    """Client of the /_emulator control surface; method names mirror the routes."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._session.request(
            method, f"{self.base_url}/_emulator{path}", json=body, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise EmulatorControlError(
                f"{method} /_emulator{path} -> {response.status_code}: {response.text}"
            )
        return response.json()

    def faults(
        self,
        *,
        errorRate: float | None = None,
        errorStatus: int | None = None,
        latencyMs: int | None = None,
        latencyRate: float | None = None,
        pathPattern: str | None = None,
        burst429: dict[str, Any] | None = None,
    ) -> None:
        spec = {
            "errorRate": errorRate,
            "errorStatus": errorStatus,
            "latencyMs": latencyMs,
            "latencyRate": latencyRate,
            "pathPattern": pathPattern,
            "burst429": burst429,
        }
        self._call("POST", "/faults", {k: v for k, v in spec.items() if v is not None})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def revoke_tokens(self) -> None:
        self._call("POST", "/tokens/revoke")

    def token_ttl(self, seconds: int) -> None:
        self._call("POST", "/tokens/ttl", {"seconds": seconds})

    def restart(self) -> None:
        self._call("POST", "/restart")

    def now(self) -> datetime:
        return parse_iso(self._call("GET", "/clock")["now"])

    def set_clock(self, now: datetime) -> datetime:
        return parse_iso(self._call("POST", "/clock", {"now": now.isoformat()})["now"])

    def advance_clock(self, seconds: float) -> datetime:
        return parse_iso(self._call("POST", "/clock", {"advanceSeconds": seconds})["now"])

    def set_presence(self, user_id: str, presence: str, message: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"presence": presence}
        if message is not None:
            body["message"] = message
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/presence", body)
        return result

    def set_logged_in(self, user_id: str, logged_in: bool) -> dict[str, Any]:
        """The agent logs in (presence Available) or out (Offline, OFF_QUEUE) of its client."""
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/login", {"loggedIn": logged_in})
        return result

    def set_out_of_office(self, user_id: str, active: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/outofoffice", {"active": active})
        return result

    def offer_interaction(self, user_id: str) -> dict[str, Any]:
        """Routing offers the agent an interaction: answered when logged in, else NOT_RESPONDING."""
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "offer"})
        return result

    def start_interaction(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "start"})
        return result

    def end_interaction(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "end"})
        return result

    def miss_interaction(self, user_id: str) -> dict[str, Any]:
        """The agent lets an alert go unanswered: NOT_RESPONDING (On Queue only)."""
        result: dict[str, Any] = self._call("POST", f"/agents/{user_id}/interaction", {"action": "miss"})
        return result

    def requests_log(self, start: int = 0) -> list[dict[str, Any]]:
        """The request log (oldest first) from record `start` on (`control.serialize.record_json`)."""
        result: list[dict[str, Any]] = self._call("GET", f"/requests?from={start}")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def request_counts(self) -> dict[str, int]:
        """{"GET /api/v2/users/presences/purecloud/bulk": n, ...} keyed by route template."""
        return dict(Counter(f"{r['method']} {r['route']}" for r in self.requests_log()))

    def drop_websockets(self) -> int:
        return int(self._call("POST", "/websockets/drop")["dropped"])

    def expire_channels(self) -> None:
        self._call("POST", "/channels/expire")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/summary")
        return result

    def close(self) -> None:
        self._session.close()
