"""Run presencectl as a real process on a pseudo-terminal (the `pty` module), for what only a
terminal changes: log format and level, colour, progress, the confirmation of `apply`."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Finished:
    code: int
    text: str  # stdout and stderr as the terminal showed them (\r\n line ends)


def plain(text: str) -> str:
    """`text` without ANSI colour sequences."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS_", "PRESENCECTL_", "NO_COLOR"))}
    env.update(TERM="xterm", COLUMNS="200")
    env.update(extra or {})
    return env


class Terminal:
    """presencectl with stdin, stdout and stderr on one pseudo-terminal."""

    def __init__(self, args: list[str], cwd: Path, env: Mapping[str, str]) -> None:
        self._master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "controller", *args],
            cwd=cwd,
            env=dict(env),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
        )
        os.close(slave)
        self.seen = b""

    def read_until(self, text: str) -> str:
        """Read what the terminal shows until `text` appears or the process ends."""
        wanted = text.encode()
        while wanted not in self.seen:
            if not self._read_some():
                break
        return self.seen.decode(errors="replace")

    def _read_some(self) -> bool:
        ready, _, _ = select.select([self._master], [], [], 60)
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the other side closed
            return False
        self.seen += chunk
        return bool(chunk)

    def type(self, text: str) -> None:
        os.write(self._master, text.encode())

    def finish(self) -> Finished:
        while self._read_some():
            pass
        code = self.process.wait(timeout=120)
        os.close(self._master)
        return Finished(code, self.seen.decode(errors="replace"))


def on_terminal(args: list[str], cwd: Path, env: Mapping[str, str]) -> Finished:
    return Terminal(args, cwd, env).finish()
