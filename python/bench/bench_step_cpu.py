"""Process CPU per training step, every thread counted, until end() returns: 5 scalars and one 1 KB
rollout a step, delivered to the real binary on loopback (issue 16's measure; its target is 10 us).

    python bench/bench_step_cpu.py [--steps N] [--bin ../bin/expt]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import expt_logger
from tests.integration.server import ExptServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--bin", default=str(Path(__file__).resolve().parents[2] / "bin" / "expt"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        srv = ExptServer(Path(a.bin), Path(d) / "data").start(0)
        os.environ["EXPT_LOGGER_DIR"] = str(Path(d) / "spool")
        try:
            msg = [{"role": "assistant", "content": ("The answer is 4. " * 60)[:1024]}]
            run = expt_logger.init(name="cpu", api_key=srv.key, base_url=srv.url, system_metrics=False)
            c0, w0 = time.process_time(), time.perf_counter()
            for i in range(a.steps):
                metrics = {"train/loss": 1 / (i + 1), "train/kl": 0.01, "train/reward": 0.5, "train/lr": 3e-6}
                expt_logger.log({**metrics, "eval/acc": 0.7})
                expt_logger.log_rollout("What is 2+2?", msg, {"correctness": 1.0, "format": 0.9, "length": 0.5})
            loop = time.process_time() - c0
            assert run.end(timeout=300)
            total, wall = time.process_time() - c0, time.perf_counter() - w0
            print(
                f"{a.steps} steps: process CPU {1e6 * total / a.steps:.1f} us/step until end() returned "
                f"({1e6 * loop / a.steps:.1f} during the loop), wall {wall:.1f}s"
            )
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
