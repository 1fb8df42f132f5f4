"""Phase 2: the same points posted to each server's batch API by the same number of clients."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common import Server

# --- phase 2: server ingestion ------------------------------------------------------------------------


def post(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> Any:
    conn.request(
        "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
    )
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"POST {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else {}


def get_json(url: str, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=60
    ) as r:
        return json.load(r)


@dataclass
class Target:
    """One server's batch API: how to make a run, encode one request, and count what it stored."""

    name: str
    url: str
    headers: dict[str, str]
    path: Callable[[str], str]
    create: Callable[[int], str]
    encode: Callable[[str, int, int, int], bytes]
    count: Callable[[str], int]
    runs: list[str] = field(default_factory=list)


NAMES = [f"m{j}" for j in range(10)]


def expt_target(s: Server) -> Target:
    h = {"Authorization": f"Bearer {s.key}"}

    def create(c: int) -> str:
        conn = http.client.HTTPConnection(
            "127.0.0.1", urllib.parse.urlsplit(s.url).port, timeout=60
        )
        try:
            return str(
                post(
                    conn,
                    "/api/experiments",
                    json.dumps({"name": f"ingest-{c}"}).encode(),
                    h,
                )["experimentId"]
            )
        finally:
            conn.close()

    def encode(run: str, first_step: int, steps: int, ts_ms: int) -> bytes:
        pts = [
            {
                "step": st,
                "mode": "train",
                "name": n,
                "value": st * 0.001 + j,
                "ts": ts_ms / 1000,
            }
            for st in range(first_step, first_step + steps)
            for j, n in enumerate(NAMES)
        ]
        return json.dumps({"scalars": pts}).encode()

    def count(run: str) -> int:
        got = get_json(f"{s.url}/api/experiments/{run}/metrics", h)
        return sum(int(m["count"]) for m in got["metrics"])

    return Target(
        "expt serve",
        s.url,
        h,
        lambda run: f"/api/experiments/{run}/scalars",
        create,
        encode,
        count,
    )


def mlflow_target(s: Server) -> Target:
    port = urllib.parse.urlsplit(s.url).port
    exp_id: list[str] = []

    def create(c: int) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            if not exp_id:
                exp_id.append(
                    post(
                        conn,
                        "/api/2.0/mlflow/experiments/create",
                        json.dumps({"name": f"ingest-{os.getpid()}"}).encode(),
                        {},
                    )["experiment_id"]
                )
            body = json.dumps(
                {
                    "experiment_id": exp_id[0],
                    "run_name": f"ingest-{c}",
                    "start_time": int(time.time() * 1000),
                }
            ).encode()
            return str(
                post(conn, "/api/2.0/mlflow/runs/create", body, {})["run"]["info"][
                    "run_id"
                ]
            )
        finally:
            conn.close()

    def encode(run: str, first_step: int, steps: int, ts_ms: int) -> bytes:
        pts = [
            {"key": n, "value": st * 0.001 + j, "timestamp": ts_ms, "step": st}
            for st in range(first_step, first_step + steps)
            for j, n in enumerate(NAMES)
        ]
        return json.dumps({"run_id": run, "metrics": pts}).encode()

    def count(run: str) -> int:
        total = 0
        for n in NAMES:
            token = ""
            while True:
                q = urllib.parse.urlencode(
                    {
                        "run_id": run,
                        "metric_key": n,
                        "max_results": 25000,
                        **({"page_token": token} if token else {}),
                    }
                )
                got = get_json(f"{s.url}/api/2.0/mlflow/metrics/get-history?{q}", {})
                total += len(got.get("metrics", []))
                token = got.get("next_page_token", "")
                if not token:
                    break
        return total

    return Target(
        "mlflow server",
        s.url,
        {},
        lambda run: "/api/2.0/mlflow/runs/log-batch",
        create,
        encode,
        count,
    )


def ingest(t: Target, clients: int, requests: int, budget: float) -> dict[str, Any]:
    """`clients` threads, each its own run, each posting `requests` bodies of 1,000 points (100 steps x 10
    metrics). Bodies are encoded before the clock starts so the client's JSON work is not in the figure."""
    port = urllib.parse.urlsplit(t.url).port
    runs = [t.create(c) for c in range(clients)]
    ts = int(time.time() * 1000)
    bodies = [
        [t.encode(runs[c], r * 100, 100, ts) for r in range(requests)]
        for c in range(clients)
    ]
    done = [0] * clients
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    deadline = time.monotonic() + budget

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for body in bodies[c]:
                if time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                post(conn, t.path(runs[c]), body, t.headers)
                lat[c].append(time.perf_counter() - t0)
                done[c] += 1
        except Exception as exc:  # noqa: BLE001 -- reported with the figures; the other clients go on
            errors.append(repr(exc)[:300])
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(budget + 90)
    elapsed = time.perf_counter() - t0
    sent = sum(done) * 1000
    stored = sum(t.count(r) for r in runs)
    all_lat = sorted(x for xs in lat for x in xs)
    return {
        "points": sent,
        "stored": stored,
        "seconds": elapsed,
        "points_per_s": sent / elapsed if elapsed else 0.0,
        "req_p50_ms": statistics.median(all_lat) * 1000 if all_lat else 0.0,
        "req_p99_ms": all_lat[int(len(all_lat) * 0.99)] * 1000 if all_lat else 0.0,
        "complete": sum(done) == clients * requests,
        "errors": errors,
    }
