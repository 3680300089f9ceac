"""etcd v3 engine, through its JSON gateway (POST /v3/..., base64 keys and values) with requests:
the gateway is part of every etcd since 3.3, so no gRPC stack is needed.

Keys under `prefix`: `leader` (value: the holder's identity, bound to its lease) and, in sharded
mode, `members/<identity>` (bound to the member's lease). Leadership is won by a transaction that
creates `leader` only if it does not exist; its create revision is the fencing token that every
write batch compares again (with the membership view's revision, in sharded mode).
"""

from __future__ import annotations

import base64
from typing import Any

import requests

from controller.coordination.core import EngineError, Proof
from controller.model.types import Coordination


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _text(b64: str) -> str:
    return base64.b64decode(b64).decode()


def prefix_end(prefix: str) -> str:
    """The first key after every key starting with `prefix` (etcd's range_end for a prefix)."""
    raw = prefix.encode()
    return (raw[:-1] + bytes([raw[-1] + 1])).decode()


class EtcdBackend:
    name = "etcd"

    def __init__(self, config: Coordination, identity: str) -> None:
        self.identity = identity
        self._endpoints = [e.rstrip("/") for e in config.etcd_endpoints]
        self._current = 0  # the endpoint that answered last
        self._ttl = config.lease_seconds
        self._timeout = max(0.5, min(5.0, config.lease_seconds / 3))
        prefix = config.prefix.rstrip("/")
        self._leader_key = f"{prefix}/leader"
        self._members_prefix = f"{prefix}/members/"
        self._member_key = self._members_prefix + identity
        self._lease: str | None = None  # lease id (int64 as a decimal string, as the gateway has it)
        self._registered: str | None = None  # the lease the member key was put with
        self._http = requests.Session()
        if config.etcd_ca:
            self._http.verify = config.etcd_ca
        if config.etcd_cert:
            self._http.cert = (config.etcd_cert, config.etcd_key) if config.etcd_key else config.etcd_cert

    # ---- transport ----

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the first endpoint that answers, starting with the last good one."""
        errors: list[str] = []
        for step in range(len(self._endpoints)):
            index = (self._current + step) % len(self._endpoints)
            url = f"{self._endpoints[index]}/v3/{path}"
            try:
                response = self._http.post(url, json=body, timeout=self._timeout)
            except requests.RequestException as exc:
                errors.append(f"{self._endpoints[index]}: {type(exc).__name__}")
                continue
            if response.status_code >= 500:
                errors.append(f"{self._endpoints[index]}: HTTP {response.status_code} {response.text[:120]}")
                continue
            if response.status_code >= 400:
                raise EngineError(f"etcd refused {path}: HTTP {response.status_code} {response.text[:200]}")
            self._current = index
            answer: dict[str, Any] = response.json()
            return answer
        raise EngineError(f"no etcd endpoint answered {path} ({'; '.join(errors)})")

    # ---- the lease ----

    def _keep_lease(self) -> None:
        if self._lease is not None:
            result = self._post("lease/keepalive", {"ID": self._lease}).get("result", {})
            if int(result.get("TTL", 0)) > 0:
                return
            self._lease = self._registered = None  # expired (e.g. the process was paused)
        granted = self._post("lease/grant", {"TTL": self._ttl})
        if granted.get("error"):
            raise EngineError(f"etcd refused a lease: {granted['error']}")
        self._lease = str(granted["ID"])

    def renew(self, sharded: bool) -> Proof:
        self._keep_lease()
        lease = self._lease
        key = _b64(self._leader_key)
        answer = self._post(
            "kv/txn",
            {
                "compare": [{"key": key, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
                "success": [{"request_put": {"key": key, "value": _b64(self.identity), "lease": lease}}],
                "failure": [{"request_range": {"key": key}}],
            },
        )
        if answer.get("succeeded"):
            leader, holder, token = True, self.identity, str(answer["header"]["revision"])
        else:
            kvs = answer["responses"][0]["response_range"].get("kvs", [])
            kv = kvs[0] if kvs else {}
            holder = _text(kv.get("value", ""))
            leader = holder == self.identity and str(kv.get("lease")) == lease
            token = str(kv.get("create_revision", "")) if leader else ""
        members: tuple[str, ...] = ()
        view = 0
        if sharded:
            members, view = self._membership()
        return Proof(leader, holder, float(self._ttl), token, members, view)

    def _membership(self) -> tuple[tuple[str, ...], int]:
        if self._registered != self._lease:
            self._post(
                "kv/put", {"key": _b64(self._member_key), "value": _b64(self.identity), "lease": self._lease}
            )
            self._registered = self._lease
        listed = self._post(
            "kv/range",
            {
                "key": _b64(self._members_prefix),
                "range_end": _b64(prefix_end(self._members_prefix)),
                "keys_only": True,
            },
        )
        names = tuple(sorted(_text(kv["key"])[len(self._members_prefix) :] for kv in listed.get("kvs", [])))
        return names, int(listed["header"]["revision"])

    def confirm(self, proof: Proof, *, leadership: bool, membership: bool) -> bool:
        compare: list[dict[str, Any]] = []
        if leadership:
            compare.append(
                {
                    "key": _b64(self._leader_key),
                    "target": "CREATE",
                    "result": "EQUAL",
                    "create_revision": proof.token,
                }
            )
        if membership:
            compare += [
                {"key": _b64(self._member_key), "target": "LEASE", "result": "EQUAL", "lease": self._lease},
                {  # nobody joined (or re-joined) since the view this replica's ownership comes from
                    "key": _b64(self._members_prefix),
                    "range_end": _b64(prefix_end(self._members_prefix)),
                    "target": "MOD",
                    "result": "LESS",
                    "mod_revision": str(proof.view + 1),
                },
            ]
        return bool(self._post("kv/txn", {"compare": compare}).get("succeeded"))

    def release(self) -> None:
        if self._lease is not None:
            lease, self._lease = self._lease, None
            self._post("lease/revoke", {"ID": lease})
