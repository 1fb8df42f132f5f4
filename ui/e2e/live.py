"""A training process for the live test: logs a start, then one command per stdin line.

Prints {"id": ...} once the first ten steps are on the server, then for each JSON line on stdin
({"metrics": {...}, "step": n} or {"rollout": {...log_rollout kwargs...}}) logs it, flushes, and
prints "ok". End of input ends the run (the experiment becomes "complete"), as a finished job would.
"""

from __future__ import annotations

import json
import sys

import expt_logger


def main() -> None:
    run = expt_logger.init(name="e2e-live", config={"live": True})
    for s in range(10):
        run.log({"train/loss": 1.0 / (s + 1)}, step=s)
    for k in range(4):
        run.log_rollout(
            prompt="Count to three.",
            messages=[{"role": "assistant", "content": f"one, two, three ({k})"}],
            rewards={"correctness": float(k % 2)},
            step=9,
        )
    if not run.flush(timeout=30):
        sys.exit("live: the first steps did not reach the server in 30 s")
    print(json.dumps({"id": run.id}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if "metrics" in cmd:
            run.log(cmd["metrics"], step=cmd.get("step"))
        if "rollout" in cmd:
            run.log_rollout(**cmd["rollout"])
        if not run.flush(timeout=30):
            sys.exit("live: flush timed out")
        print("ok", flush=True)
    if not run.end(timeout=30):
        sys.exit("live: end timed out")


if __name__ == "__main__":
    main()
