"""`expt-logger watch`: frameworks' dump files, written as their sources write them, followed while they grow,
across a restart of the watcher and of the trainer, into the real server, each record exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from . import dumps
from .server import ExptServer, env_for


def _watch(
    server: ExptServer, spool: Path, *args: str, once: bool = True
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "expt_logger", "watch", "--settle", "0", "--interval", "0.2", *args]
    env = env_for(server, spool)
    if once:
        return subprocess.run([*cmd, "--once"], env=env, capture_output=True, text=True, timeout=120)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def _only_experiment(server: ExptServer) -> str:
    (exp,) = server.get("/api/experiments")["experiments"]
    return str(exp["id"])


def test_prime_rl_followed_while_it_trains_and_across_a_watcher_kill(
    expt_server: ExptServer, spool: Path, tmp_path: Path
) -> None:
    out = tmp_path / "outputs"
    out.mkdir()

    def step(n: int) -> None:
        dumps.prime_write_metrics(out, n)
        eps = [dumps.prime_episode(n, p, s) for p in range(3) for s in range(4)]
        # "all" grows as episodes finish; "effective" is written when the batch is final.
        for e in eps:
            dumps.prime_write_episodes(out, n, "train", "all", [e])
        dumps.prime_write_episodes(out, n, "train", "effective", eps[:8])  # the trainer kept 8 of 12

    step(1)
    w = _watch(expt_server, spool, "--format", "prime-rl", str(out), once=False)
    assert isinstance(w, subprocess.Popen)
    try:
        expt_server.wait_until(lambda: len(expt_server.get("/api/experiments")["experiments"]) == 1)
        eid = _only_experiment(expt_server)
        expt_server.wait_until(lambda: len(expt_server.rollouts(eid)) == 8)
        step(2)  # grows while the watcher runs
        dumps.prime_write_episodes(
            out, 2, "eval", "all", [dumps.prime_episode(2, p, s, "eval") for p in range(3) for s in range(2)]
        )
        expt_server.wait_until(lambda: len(expt_server.rollouts(eid)) == 8 + 8 + 6)
    finally:
        w.send_signal(signal.SIGKILL)  # no chance to tidy up
        w.wait(timeout=30)
    step(3)
    r = _watch(expt_server, spool, "--format", "prime-rl", str(out))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 0, r.stderr
    assert "8 rollouts" in r.stderr, r.stderr  # only step 3's: the state survived the kill
    again = _watch(expt_server, spool, "--format", "prime-rl", str(out))
    assert isinstance(again, subprocess.CompletedProcess) and "0 points, 0 rollouts" in again.stderr, again.stderr

    assert _only_experiment(expt_server) == eid
    rollouts = expt_server.rollouts(eid)
    ids = Counter(r["metadata"]["episode"] for r in rollouts)
    assert len(rollouts) == 30 and max(ids.values()) == 1, ids
    assert Counter((r["step"], r["mode"]) for r in rollouts) == {
        (1, "train"): 8,
        (2, "train"): 8,
        (2, "eval"): 6,
        (3, "train"): 8,
    }
    one = next(r for r in rollouts if r["metadata"]["episode"] == "ep-train-2-1-0")
    roles = [m["role"] for m in one["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    call = one["messages"][2]
    assert call["content"].startswith("<think>I should use the tool.</think>")
    assert call["tool_calls"][0]["function"] == {"name": "python", "arguments": json.dumps({"code": "print(1/3)"})}
    assert one["messages"][4]["content"] == dumps.completion(1, 0, 2) and len(one["messages"][4]["content"]) > 5000
    assert one["promptText"] == dumps.PROBLEMS[1][0]
    assert {x["name"]: x["value"] for x in one["rewards"]} == {"correct": 1.0, "format": 0.5}
    assert one["group"] == "problem-1" and one["metadata"]["advantage"] == 0.5
    assert one["metadata"]["completion_tokens"] == 5 and one["metadata"]["stop_condition"] == "final_answer"
    sc = expt_server.scalars(eid, "reward")
    assert sc["mean"] == {1: 0.1, 2: 0.2, 3: 0.3}
    assert expt_server.scalars(eid, "perf")["throughput"] == {1: 1001.0, 2: 1002.0, 3: 1003.0}
    groups = expt_server.get(f"/api/experiments/{eid}/rollouts/groups?step=1&mode=train")["groups"]
    # The problem id is the explicit group id: each problem's samples are one group.
    assert sorted((g["group"], g["count"]) for g in groups) == [("problem-0", 4), ("problem-1", 4)]


def test_verl_dumps_and_a_trainer_restart_that_rewrites_its_metrics_file(
    expt_server: ExptServer, spool: Path, tmp_path: Path
) -> None:
    run = tmp_path / "verl"
    metrics = run / "metrics" / "grpo.jsonl"
    metrics.parent.mkdir(parents=True)

    def file_logger(steps: range) -> None:
        """verl FileLogger: opened "wb" (a restart starts the file again), `{"step", "data"}` per log."""
        with open(metrics, "wb", buffering=0) as fp:
            for s in steps:
                fp.write(
                    json.dumps(
                        {
                            "step": s,
                            "data": {
                                "actor/entropy": 1.0 / s,
                                "critic/score/mean": s / 4,
                                "timing_s/gen": 2.5,
                                "val-core/acc/mean@1": s / 8,
                            },
                        }
                    ).encode()
                    + b"\n"
                )

    file_logger(range(1, 4))
    rows = [dumps.verl_dump(run / "rollouts", s, 2, 4) for s in (1, 2, 3)]
    dumps.verl_dump(run / "validation", 3, 2, 2, val=True)
    r = _watch(expt_server, spool, "--format", "verl", str(run))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 0, r.stderr
    eid = _only_experiment(expt_server)
    # The trainer restarts from its step-2 checkpoint: its logger starts the file again, from step 3.
    file_logger(range(3, 6))
    rows.append(dumps.verl_dump(run / "rollouts", 4, 2, 4))
    r = _watch(expt_server, spool, "--format", "verl", str(run))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 0, r.stderr

    rollouts = expt_server.rollouts(eid)
    assert Counter((r["step"], r["mode"]) for r in rollouts) == {
        (1, "train"): 8,
        (2, "train"): 8,
        (3, "train"): 8,
        (4, "train"): 8,
        (3, "eval"): 4,
    }
    first = next(r for r in rollouts if r["step"] == 2 and r["mode"] == "train")
    want = rows[1][0]
    assert first["promptText"] == want["input"] and first["messages"][1]["content"] == want["output"]
    assert {x["name"]: x["value"] for x in first["rewards"]} == {"score": 1.0, "acc": 1.0}
    assert first["metadata"] == {"ground_truth": want["gts"], "pred": want["pred"]}
    groups = expt_server.get(f"/api/experiments/{eid}/rollouts/groups?step=4&mode=train")["groups"]
    assert sorted(g["count"] for g in groups) == [4, 4]
    # verl's prefixes are the chart sections; the rewritten steps replaced, never doubled.
    assert expt_server.scalars(eid, "actor")["entropy"] == {s: 1.0 / s for s in range(1, 6)}
    assert set(expt_server.scalars(eid, "timing_s")["gen"]) == {1, 2, 3, 4, 5}


def test_nemo_rl_and_our_jsonl(expt_server: ExptServer, spool: Path, tmp_path: Path) -> None:
    logs = tmp_path / "nemo" / "exp_001"
    for s in (1, 2):
        dumps.nemo_train_step(logs, s, 2, 4)
    r = _watch(expt_server, spool, "--format", "nemo-rl", "--name", "nemo", str(logs))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 0, r.stderr
    eid = _only_experiment(expt_server)
    rollouts = expt_server.rollouts(eid)
    assert len(rollouts) == 16
    x = rollouts[0]
    assert x["promptText"].endswith("<|im_start|>assistant") and x["messages"][1]["content"].startswith("\n<think>")
    assert x["metadata"]["advantage"] == 0.5 and x["metadata"]["completion_tokens"] == 3

    mine = tmp_path / "mine"
    mine.mkdir()
    lines: list[dict[str, Any]] = [
        {"step": 1, "metrics": {"loss": 0.5, "kl": "x"}},
        {"step": 1, "mode": "eval", "metrics": {"acc": 0.25}},
        {
            "step": 1,
            "prompt": "2+2?",
            "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
            "rewards": {"correct": 1},
            "metadata": {"sample": 0},
            "group": "q-17",
        },
    ]
    (mine / "log.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines) + '{"step": 2, "metr'
    )  # a line being written
    r = _watch(expt_server, spool, "--format", "jsonl", "--name", "mine", str(mine))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 0, r.stderr
    (exp,) = [e for e in expt_server.get("/api/experiments")["experiments"] if e["name"] == "mine"]
    assert expt_server.scalars(exp["id"], "train") == {"loss": {1: 0.5}}
    assert expt_server.scalars(exp["id"], "eval") == {"acc": {1: 0.25}}
    (ro,) = expt_server.rollouts(exp["id"])
    assert ro["metadata"] == {"sample": 0} and ro["rewards"] == [{"name": "correct", "value": 1}]
    assert ro["group"] == "q-17"
    with open(mine / "log.jsonl", "a") as f:
        f.write('ics": {"loss": 0.4}}\n')  # the line finished
    r = _watch(expt_server, spool, "--format", "jsonl", "--name", "mine", str(mine))
    assert isinstance(r, subprocess.CompletedProcess) and "1 points, 0 rollouts" in r.stderr, r.stderr
    assert expt_server.scalars(exp["id"], "train") == {"loss": {1: 0.5, 2: 0.4}}


def test_watch_refuses_bad_arguments(expt_server: ExptServer, spool: Path, tmp_path: Path) -> None:
    r = _watch(expt_server, spool, "--format", "verl", str(tmp_path / "missing"))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 2 and "no such file" in r.stderr
    r = _watch(expt_server, spool, "--format", "wandb", str(tmp_path))
    assert isinstance(r, subprocess.CompletedProcess) and r.returncode == 2 and "invalid choice" in r.stderr
