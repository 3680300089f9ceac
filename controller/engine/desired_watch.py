"""Watch desired/ for changes (watchdog) and report them, debounced, as one callback.

Editors and `git pull` touch several files in a burst; the callback fires once, `delay` seconds
after the last change, so the reload sees the whole new set (atomic reload is the loader's job).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from controller.model.loader import SUFFIXES

# Kubernetes ConfigMap and Secret volumes (deploy/kubernetes/) publish new content by renaming a
# fresh `..data_tmp` symlink over `..data`; each `name.yaml` is a fixed link to `..data/name.yaml`.
KUBERNETES_SWITCH = "..data"


class _Debounced(FileSystemEventHandler):
    def __init__(self, callback: Callable[[], None], delay: float) -> None:
        self._callback = callback
        self._delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [str(event.src_path), str(getattr(event, "dest_path", "") or "")]
        if any(Path(p).name == KUBERNETES_SWITCH for p in paths):
            pass  # a ConfigMap volume's new content: the *.yaml links themselves do not change
        elif event.is_directory or not any(p.endswith(SUFFIXES) for p in paths):
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._delay, self._callback)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


class DesiredWatch:
    def __init__(self, directory: str | Path, on_change: Callable[[], None], delay: float = 1.0) -> None:
        self._handler = _Debounced(on_change, delay)
        self._observer = Observer()
        self._observer.daemon = True
        self._observer.schedule(self._handler, str(directory), recursive=False)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._handler.cancel()
        self._observer.stop()
        self._observer.join(timeout=5)
