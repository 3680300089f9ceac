"""Watch desired/ for content changes (watchdog) and report them, debounced, as one callback.

Only events that can change content count: a file created, modified, closed after writing,
moved or deleted. Opening and reading are not changes: `cat desired/x.yaml`, an editor's preview
and the daemon's own reload all open and close the files, and reacting to that made every
reload trigger the next one. The callback's receiver still compares the directory's content
digest before reloading (a save without edits, `touch`, `git checkout` of the same commit).
Kubernetes ConfigMap and Secret volumes (deploy/kubernetes/) publish new content by renaming a
fresh `..data_tmp` symlink over `..data`; each `name.yaml` is a fixed link to `..data/name.yaml`,
so that rename is a content change too.

Editors and `git pull` touch several files in a burst; the callback fires once, `delay` seconds
after the last change, so the reload sees the whole new set (atomic reload is the loader's job).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from controller.model.loader import SUFFIXES

# FileClosedEvent is "closed after writing" (inotify IN_CLOSE_WRITE); FileModifiedEvent covers
# platforms without close events (kqueue, FSEvents, polling). Opened / closed-without-writing /
# attribute events are deliberately absent.
CONTENT_EVENTS: tuple[type[FileSystemEvent], ...] = (
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirMovedEvent,  # a ConfigMap's `..data` swap, should a platform report the link as a directory
)
KUBERNETES_SWITCH = "..data"


def is_content_change(event: FileSystemEvent) -> bool:
    """A desired file's content may have changed (not a read, not a directory, not another file)."""
    if type(event) not in CONTENT_EVENTS:
        return False
    paths = (str(event.src_path), str(getattr(event, "dest_path", "") or ""))
    if any(Path(p).name == KUBERNETES_SWITCH for p in paths):
        return True  # a ConfigMap volume's new content: the *.yaml links themselves do not change
    return not event.is_directory and any(p.endswith(SUFFIXES) for p in paths)


class _Debounced(FileSystemEventHandler):
    def __init__(self, callback: Callable[[], None], delay: float) -> None:
        self._callback = callback
        self._delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not is_content_change(event):
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._delay, self._callback)
            self._timer.daemon = True
            self._timer.start()

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._timer is not None and self._timer.is_alive()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


class DesiredWatch:
    def __init__(self, directory: str | Path, on_change: Callable[[], None], delay: float = 1.0) -> None:
        self._handler = _Debounced(on_change, delay)
        self._observer = Observer()
        self._observer.daemon = True
        # The filter also keeps the kernel from queueing open/read events at all (inotify mask).
        self._watch = self._observer.schedule(
            self._handler, str(directory), recursive=False, event_filter=list(CONTENT_EVENTS)
        )

    @property
    def pending(self) -> bool:
        """A change was seen and the callback is due once the burst settles."""
        return self._handler.pending

    def also_notify(self, handler: FileSystemEventHandler) -> None:
        """Feed `handler` the same events, from the same thread: every event before one it sees
        has been handled here too (tests use a marker file as a barrier)."""
        self._observer.add_handler_for_watch(handler, self._watch)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._handler.cancel()
        self._observer.stop()
        self._observer.join(timeout=5)
