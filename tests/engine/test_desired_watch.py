"""desired/ changes seen by the watcher, including a Kubernetes ConfigMap volume's update (the
way deploy/kubernetes/ delivers desired/): new content appears by a `..data` symlink swap, while
the `*.yaml` entries are links that never change themselves."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from controller.engine.desired_watch import DesiredWatch
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


def test_an_edited_yaml_file_is_a_change_and_other_files_are_not(tmp_path: Path) -> None:
    changed = threading.Event()
    watch = DesiredWatch(tmp_path, changed.set, delay=0.05)
    watch.start()
    try:
        (tmp_path / "notes.txt").write_text("not desired state")
        assert not changed.wait(0.5)
        (tmp_path / "policy.yaml").write_text("a: 1\n")
        wait_for(changed.is_set, "the edit reported")
    finally:
        watch.stop()
