"""desired/ changes seen by the watcher, including a Kubernetes ConfigMap volume's update (the
way deploy/kubernetes/ delivers desired/): new content appears by a `..data` symlink swap, while
the `*.yaml` entries are links that never change themselves."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from watchdog.events import (
    DirModifiedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
)

from controller.engine.desired_watch import DesiredWatch, is_content_change
from tests.support.waiting import wait_for


def _configmap_volume(root: Path, version: str, text: str) -> None:
    """What the kubelet's atomic writer does for one update of a ConfigMap with policy.yaml."""
    data = root / f"..{version}"
    data.mkdir()
    (data / "policy.yaml").write_text(text)
    tmp = root / "..data_tmp"
    tmp.symlink_to(data.name)
    os.rename(tmp, root / "..data")
    if not (root / "policy.yaml").is_symlink():
        (root / "policy.yaml").symlink_to("..data/policy.yaml")


def test_a_configmap_update_by_symlink_swap_is_a_change(tmp_path: Path) -> None:
    _configmap_volume(tmp_path, "2026_12_05_v1", "a: 1\n")
    changed = threading.Event()
    watch = DesiredWatch(tmp_path, changed.set, delay=0.05)
    watch.start()
    try:
        _configmap_volume(tmp_path, "2026_12_05_v2", "a: 2\n")
        wait_for(changed.is_set, "the ConfigMap's new content reported")
        assert (tmp_path / "policy.yaml").read_text() == "a: 2\n"
    finally:
        watch.stop()


def test_an_edited_yaml_file_is_a_change(tmp_path: Path) -> None:
    changed = threading.Event()
    watch = DesiredWatch(tmp_path, changed.set, delay=0.05)
    watch.start()
    try:
        (tmp_path / "policy.yaml").write_text("a: 1\n")
        wait_for(changed.is_set, "the edit reported")
    finally:
        watch.stop()


@pytest.mark.parametrize(
    ("event", "content"),
    [
        (FileClosedEvent("/d/policy.yaml"), True),  # closed after writing (inotify IN_CLOSE_WRITE)
        (FileModifiedEvent("/d/policy.yml"), True),
        (FileCreatedEvent("/d/new.yaml"), True),
        (FileDeletedEvent("/d/old.yaml"), True),
        (FileMovedEvent("/d/.policy.yaml.swp", "/d/policy.yaml"), True),  # an editor's atomic save
        (FileMovedEvent("/d/..data_tmp", "/d/..data"), True),  # a ConfigMap volume's update
        (DirMovedEvent("/d/..data_tmp", "/d/..data"), True),
        (FileOpenedEvent("/d/policy.yaml"), False),  # a read: `cat`, the loader itself
        (FileClosedNoWriteEvent("/d/policy.yaml"), False),
        (FileAttribEvent("/d/policy.yaml"), False),  # chmod, touch -a
        (FileModifiedEvent("/d/notes.txt"), False),  # not desired state
        (DirModifiedEvent("/d"), False),
    ],
)
def test_only_a_desired_file_content_change_counts(event: FileSystemEvent, content: bool) -> None:
    """Which watchdog events are content changes: reads never are (a reload after each read of a
    file there once spent most of the API budget)."""
    assert is_content_change(event) is content
