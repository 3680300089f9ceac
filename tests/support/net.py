"""Local ports for servers a test starts outside this process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port free now on 127.0.0.1 (for a process that takes its port as an argument)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
