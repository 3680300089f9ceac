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
    """Emulator time = real time + offset, so time keeps flowing after set/advance."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)

    def reset(self) -> None:
        self.offset = timedelta(0)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
