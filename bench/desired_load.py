"""Benchmark: load time of desired state (the example, and N generated policy files).

Run: .venv/bin/python bench/desired_load.py [policies] [agents]   (defaults: 200 policies, 2000 agents)
Each generated policy selects its own 10 agents by e-mail, with 6 weekly windows (one crossing
midnight), 2 exceptions and 1 override, checked against a generated org (catalog + agents).
Prints the figures; no assertions (this is a measurement, not a test).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from controller.core.domain import Agent, PresenceCatalog, PresenceDefinition
from controller.emulator.generate import generate_org
from controller.model.loader import load_desired

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = """apiVersion: presencectl.io/v1
kind: PresencePolicy
metadata:
  name: team-{i}
spec:
  agents:
    emails: [{emails}]
  timezone: Europe/London
  windows:
    - {{days: [Mon, Tue, Wed, Thu, Fri], from: "08:00", to: "12:00", presence: On Queue}}
    - {{days: [Mon, Tue, Wed, Thu, Fri], from: "12:00", to: "12:45", presence: Lunch}}
    - {{days: [Mon, Tue, Wed, Thu, Fri], from: "12:45", to: "17:00", presence: On Queue}}
    - {{days: [Mon, Tue, Wed, Thu, Fri], from: "17:00", to: "17:30", presence: Back Office}}
    - {{days: [Sat], from: "22:00", to: "06:00", presence: On Queue}}
    - {{days: [Sun], from: "10:00", to: "14:00", presence: Available}}
  exceptions:
    - {{date: "2026-12-25", presence: Offline}}
    - {{date: "2026-12-28", windows: [{{from: "10:00", to: "14:00", presence: On Queue}}]}}
  overrides:
    - {{agent: "agent{first:05d}@demo.example.com", presence: Coaching, until: "2030-01-01T00:00:00Z"}}
  rules: {{graceSeconds: 60, allowedPresences: [On Queue, Lunch, Back Office, Offline, Available, Coaching]}}
"""


def _time(fn: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000, min(samples) * 1000


def main() -> None:
    policies = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    agents_n = int(sys.argv[2]) if len(sys.argv) > 2 else max(2000, policies * 10)
    org = generate_org(agents=agents_n, days=0)
    catalog = PresenceCatalog(
        tuple(
            PresenceDefinition(d.id, d.system_presence, d.labels["en_US"], d.type == "System", d.deactivated)
            for d in org.presence_definitions
        )
    )
    agents = [Agent(a.id, a.name, a.email, frozenset(a.group_ids), a.management_unit_id) for a in org.agents]
    example = Path(__file__).resolve().parents[1] / "desired"
    median, best = _time(lambda: load_desired(example, now=NOW))
    print(f"example desired/ offline:               median {median:7.1f} ms  best {best:7.1f} ms")
    median, best = _time(lambda: load_desired(example, now=NOW, catalog=catalog, agents=agents))
    print(f"example desired/ + catalog + {len(agents)} agents: median {median:7.1f} ms  best {best:7.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(policies):
            emails = ", ".join(f"agent{i * 10 + k:05d}@demo.example.com" for k in range(10))
            Path(tmp, f"policy-{i:04d}.yaml").write_text(POLICY.format(i=i, emails=emails, first=i * 10))
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        median, best = _time(lambda: load_desired(tmp, now=NOW), runs=3)
        label = f"{policies} policy files ({size / 1024:.0f} KiB) offline:"
        print(f"{label:40} median {median:7.1f} ms  best {best:7.1f} ms")
        median, best = _time(lambda: load_desired(tmp, now=NOW, catalog=catalog, agents=agents), runs=3)
        print(f"{policies} policy files + catalog + agents: median {median:7.1f} ms  best {best:7.1f} ms")


if __name__ == "__main__":
    main()
