"""An in-memory stand-in for the server, behind the same Transport interface as HTTPTransport.

It implements the parts of docs/wire.md the SDK relies on: client-chosen ids, last-write-wins scalars,
Idempotency-Key replays, config/status PUTs, /details with latestStep, and 401/5xx/outage switches."""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from expt_logger._transport import Response


@dataclass
class Experiment:
    id: str
    name: str
    config: dict[str, Any]
    status: str = "active"
    scalars: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    scalar_writes: int = 0
    rollouts: list[dict[str, Any]] = field(default_factory=list)


class FakeServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.experiments: dict[str, Experiment] = {}
        self.keys: set[str] = set()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.down = False  # every request raises ConnectionRefusedError
        self.status_override: int | None = None  # every request answers this status
        self.replays = 0

    def transport(self) -> FakeTransport:
        return FakeTransport(self)

    def exp(self, eid: str | None = None) -> Experiment:
        if eid is None:
            assert len(self.experiments) == 1, self.experiments.keys()
            return next(iter(self.experiments.values()))
        return self.experiments[eid]

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Response:
        with self.lock:
            self.requests.append((method, path, headers))
            if self.down:
                raise ConnectionRefusedError(111, "Connection refused")
            if self.status_override is not None:
                return _json(self.status_override, {"error": "overridden"})
            parts = path.strip("/").split("/")
            if method == "POST" and parts == ["api", "experiments"]:
                eid = body["id"]
                if eid in self.experiments:
                    e = self.experiments[eid]
                    return _json(200, {"experimentId": eid, "name": e.name, "created": False})
                self.experiments[eid] = Experiment(eid, body.get("name") or "made-up-1", body.get("config") or {})
                return _json(200, {"experimentId": eid, "name": body.get("name"), "created": True})
            if len(parts) < 3 or parts[2] not in self.experiments:
                return _json(404, {"error": "experiment not found"})
            e = self.experiments[parts[2]]
            if method == "PUT" and len(parts) == 3:
                if "config" in body:
                    e.config = body["config"]
                if "status" in body:
                    e.status = body["status"]
                return _json(200, {"id": e.id})
            if method == "GET" and parts[3:] == ["details"]:
                steps = [s for (_, _, s) in e.scalars] + [r["step"] for r in e.rollouts]
                return _json(
                    200, {"id": e.id, "name": e.name, "config": e.config, "latestStep": max(steps, default=None)}
                )
            if method == "POST" and parts[3:] in (["scalars"], ["rollouts"]):
                key = headers.get("Idempotency-Key")
                if key is not None and key in self.keys:
                    self.replays += 1
                    return _json(200, {"accepted": 0, "replayed": True})
                if parts[3] == "scalars":
                    for s in body["scalars"]:
                        e.scalars[(s["mode"], s["name"], s["step"])] = s["value"]
                        e.scalar_writes += 1
                    n = len(body["scalars"])
                else:
                    e.rollouts.extend(body["rollouts"])
                    n = len(body["rollouts"])
                if key is not None:
                    self.keys.add(key)
                return _json(200, {"accepted": n, "replayed": False})
            return _json(404, {"error": f"no route {method} {path}"})


def _json(status: int, obj: Any) -> Response:
    return Response(status, json.dumps(obj).encode())


class FakeTransport:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.closed = False

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        if isinstance(body, bytes):
            body = json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        return self.server.handle(method, path, body, dict(headers or {}))

    def close(self) -> None:
        self.closed = True
