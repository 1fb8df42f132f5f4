"""Reading a run back: history() of 1,000,000 points as pandas, polars and rows, against the real binary.

    python bench/bench_history.py [--points N] [--metrics M] [--bin ../bin/expt]

Starts `expt serve` on a temporary SQLite database, logs N points (M metrics over N/M steps) through the
HTTP API, then times each read (the median of three) and reports the Python process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import expt_logger
from tests.integration.server import ExptServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parents[2] / "bin" / "expt"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = ExptServer(Path(a.bin), Path(tmp) / "data").start(0)
        try:
            run(srv, a.points, a.metrics)
        finally:
            srv.stop()


def post(srv: ExptServer, path: str, body: object) -> object:
    req = urllib.request.Request(
        srv.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {srv.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def run(srv: ExptServer, points: int, metrics: int) -> None:
    eid = post(srv, "/api/experiments", {"name": "history-bench"})["experimentId"]  # type: ignore[index]
    rng = random.Random(1)
    steps = points // metrics
    t0 = time.perf_counter()
    batch = []
    for step in range(steps):
        for m in range(metrics):
            batch.append({"step": step, "mode": "train", "name": f"m{m}", "value": rng.random(), "ts": 1.7e9 + step})
        if len(batch) >= 50_000:
            post(srv, f"/api/experiments/{eid}/scalars", {"scalars": batch})
            batch = []
    if batch:
        post(srv, f"/api/experiments/{eid}/scalars", {"scalars": batch})
    print(f"logged {steps * metrics} points ({metrics} metrics x {steps} steps) in {time.perf_counter() - t0:.1f}s")
    exp = expt_logger.Api(api_key=srv.key, base_url=srv.url).experiment(eid)
    for fmt in ("pandas", "polars", "rows"):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            out = exp.history(format=fmt)
            times.append(time.perf_counter() - t)
        n = len(out)
        assert n == steps, (fmt, n)
        med = statistics.median(times)
        print(f"history(format={fmt!r}): {steps * metrics} points ({n} rows) in {med:.2f}s (median of 3)")
        del out
    t = time.perf_counter()
    rows = sum(1 for _ in exp.scan_history())
    print(f"scan_history(): {rows} rows in {time.perf_counter() - t:.2f}s")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
