"""Progress of `plan` and `apply` on stderr, for runs longer than a couple of seconds (a first
plan of 5,000 agents reads for 20 s and more): on a terminal one line rewritten in place, with
`--progress` elsewhere a line every few seconds. Silent for quick runs and in pipes."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

SHOW_AFTER_SECONDS = 2.0  # a quicker run shows nothing
TICK_SECONDS = 0.5  # how often the terminal line is redrawn
LINE_EVERY_SECONDS = 5.0  # how often a line is printed when stderr is not a terminal


class Progress:
    """`with Progress(...) as p`: `p.phase(text)` says what is being done, `p.on_call` (a
    ClientStats listener) counts the API calls. A daemon thread draws; leaving clears the line."""

    def __init__(self, command: str, enabled: bool, stream: TextIO | None = None) -> None:
        self._command = command
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._terminal = enabled and self._stream.isatty()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._phase = "starting"
        self._calls = 0
        self._last = ""
        self._started = time.monotonic()
        self._drawn = False
        self._paused = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self._enabled:
            self._thread = threading.Thread(target=self._draw_loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._clear()

    def phase(self, text: str) -> None:
        with self._lock:
            self._phase = text

    def pause(self) -> None:
        """Stop drawing and clear the line (e.g. while a question waits for an answer)."""
        with self._lock:
            self._paused = True
            self._clear()

    def resume(self, text: str) -> None:
        """Draw again, timed from now (a quick remainder shows nothing)."""
        with self._lock:
            self._phase, self._paused, self._started = text, False, time.monotonic()

    def _clear(self) -> None:
        if self._drawn and self._terminal:
            self._stream.write("\r\x1b[K")  # the line goes: the command's own output follows
            self._stream.flush()
        self._drawn = False

    def on_call(
        self, method: str, route: str, status: int, seconds: float, retries: int, rate_limited: int
    ) -> None:
        with self._lock:
            self._calls += 1
            self._last = f"{method} {route}"

    def text(self) -> str:
        with self._lock:
            return self._text()

    def _text(self) -> str:
        elapsed = time.monotonic() - self._started
        calls = f", {self._calls} API call(s)" if self._calls else ""
        last = f" (last: {self._last})" if self._last else ""
        return f"{self._command}: {self._phase}, {elapsed:.0f} s{calls}{last}"

    def _draw_loop(self) -> None:
        every = TICK_SECONDS if self._terminal else LINE_EVERY_SECONDS
        last_line = float("-inf")
        while not self._stop.wait(TICK_SECONDS):
            with self._lock:
                now = time.monotonic()
                if self._paused or now - self._started < SHOW_AFTER_SECONDS or now - last_line < every:
                    continue
                last_line = now
                if self._terminal:
                    width = shutil.get_terminal_size().columns - 1  # one line, never wrapped
                    self._stream.write("\r\x1b[K" + self._text()[:width])
                else:
                    self._stream.write(self._text() + "\n")
                self._stream.flush()
                self._drawn = True
