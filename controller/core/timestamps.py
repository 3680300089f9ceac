"""UTC timestamps as the Genesys Cloud API writes them, one helper each way (pure)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(t: datetime) -> str:
    """Aware datetime -> `2025-04-15T00:00:00.000Z`: UTC, milliseconds, Z (the API's form)."""
    return t.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def parse_iso(text: str) -> datetime:
    """ISO-8601 with Z or an offset -> aware UTC datetime; a naive value is taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
