"""A real etcd cluster on loopback for the coordination tests: N members started from Debian's
`etcd-server` binary with data dirs under the test's tmp_path (client and peer URLs on 127.0.0.1)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support.waiting import wait_for

INSTALL = "install it with `apt-get install -y etcd-server` (.ci/run does it on CI)"


def etcd_binary() -> str:
    found = shutil.which("etcd")
    if found is None:
        pytest.skip(f"the etcd binary is not on PATH: {INSTALL}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EtcdCluster:
    def __init__(self, root: Path, members: int = 1) -> None:
        binary = etcd_binary()
        self.names = [f"m{i}" for i in range(members)]
        self.client_urls = [f"http://127.0.0.1:{free_port()}" for _ in self.names]
        peer_urls = [f"http://127.0.0.1:{free_port()}" for _ in self.names]
        initial = ",".join(f"{n}={p}" for n, p in zip(self.names, peer_urls, strict=True))
        self.procs: list[subprocess.Popen[bytes]] = []
        for name, client, peer in zip(self.names, self.client_urls, peer_urls, strict=True):
            log = (root / f"etcd-{name}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [
                        binary,
                        f"--name={name}",
                        f"--data-dir={root / f'etcd-{name}'}",
                        f"--listen-client-urls={client}",
                        f"--advertise-client-urls={client}",
                        f"--listen-peer-urls={peer}",
                        f"--initial-advertise-peer-urls={peer}",
                        f"--initial-cluster={initial}",
                        "--initial-cluster-state=new",
                        "--heartbeat-interval=50",  # fast elections keep the tests short
                        "--election-timeout=500",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for url in self.client_urls:
            self.wait_healthy(url)

    @staticmethod
    def wait_healthy(url: str) -> None:
        def healthy() -> bool:
            try:
                return bool(requests.get(f"{url}/health", timeout=1).json().get("health") == "true")
            except (requests.RequestException, ValueError):
                return False

        wait_for(healthy, f"etcd at {url} healthy")

    def kill(self, index: int) -> None:
        self.procs[index].kill()
        self.procs[index].wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
