"""`expt-logger watch` on the Parquet dumps: TRL's, written by a real GRPOTrainer, and ART's, written with
ART's own schema (openpipe-art itself is not installed here: it pulls in its serving stack; the writer is
art/utils/trajectory_logging.py, 0.5.18, column for column)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from test_trl import Scored, _grpo

from tests.integration.server import ExptServer, env_for


def _watch(server: ExptServer, tmp: Path, fmt: str, d: Path) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "expt_logger", "watch", "--format", fmt, "--settle", "0", "--once", str(d)],
        env=env_for(server, tmp / "spool"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return r.stderr


def test_trl_completions_and_trainer_state(expt_server: ExptServer, tmp_path: Path) -> None:
    scored = Scored()
    trainer = _grpo(tmp_path, scored, log_completions=True, save_strategy="steps", save_steps=2)
    trainer.train()
    out = tmp_path / "out"
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    _watch(expt_server, tmp_path, "trl", out)
    again = _watch(expt_server, tmp_path, "trl", out)
    assert "0 rollouts" in again, again
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    rollouts = expt_server.rollouts(exp["id"])
    assert sorted(Counter(r["step"] for r in rollouts).items()) == [(1, 8), (2, 8), (3, 8), (4, 8)]
    logged = Counter(
        (r["promptText"], r["messages"][-1]["content"], *(round(x["value"], 5) for x in r["rewards"])) for r in rollouts
    )
    assert logged == Counter(scored.seen)
    train = expt_server.scalars(exp["id"], "train")
    want = {e["step"]: e["loss"] for e in trainer.state.log_history if "loss" in e}
    assert set(train["loss"]) == set(want) == {1, 2, 3, 4}


def test_art_trajectory_groups(expt_server: ExptServer, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    model_dir = tmp_path / "models" / "agent-001"
    message = pa.struct(
        [
            ("role", pa.string()),
            ("content", pa.string()),
            ("tool_calls", pa.string()),
            ("tool_call_id", pa.string()),
            ("trainable", pa.bool_()),
        ]
    )
    schema = pa.schema(
        [
            ("group_index", pa.int64()),
            ("group_metadata", pa.string()),
            ("group_metrics", pa.string()),
            ("group_logs", pa.list_(pa.string())),
            ("reward", pa.float64()),
            ("metrics", pa.string()),
            ("metadata", pa.string()),
            ("tools", pa.string()),
            ("logs", pa.list_(pa.string())),
            ("messages", pa.list_(message)),
        ]
    )
    call = json.dumps([{"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "inbox"}'}}])
    for split, step in (("train", 1), ("train", 2), ("val", 2)):
        rows = []
        for g in range(2):
            for t in range(4):
                rows.append(
                    {
                        "group_index": g,
                        "group_metadata": json.dumps({"scenario": g}),
                        "group_metrics": None,
                        "group_logs": None,
                        "reward": float(t % 2),
                        "metrics": json.dumps({"correct": t % 2, "turns": 3}),
                        "metadata": json.dumps({"email_id": f"e{g}"}),
                        "tools": None,
                        "logs": ["searched"],
                        "messages": [
                            {
                                "role": "system",
                                "content": "You answer questions about email.",
                                "tool_calls": None,
                                "tool_call_id": None,
                                "trainable": False,
                            },
                            {
                                "role": "user",
                                "content": f"When is meeting {g}?",
                                "tool_calls": None,
                                "tool_call_id": None,
                                "trainable": False,
                            },
                            {
                                "role": "assistant",
                                "content": None,
                                "tool_calls": call,
                                "tool_call_id": None,
                                "trainable": True,
                            },
                            {
                                "role": "tool",
                                "content": "Tuesday",
                                "tool_calls": None,
                                "tool_call_id": "c1",
                                "trainable": False,
                            },
                            {
                                "role": "assistant",
                                "content": f"Tuesday (try {t})",
                                "tool_calls": None,
                                "tool_call_id": None,
                                "trainable": True,
                            },
                        ],
                    }
                )
        d = model_dir / "trajectories" / split
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), d / f"{step:04d}.parquet", compression="zstd")
    with open(model_dir / "history.jsonl", "a") as f:
        for step in (1, 2):
            f.write(
                json.dumps(
                    {"train/reward": 0.5, "val/reward": 0.25 * step, "step": step, "recorded_at": "2026-12-02T10:00:00"}
                )
                + "\n"
            )
    _watch(expt_server, tmp_path, "art", model_dir)
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    rollouts = expt_server.rollouts(exp["id"])
    assert Counter((r["step"], r["mode"]) for r in rollouts) == {(1, "train"): 8, (2, "train"): 8, (2, "eval"): 8}
    r = rollouts[1]
    assert [m["role"] for m in r["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert r["messages"][2]["tool_calls"][0]["function"]["name"] == "search" and r["messages"][2]["content"] is None
    assert r["promptText"] == "When is meeting 0?"
    assert {x["name"]: x["value"] for x in r["rewards"]} == {"reward": 1.0, "correct": 1.0, "turns": 3.0}
    assert r["group"] == "0" and r["metadata"]["metadata"] == {"email_id": "e0"}
    assert expt_server.scalars(exp["id"], "eval")["reward"] == {1: 0.25, 2: 0.5}
    groups = expt_server.get(f"/api/experiments/{exp['id']}/rollouts/groups?step=1&mode=train")["groups"]
    assert sorted((g["group"], g["count"]) for g in groups) == [("0", 4), ("1", 4)]
