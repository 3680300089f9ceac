"""The emulator clock and the platform's timestamp spelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def iso(t: datetime) -> str:
    """Genesys timestamps: ISO-8601 UTC with milliseconds and a Z ("2026-11-24T13:00:00.000Z")."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 date-time (Z or offset); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Clock:
    """Emulator time = real time + offset, so time keeps flowing after set/advance. `start`: the
    instant it shows now (a pinned day, so a run replays whatever the day it runs on)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._initial = timedelta(0) if start is None else start - datetime.now(UTC)
        self.offset = self._initial

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)

    def reset(self) -> None:
        self.offset = self._initial

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
