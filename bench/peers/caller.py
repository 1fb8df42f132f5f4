"""Phase 1: the training thread's cost of one step, each library in its own process."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from common import COMPLETION, PROMPT, ROLLOUT_REWARDS, metrics, quiet_dir, summary

# --- phase 1: caller-side cost ------------------------------------------------------------------------


def step_fns(
    lib: str, url: str, key: str, d: str, end_timeout: float | None = 60
) -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], Any]]:
    """(log a 1 KB rollout at step i, log 5 scalars at step i, end) the way each library's docs do it."""
    if lib == "expt_logger":
        import expt_logger

        run = expt_logger.init(name="bench-caller", api_key=key, base_url=url, dir=d)
        msgs = [{"role": "assistant", "content": COMPLETION}]
        return (
            lambda i: expt_logger.log_rollout(PROMPT, msgs, ROLLOUT_REWARDS),
            lambda i: expt_logger.log(metrics(i)),
            # The exit phase passes None: the library's own default, what `expt_logger.end()` does.
            (lambda: run.end(timeout=end_timeout))
            if end_timeout is not None
            else run.end,
        )
    cols = ["prompt", "completion", *ROLLOUT_REWARDS]
    row = [PROMPT, COMPLETION, *ROLLOUT_REWARDS.values()]
    if lib == "wandb":
        import wandb  # type: ignore[import-not-found]

        # Offline unless the exit phase asks for online mode (against an address that fails).
        run = wandb.init(
            project="bench", mode=os.environ.get("WANDB_MODE", "offline"), dir=d
        )
        # A table per step is how TRL's GRPO trainer logs completions to W&B.
        return (
            lambda i: run.log(
                {"rollout": wandb.Table(columns=cols, data=[row])}, commit=False
            ),
            lambda i: run.log(metrics(i)),
            run.finish,
        )
    if lib == "trackio":
        os.environ["TRACKIO_DIR"] = d
        import trackio  # type: ignore[import-not-found]

        trackio.init(project="bench")
        return (
            lambda i: trackio.log(
                {"rollout": trackio.Table(columns=cols, data=[row])}, step=i
            ),
            lambda i: trackio.log(metrics(i), step=i),
            trackio.finish,
        )
    if lib == "mlflow":
        import mlflow  # type: ignore[import-not-found]

        mlflow.set_tracking_uri(url)
        mlflow.set_experiment(f"bench-caller-{os.getpid()}")
        mlflow.start_run()
        text = json.dumps(
            {"prompt": PROMPT, "completion": COMPLETION, "rewards": ROLLOUT_REWARDS}
        )
        # mlflow has no per-step text record with async logging; an artifact per step is its way
        # (log_table rewrites one growing file each call, which is worse).
        return (
            lambda i: mlflow.log_text(text, f"rollouts/step_{i:06d}.json"),
            lambda i: mlflow.log_metrics(
                {k.replace("/", "_"): v for k, v in metrics(i).items()},
                step=i,
                synchronous=False,
            ),
            mlflow.end_run,
        )
    raise ValueError(lib)


def caller_child(lib: str, url: str, key: str, steps: int, budget: float) -> None:
    with quiet_dir() as d:
        roll, scal, end = step_fns(lib, url, key, d)
        clock = time.perf_counter_ns
        r_ns: list[int] = []
        s_ns: list[int] = []
        deadline = time.monotonic() + budget
        for i in range(steps):
            t0 = clock()
            roll(i)
            t1 = clock()
            scal(i)
            t2 = clock()
            r_ns.append(t1 - t0)
            s_ns.append(t2 - t1)
            if time.monotonic() > deadline:
                break
        t = time.monotonic()
        end()
        end_s = time.monotonic() - t
    step_ns = [a + b for a, b in zip(r_ns, s_ns)]
    print(
        json.dumps(
            {
                "steps": len(step_ns),
                "step": summary(step_ns),
                "rollout": summary(r_ns),
                "scalars": summary(s_ns),
                "end_s": end_s,
            }
        ),
        flush=True,
    )
