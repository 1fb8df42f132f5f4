"""verl, installed for real: its `Tracking` with the "expt" backend (in-process and through the import hook),
its `FileLogger`, and its trainer's own `_dump_generations` followed by `expt-logger watch --format verl`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.integration.server import ExptServer, env_for


def test_tracking_with_the_expt_backend(expt_server: ExptServer) -> None:
    from omegaconf import OmegaConf
    from verl.utils.tracking import Tracking

    from expt_logger.integrations import verl

    verl.install()
    verl.install()  # idempotent
    assert Tracking.supported_backend.count("expt") == 1
    os.environ["EXPT_LOGGER_API_KEY"], os.environ["EXPT_LOGGER_BASE_URL"] = expt_server.key, expt_server.url
    try:
        cfg = OmegaConf.create({"actor": {"lr": 1e-6}, "trainer": {"total_epochs": 2, "n": "${actor.lr}"}})
        t = Tracking("math-grpo", "qwen-0.5b-grpo", default_backend=["console", "expt"], config=cfg)
        import numpy as np
        import torch

        for step in (1, 2, 3):
            t.log(
                {
                    "actor/entropy": np.float32(1.0 / step),
                    "critic/score/mean": torch.tensor(step / 4),
                    "timing_s/gen": 2.5,
                    "val/generations": "a table",
                },
                step=step,
            )
        del t
    finally:
        del os.environ["EXPT_LOGGER_API_KEY"], os.environ["EXPT_LOGGER_BASE_URL"]
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    assert exp["name"] == "qwen-0.5b-grpo" and exp["status"] == "complete", exp
    assert expt_server.experiment(exp["id"])["config"] == {
        "actor": {"lr": 1e-6},
        "trainer": {"total_epochs": 2, "n": 1e-6},
    }
    ent = expt_server.scalars(exp["id"], "actor")["entropy"]
    assert {s: round(v, 6) for s, v in ent.items()} == {1: 1.0, 2: 0.5, 3: round(1 / 3, 6)}
    assert expt_server.scalars(exp["id"], "critic")["score/mean"] == {1: 0.25, 2: 0.5, 3: 0.75}
    names = {m["name"] for m in expt_server.get(f"/api/experiments/{exp['id']}/metrics")["metrics"]}
    assert "generations" not in names


def test_the_import_hook_adds_the_backend_in_every_process(expt_server: ExptServer, tmp_path: Path) -> None:
    """What a Ray worker sees: a fresh interpreter whose site directory holds the hook."""
    from expt_logger.integrations.verl import install_hook

    sitedir = tmp_path / "site"
    sitedir.mkdir()
    install_hook(str(sitedir))
    script = textwrap.dedent(f"""
        import site, sys; site.addsitedir({str(sitedir)!r})
        assert "expt_logger" not in sys.modules  # the hook alone costs nothing until verl's tracking is imported
        from verl.utils.tracking import Tracking
        assert "expt" in Tracking.supported_backend
        t = Tracking("p", "hooked", default_backend="expt")
        t.log({{"actor/kl": 0.5}}, step=7)
        del t
    """)
    r = subprocess.run(
        [sys.executable, "-c", script],
        env=env_for(expt_server, tmp_path / "spool"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    assert exp["name"] == "hooked" and expt_server.scalars(exp["id"], "actor") == {"kl": {7: 0.5}}


def test_the_trainers_own_dumps_through_the_watcher(expt_server: ExptServer, tmp_path: Path) -> None:
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer
    from verl.utils.tracking import FileLogger

    os.environ["VERL_FILE_LOGGER_PATH"] = str(tmp_path / "metrics.jsonl")
    try:
        fl = FileLogger("math-grpo", "run")
        for step in (1, 2):
            fl.log({"actor/pg_loss": -0.1 * step, "response_length/mean": 512.0 + step}, step=step)
        fl.finish()
    finally:
        del os.environ["VERL_FILE_LOGGER_PATH"]
    q = ["<|im_start|>user\nWhat is $\\sqrt{16}$?<|im_end|>\n<|im_start|>assistant\n"] * 4
    outs = [f"<think>sixteen is {k} squared?</think> $\\boxed{{{k}}}$" for k in (4, 2, 4, 8)]
    for step, d in ((1, "rollouts"), (2, "rollouts"), (2, "val")):
        # What _dump_generations runs on its background thread (a file written line by line: the watcher
        # reads it once it has settled).
        RayPPOTrainer._write_generations(
            q,
            outs,
            ["4"] * 4,
            [1.0, 0.0, 1.0, 0.0],
            {"acc": [True, False, True, False], "pred": ["4", "2", "4", "8"]},
            str(tmp_path / d),
            step,
        )
    r = subprocess.run(
        [sys.executable, "-m", "expt_logger", "watch", "--format", "verl", "--settle", "0", "--once", str(tmp_path)],
        env=env_for(expt_server, tmp_path / "spool"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    rollouts = expt_server.rollouts(exp["id"])
    assert (
        sorted((x["step"], x["mode"]) for x in rollouts) == [(1, "train")] * 4 + [(2, "eval")] * 4 + [(2, "train")] * 4
    )
    x = rollouts[1]
    assert x["messages"][1]["content"] == outs[1] and {w["name"]: w["value"] for w in x["rewards"]} == {
        "score": 0.0,
        "acc": 0.0,
    }
    assert x["metadata"] == {"ground_truth": "4", "pred": "2"}
    assert expt_server.scalars(exp["id"], "actor")["pg_loss"] == {1: -0.1, 2: -0.2}
