"""Desired-state documents the model tests write to disk."""

from __future__ import annotations

POLICY = """apiVersion: presencectl.io/v1
kind: PresencePolicy
metadata:
  name: {name}
spec:
  agents:
    emails: [{email}]
  timezone: America/New_York
  overrides:
    - agent: {email}
      presence: {presence}
      until: "{until}"
"""


def override_policy(
    name: str = "p", email: str = "a@x.io", presence: str = "Training", until: str = "2026-11-24T08:00"
) -> str:
    """A one-agent policy with one override, as YAML."""
    return POLICY.format(name=name, email=email, presence=presence, until=until)
