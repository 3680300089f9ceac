"""A real, tiny filesystem for full-disk tests: a tmpfs of a few KiB mounted on a temporary
directory (CI runs as root, where `mount -t tmpfs` works). Where mounting is not permitted the
test is skipped with the reason, never faked."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_filesystem(where: Path, size_kib: int) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("full-disk test needs root to mount a small tmpfs (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a {size_kib} KiB tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(directory: Path, leave_bytes: int) -> Path:
    """Fill the filesystem of `directory` with one file until at most `leave_bytes` stay free."""
    filler = directory / "filler"
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "ab") as out:
        out.write(b"\0" * max(0, free - leave_bytes))
    return filler


def free_bytes(directory: Path) -> int:
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize


def grow(where: Path, size_kib: int) -> None:
    """Give the mounted tmpfs at `where` more room (the operator freed space)."""
    subprocess.run(["mount", "-o", f"remount,size={size_kib}k", str(where)], check=True, capture_output=True)
