"""Structured logging: one JSON object a line on stderr (or one readable line), secrets scrubbed.

Call sites use stdlib logging with `extra={...}` for fields (e.g. `correlation_id`, `agent`).
Any value registered with `register_secret` (client secret, access tokens, webhook secret) is
replaced by `***` in every record, message and field alike, so a secret can never reach a log
even through an exception text.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_secrets: set[str] = set()
_lock = threading.Lock()
_MIN_SECRET_LEN = 6  # shorter values would scrub ordinary words


def register_secret(value: str | None) -> None:
    if value and len(value) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(value)


def register_secrets(values: Iterable[str]) -> None:
    """Register several values (e.g. the inline secrets validation found: `secrets_in`)."""
    for value in values:
        register_secret(value)


def scrub(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


class _ScrubbingFormatter(JsonFormatter):
    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {k: _scrub_value(v) for k, v in log_data.items()}


# Attributes every LogRecord has: anything else on a record came from `extra={...}`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class _TextFormatter(logging.Formatter):
    """One readable line: `WARNING logger: message (field=value, ...)`, scrubbed like JSON."""

    def format(self, record: logging.LogRecord) -> str:
        fields = ", ".join(
            f"{key}={_scrub_value(value)}" for key, value in vars(record).items() if key not in _STANDARD
        )
        text = f"{record.levelname} {record.name}: {record.getMessage()}" + (f" ({fields})" if fields else "")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return scrub(text)


def setup_logging(level: str = "INFO", stream: Any = None, fmt: str = "json") -> None:
    """Install the formatter on the root logger (idempotent): `json` (one object a line, for log
    collectors and the daemon) or `text` (one readable line, for a person at a terminal)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "text":
        handler.setFormatter(_TextFormatter())
    else:
        handler.setFormatter(
            _ScrubbingFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                datefmt="%Y-%m-%dT%H:%M:%S%z",
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's access log is noise next to our own per-call records, and apscheduler's INFO
    # lines ("Added job", "Running job") narrate its internals at every wake-up.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
