"""A simulated GRPO training process using the real SDK, run as a subprocess by the fault scenarios.

Every step: STEP_MS of "compute", then 5 train scalars and one group of GROUP rollouts (one prompt,
GROUP sampled completions with their rewards), as a GRPO loop logs them. Each step's wall time
(compute + logging calls) is appended to STEPS_FILE as "<step> <unix time at its end> <seconds>", one
unbuffered write per step, so the file is exact up to the instant of a SIGKILL. Runs for DURATION
seconds (or STEPS steps, or until the file STOP_FILE exists), then ends the run with END_TIMEOUT and prints "END <ok>".

What was logged at a step is a pure function of the step number (`expected`), so the harness can count
it on the server without any other record.
"""

from __future__ import annotations

import os
import sys
import time

import expt_logger

SCALARS = ("loss", "reward_mean", "kl", "entropy", "lr")
GROUP = int(os.environ.get("GROUP", "4"))


def scalars(step: int) -> dict[str, float]:
    return {
        "loss": 1.0 / (step + 1),
        "reward_mean": (step % 17) / 16,
        "kl": step * 1e-4,
        "entropy": 2.0 - (step % 5) * 0.1,
        "lr": 1e-5,
    }


def completion(step: int, j: int) -> str:
    return f"s{step}c{j} " + "the answer is 42. " * 8  # ~150 bytes, a short completion


def main() -> int:
    step_ms = float(os.environ.get("STEP_MS", "5")) / 1000
    duration = float(os.environ.get("DURATION", "10"))
    max_steps = int(os.environ.get("STEPS", "0")) or None
    stop_file = os.environ.get("STOP_FILE")
    fd = os.open(
        os.environ["STEPS_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
    )
    run = expt_logger.init(
        name="faults-grpo",
        config={"algo": "grpo", "group": GROUP, "step_ms": step_ms * 1000},
    )
    print("READY", run.id, flush=True)
    deadline = time.monotonic() + duration
    step = 0
    while time.monotonic() < deadline and (max_steps is None or step < max_steps):
        t0 = time.perf_counter()
        time.sleep(step_ms)  # the forward/backward pass
        prompt = f"prompt {step}: what is 6*7?"
        for j in range(GROUP):
            run.log_rollout(
                prompt,
                [
                    {"role": "user", "content": prompt},
                    {"role": "assistant", "content": completion(step, j)},
                ],
                {"correct": float(j % 2), "format": 1.0},
            )
        run.log({f"train/{k}": v for k, v in scalars(step).items()})
        dt = time.perf_counter() - t0
        os.write(fd, f"{step} {time.time():.6f} {dt:.6f}\n".encode())
        step += 1
        if stop_file and os.path.exists(stop_file):
            break
    os.close(fd)
    t = time.perf_counter()
    ok = run.end(timeout=float(os.environ.get("END_TIMEOUT", "30")))
    print(f"END {ok} {time.perf_counter() - t:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
