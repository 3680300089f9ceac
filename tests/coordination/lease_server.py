"""A Lease endpoint (coordination.k8s.io/v1) for testing the Kubernetes engine where no
kube-apiserver is on PATH: it keeps one resource per name with the API server's rules that
leader election relies on (404 for an absent Lease, 409 AlreadyExists on a second create, 409
Conflict on a stale resourceVersion, a new resourceVersion per write, lists filtered by an
equality label selector). Every request body is
parsed into the official client's V1Lease model and every answer is produced from one, so what
the engine sends and reads is checked against the client's own schema."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubernetes import client

PREFIX = "/apis/coordination.k8s.io/v1/namespaces/"


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


class LeaseServer:
    def __init__(self) -> None:
        self.api = client.ApiClient()
        self.leases: dict[tuple[str, str], Any] = {}  # (namespace, name) -> V1Lease
        self.version = 0
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.down = False  # answer nothing useful (an unreachable API server)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                server.requests.append((method, self.path))
                if server.down:
                    self._answer(503, _status(503, "ServiceUnavailable", "apiserver down"))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                code, answer = server.handle(method, self.path, body)
                self._answer(code, answer)

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PUT(self) -> None:
                self._route("PUT")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        assert path.startswith(PREFIX), path
        namespace, _, rest = path[len(PREFIX) :].partition("/leases")
        name = rest.strip("/").split("?")[0]
        with self.lock:
            if method == "GET" and not name:
                return 200, self.listing(namespace, path)
            if method == "GET":
                lease = self.leases.get((namespace, name))
                if lease is None:
                    return 404, _status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
                return 200, self.api.sanitize_for_serialization(lease)  # type: ignore[no-untyped-call]
            lease = self.api.deserialize(
                json.dumps(body), "V1Lease", "application/json"
            )  # the client's model, or it fails
            assert lease.spec is not None and lease.metadata is not None
            key = (namespace, lease.metadata.name)
            current = self.leases.get(key)
            if method == "POST" and current is not None:
                return 409, _status(409, "AlreadyExists", "already exists")
            if method == "PUT":
                if current is None:
                    return 404, _status(404, "NotFound", "not found")
                if lease.metadata.resource_version != current.metadata.resource_version:
                    return 409, _status(409, "Conflict", "the object has been modified")
            self.version += 1
            lease.metadata.resource_version = str(self.version)
            lease.metadata.namespace = namespace
            self.leases[key] = lease
            body = self.api.sanitize_for_serialization(lease)  # type: ignore[no-untyped-call]
            return (201 if method == "POST" else 200), body

    def listing(self, namespace: str, path: str) -> Any:
        """A LeaseList of the namespace, filtered by an equality `labelSelector` (key=value,...)."""
        query = parse_qs(urlsplit(path).query).get("labelSelector", [""])[0]
        wanted = dict(term.split("=", 1) for term in query.split(",") if term)
        items = [
            lease
            for (ns, _), lease in sorted(self.leases.items())
            if ns == namespace and all((lease.metadata.labels or {}).get(k) == v for k, v in wanted.items())
        ]
        listed = client.V1LeaseList(
            api_version="coordination.k8s.io/v1",
            kind="LeaseList",
            items=items,
            metadata=client.V1ListMeta(resource_version=str(self.version)),
        )
        return self.api.sanitize_for_serialization(listed)  # type: ignore[no-untyped-call]

    def coordination_api(self) -> Any:
        config = client.Configuration()
        config.host = self.url
        return client.CoordinationV1Api(client.ApiClient(config))

    def stop(self) -> None:
        self.httpd.shutdown()
