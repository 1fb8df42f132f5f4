"""Caller-thread cost of logging: expt_logger against wandb, trackio and mlflow, whichever are importable.

    python bench/bench_log.py [--calls N]

Each call is timed alone with time.perf_counter_ns while the library's background machinery runs, so the
figures include any lock contention with it. expt_logger runs against an in-process transport that
accepts everything (the sender and the spool really run). The peers need their own venv (see
DEVELOPMENT.md); they are not dev dependencies of this package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import expt_logger
from expt_logger._transport import Response

MESSAGE = "The answer is 4. " * 60  # ~1 KB
ROLLOUT_MESSAGES = [{"role": "assistant", "content": MESSAGE[:1024]}]
ROLLOUT_REWARDS = {"correctness": 1.0, "format": 0.9, "length": 0.5}


class AcceptAll:
    """A server that acknowledges every request at once: measures the SDK, not the network."""

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        if path == "/api/experiments":
            return Response(200, b'{"created": true}')
        return Response(200, b'{"accepted": 1, "replayed": false}')

    def close(self) -> None:
        pass


def metrics(i: int) -> dict[str, float]:
    x = float(i)
    return {"train/loss": 1 / (x + 1), "train/kl": 0.01 * x, "train/reward": 0.5, "train/lr": 3e-6, "eval/acc": 0.7}


def timed(fn: Callable[[int], None], n: int) -> list[int]:
    out = [0] * n
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        fn(i)
        out[i] = clock() - t0
    return out


def summary(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    tenth = max(1, len(ns) // 10)
    return {
        "median_us": statistics.median(s) / 1000,
        "p90_us": s[int(len(s) * 0.9)] / 1000,
        "p99_us": s[int(len(s) * 0.99)] / 1000,
        "first10%_median_us": statistics.median(ns[:tenth]) / 1000,
        "last10%_median_us": statistics.median(ns[-tenth:]) / 1000,
    }


@contextlib.contextmanager
def quiet_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as d:
        old = os.getcwd()
        os.chdir(d)
        try:
            yield d
        finally:
            os.chdir(old)


def bench_expt(n: int) -> dict[str, dict[str, float]]:
    with quiet_dir() as d:
        run = expt_logger.init(name="bench", api_key="k", dir=d, transport=AcceptAll())
        scal = timed(lambda i: expt_logger.log(metrics(i)), n)
        # The same calls with the dicts built beforehand: log() alone, as issue 16's 2 us target counts it.
        ms = [metrics(i) for i in range(n)]
        alone = timed(lambda i: expt_logger.log(ms[i]), n)
        roll = timed(lambda i: expt_logger.log_rollout("What is 2+2?", ROLLOUT_MESSAGES, ROLLOUT_REWARDS), n // 4)
        run.end(timeout=60)
    return {"log 5 scalars": summary(scal), "log() alone, dict ready": summary(alone), "log_rollout 1KB": summary(roll)}


def bench_wandb(n: int) -> dict[str, dict[str, float]] | None:
    try:
        import wandb  # type: ignore[import-not-found]
    except ImportError:
        return None
    with quiet_dir() as d:
        run = wandb.init(project="bench", mode="offline", dir=d)
        scal = timed(lambda i: wandb.log(metrics(i)), n)
        run.finish()
    return {"log 5 scalars": summary(scal)}


def bench_trackio(n: int) -> dict[str, dict[str, float]] | None:
    with quiet_dir() as d:
        os.environ["TRACKIO_DIR"] = d  # read at import time
        try:
            import trackio  # type: ignore[import-not-found]
        except ImportError:
            return None
        trackio.init(project="bench")
        scal = timed(lambda i: trackio.log(metrics(i)), n)
        trackio.finish()
    return {"log 5 scalars": summary(scal)}


def bench_mlflow(n: int) -> dict[str, dict[str, float]] | None:
    try:
        import mlflow  # type: ignore[import-not-found]
    except ImportError:
        return None
    with quiet_dir() as d:
        # mlflow-skinny has no SQL store; the file store is fine for timing the caller's side.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri(Path(d).as_uri())
        mlflow.set_experiment("bench")
        with mlflow.start_run():
            scal = timed(
                lambda i: mlflow.log_metrics(
                    {k.replace("/", "_"): v for k, v in metrics(i).items()}, step=i, synchronous=False
                ),
                n,
            )
    return {"log 5 scalars": summary(scal)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--peer-calls", type=int, default=20_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results: dict[str, Any] = {"expt_logger": bench_expt(args.calls)}
    for name, fn in (("wandb", bench_wandb), ("trackio", bench_trackio), ("mlflow", bench_mlflow)):
        try:
            got = fn(args.peer_calls)
        except Exception as exc:  # a peer failing to start must not hide the other figures
            print(f"{name}: failed: {exc!r}", file=sys.stderr)
            continue
        if got is not None:
            results[name] = got
        else:
            print(f"{name}: not importable here, skipped", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    base = results["expt_logger"]["log 5 scalars"]["median_us"]
    print(f"python {sys.version.split()[0]}, {args.calls} calls (peers {args.peer_calls})")
    for lib, cases in results.items():
        for case, s in cases.items():
            ratio = "" if lib == "expt_logger" else f"  ({s['median_us'] / base:.0f}x expt_logger)"
            print(
                f"{lib:12} {case:16} median {s['median_us']:8.2f} us  p90 {s['p90_us']:8.2f}  p99 {s['p99_us']:8.2f}"
                f"  first/last 10% {s['first10%_median_us']:.2f}/{s['last10%_median_us']:.2f}{ratio}"
            )


if __name__ == "__main__":
    main()
