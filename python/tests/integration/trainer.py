"""A stand-in training process for the kill tests: logs STEPS steps (3 scalars and 2 rollouts each),
prints READY with the experiment id, then waits to be signalled."""

from __future__ import annotations

import os
import sys
import time

import expt_logger

steps = int(os.environ.get("STEPS", "200"))
run = expt_logger.init(
    name="killed",
    config={"steps": steps},
    auto_flush_interval=float(os.environ.get("FLUSH_INTERVAL", "10")),
    auto_flush_buffer_size=int(os.environ.get("FLUSH_SIZE", "100")),
)
for step in range(steps):
    if step == steps // 2 and os.environ.get("FLUSH_AT_HALF"):
        run.flush()  # the first half reaches the server, the rest only the spool
    expt_logger.log_rollout("p", [{"role": "assistant", "content": f"a{step}"}], {"r": step})
    expt_logger.log_rollout("q", [{"role": "assistant", "content": f"b{step}"}], {"r": step})
    expt_logger.log({"train/loss": 1.0 / (step + 1), "train/step": step, "eval/acc": step / steps})
time.sleep(1.5)  # past the spool's write interval: everything logged is on disk
print("READY", run.id, flush=True)
time.sleep(float(os.environ.get("LINGER", "60")))
sys.exit(0)
