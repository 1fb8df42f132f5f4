"""expt-logger side by side with wandb, trackio and mlflow: one run, one machine.

    .venv-bench/bin/python bench/peers/peers.py --expt-bin bin/expt [--quick] [--out FILE.md]

Three phases, each with its own fresh experiments/runs, both servers (`expt serve`, `mlflow server`
on SQLite) started once on 127.0.0.1 with temporary data:

1. caller: the training thread's cost of one step (5 scalars + one ~1 KB rollout) for each library,
   each in its own process so no library's threads or imports touch another's figures;
2. ingest: the same points posted to each server's batch API by the same number of clients;
3. exit: time from end()/finish()/end_run() to process exit, server up and server unreachable
   (refused: the port closed and connections reset; black hole: connections stay open, nothing
   comes back). The child goes through a TCP proxy in this process so the fault starts right before
   end(), the way a network drop hits a training job that has been logging for a while.

Every wait is bounded; a child that outlives its bound is killed and reported as hung.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from caller import caller_child
from common import LIBS, REPO, Server, child_env, run_child, start_expt, start_mlflow
from exits import exit_child, measure_exit
from ingest import expt_target, ingest, mlflow_target
from report import loadavg, render


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "caller-child":
        caller_child(
            sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
        )
        return
    if len(sys.argv) > 1 and sys.argv[1] == "exit-child":
        exit_child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--expt-bin", type=Path, default=REPO / "bin" / "expt")
    ap.add_argument(
        "--steps", type=int, default=3000, help="caller phase: steps per library"
    )
    ap.add_argument(
        "--step-budget",
        type=float,
        default=60,
        help="caller phase: seconds per library at most",
    )
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument(
        "--requests",
        type=int,
        default=50,
        help="ingest phase: 1,000-point requests per client",
    )
    ap.add_argument(
        "--exit-timeout",
        type=float,
        default=45,
        help="exit phase: seconds after end() before 'hung'",
    )
    ap.add_argument(
        "--exit-reps",
        type=int,
        default=3,
        help="exit phase: runs per library with the server up",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="small sizes: checks the script, not the figures",
    )
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if a.quick:
        a.steps, a.requests, a.exit_reps, a.exit_timeout, a.step_budget = (
            200,
            5,
            1,
            20,
            20,
        )

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    load0 = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="peers-"))
    servers: list[Server] = []
    try:
        say("starting expt serve and mlflow server ...")
        ex = start_expt(a.expt_bin, tmp / "expt")
        servers.append(ex)
        ml = start_mlflow(tmp / "mlflow")
        servers.append(ml)

        say(f"caller: {a.steps} steps per library ...")
        caller: dict[str, dict[str, Any]] = {}
        for lib in LIBS:
            url, key = (
                (ex.url, ex.key)
                if lib == "expt_logger"
                else (ml.url, "")
                if lib == "mlflow"
                else ("", "")
            )
            got, why = run_child(
                [
                    "caller-child",
                    lib,
                    url,
                    key or "-",
                    str(a.steps),
                    str(a.step_budget),
                ],
                child_env(),
                a.step_budget + 180,
            )
            caller[lib] = got or {"error": why}
            say(f"  {lib}: {json.dumps(caller[lib])[:300]}")

        say(
            f"ingest: {a.clients} clients x {a.requests} requests x 1,000 points per server ..."
        )
        ingest_res: dict[str, dict[str, Any]] = {}
        for t in (expt_target(ex), mlflow_target(ml)):
            try:
                ingest_res[t.name] = ingest(t, a.clients, a.requests, 120)
            except Exception as exc:  # noqa: BLE001 -- one server failing must not hide the other's figure
                ingest_res[t.name] = {"error": repr(exc)[:300]}
            say(f"  {t.name}: {json.dumps(ingest_res[t.name])[:300]}")

        say("exit: end() to process exit ...")
        exits: list[dict[str, Any]] = []
        cases: list[tuple[str, str, Server | None, int]] = [
            ("expt_logger", "up", ex, a.exit_reps),
            ("wandb", "local", None, a.exit_reps),
            ("trackio", "local", None, a.exit_reps),
            ("mlflow", "up", ml, a.exit_reps),
        ]
        for fault in ("refused", "blackhole"):
            cases += [
                ("expt_logger", fault, ex, 1),
                ("wandb", fault, None, 1),
                ("mlflow", fault, ml, 1),
            ]
        healthy = [c for c in cases if c[1] in ("up", "local")]
        faulty = [c for c in cases if c not in healthy]
        for lib, fault, srv, reps in healthy:
            for _ in range(reps):
                r = measure_exit(lib, fault, srv, 100, a.exit_timeout)
                exits.append(r)
                say(f"  {lib} {fault}: {json.dumps(r)}")
        # The fault cases mostly wait on timeouts (wandb's init alone gives up after 90 s), so they run
        # side by side, each with its own proxy; run one by one they would triple the phase.
        with ThreadPoolExecutor(len(faulty)) as pool:
            for r in pool.map(
                lambda c: measure_exit(c[0], c[1], c[2], 100, a.exit_timeout), faulty
            ):
                exits.append(r)
                say(f"  {r['lib']} {r['fault']}: {json.dumps(r)}")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    report = render(a, (load0, loadavg()), caller, ingest_res, exits)
    print(report)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(report)
        say(f"wrote {a.out}")


if __name__ == "__main__":
    main()
