"""The naive baseline: the per-agent loop presence tools usually ship, against the same emulator.

Each pass, for each agent: read its schedule (real-time adherence of that one agent: what it
should be doing now), write its presence (one PATCH, every pass, no comparison), and on a 429
back off exponentially (1, 2, 4 ... s) and try again. No bulk call, no shared budget, no cache.

Run: .venv/bin/python bench/seed_loop.py API_BASE [seconds]   (bench/scale.py runs it)
Runs one pass or `seconds` (default 60), whichever ends first, and prints one JSON line: agents
done, calls, writes, 429s, elapsed seconds and the pass time extrapolated to every agent.
A measurement, not a test.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import requests

CLIENT = ("presencectl-demo", "presencectl-demo-secret")
WFM = "/api/v2/workforcemanagement"
PRESENCE_OF = {  # activity category -> presence label, as such tools hard-code it
    "OnQueueWork": "On Queue",
    "Break": "Break",
    "Meal": "Meal",
    "Meeting": "Meeting",
    "Training": "Training",
}


class NaiveLoop:
    def __init__(self, api: str) -> None:
        self.api = api
        self.http = requests.Session()
        self.calls = self.writes = self.rate_limited = 0
        answer = self.http.post(f"{api}/oauth/token", data={"grant_type": "client_credentials"}, auth=CLIENT)
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, **kw: object) -> requests.Response:
        delay = 1.0
        while True:
            self.calls += 1
            resp = self.http.request(method, self.api + path, timeout=30, **kw)  # type: ignore[arg-type]
            if resp.status_code != 429:
                return resp
            self.rate_limited += 1
            time.sleep(delay)
            delay = min(delay * 2, 60.0)

    def agents(self) -> list[str]:
        ids: list[str] = []
        page = 1
        while True:
            body = self.call("GET", "/api/v2/users", params={"pageSize": 500, "pageNumber": page}).json()
            ids += [u["id"] for u in body.get("entities") or []]
            if page >= int(body.get("pageCount") or 1):
                return ids
            page += 1

    def definitions(self) -> dict[str, str]:
        body = self.call("GET", "/api/v2/presence/definitions", params={"pageSize": 100}).json()
        out: dict[str, str] = {}
        for d in body.get("entities") or []:
            label = (d.get("languageLabels") or {}).get("en_US") or d.get("systemPresence", "")
            out[label] = d["id"]
            out.setdefault(d.get("systemPresence", ""), d["id"])
        return out

    def one(self, user_id: str, definitions: dict[str, str]) -> None:
        rows = self.call("GET", f"{WFM}/adherence", params={"userId": user_id}).json() or []
        category = rows[0].get("scheduledActivityCategory", "") if rows else ""
        target = definitions.get(PRESENCE_OF.get(category, "Available")) or definitions.get("Available")
        body = {"presenceDefinition": {"id": target}}
        self.call("PATCH", f"/api/v2/users/{user_id}/presences/purecloud", json=body)
        self.writes += 1


def main() -> None:
    api = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    loop = NaiveLoop(api)
    agents, definitions = loop.agents(), loop.definitions()
    setup_calls = loop.calls
    loop.calls = 0
    began = time.monotonic()
    cpu = time.process_time()
    done = 0
    for user_id in agents:
        loop.one(user_id, definitions)
        done += 1
        if time.monotonic() - began >= seconds:
            break
    elapsed = time.monotonic() - began
    per_agent = elapsed / max(1, done)
    print(
        json.dumps(
            {
                "agents": len(agents),
                "done": done,
                "setup_calls": setup_calls,
                "calls": loop.calls,
                "writes": loop.writes,
                "rate_limited": loop.rate_limited,
                "elapsed": elapsed,
                "pass_seconds": per_agent * len(agents),
                "calls_per_pass": loop.calls / max(1, done) * len(agents),
                "cpu_per_agent": (time.process_time() - cpu) / max(1, done),
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
