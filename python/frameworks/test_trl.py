"""ExptLoggerCallback on real trainers: TRL's GRPOTrainer and transformers' Trainer, on a tiny model made
here, into a real `expt serve`. What the trainer did is recorded independently (its reward functions see
every completion; its state keeps every log) and compared with what the server holds."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import tiny

from expt_logger.integrations.trl import ExptLoggerCallback
from tests.integration.server import ExptServer

QUESTIONS = [
    "What is two plus two?",
    "Think step by step: three times five?",
    "What is seven minus two?",
    "Write def add(a, b).",
    "What is the integral of x?",
    "Call the calculator with 6 * 7.",
    "Is four even?",
    "What is ten over two?",
]


def _text(completion: Any) -> str:
    return completion if isinstance(completion, str) else "".join(m["content"] for m in completion)


class Scored:
    """Reward functions that remember every completion they scored, in the order TRL scored them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float, float]] = []

    def length(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        return [len(_text(c)) / 10 for c in completions]

    def digit(self, prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        out = [1.0 if re.search(r"\d|two|four|five", _text(c)) else 0.0 for c in completions]
        for p, c, d in zip(prompts, completions, out, strict=True):
            q = p if isinstance(p, str) else p[-1]["content"]
            self.seen.append((q, _text(c), round(len(_text(c)) / 10, 5), d))
        return out


def _grpo(tmp_path: Path, scored: Scored, conversational: bool = True, **cfg: Any) -> Any:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    tok = tiny.tokenizer()

    def ds(qs: list[str]) -> Any:
        return Dataset.from_list([{"prompt": [{"role": "user", "content": q}] if conversational else q} for q in qs])

    def length(prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        return scored.length(prompts, completions, **kw)

    def digit(prompts: list[Any], completions: list[Any], **kw: Any) -> list[float]:
        return scored.digit(prompts, completions, **kw)

    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        run_name="grpo-tiny",
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=12,
        max_steps=4,
        logging_steps=1,
        learning_rate=1e-3,
        report_to="none",
        use_cpu=True,
        seed=0,
        **{"save_strategy": "no", **cfg},
    )
    return GRPOTrainer(
        model=tiny.model(len(tok)),
        processing_class=tok,
        reward_funcs=[length, digit],
        args=args,
        train_dataset=ds(QUESTIONS),
        eval_dataset=ds(QUESTIONS[:4]) if cfg.get("eval_strategy") else None,
    )


def _same(a: float, b: Any) -> bool:
    if isinstance(b, str):
        return math.isnan(a) if b == "NaN" else math.isinf(a)
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def test_grpo_trainer_logs_scalars_rollouts_groups_and_config(expt_server: ExptServer, tmp_path: Path) -> None:
    scored = Scored()
    trainer = _grpo(tmp_path, scored, eval_strategy="steps", eval_steps=2, per_device_eval_batch_size=8)
    cb = ExptLoggerCallback(trainer, api_key=expt_server.key, base_url=expt_server.url)
    trainer.add_callback(cb)
    trainer.train()

    (exp,) = expt_server.get("/api/experiments")["experiments"]
    eid = exp["id"]
    assert exp["name"] == "grpo-tiny" and exp["status"] in ("complete", "completed"), exp
    cfg = expt_server.experiment(eid)["config"]
    assert cfg["learning_rate"] == 1e-3 and cfg["num_generations"] == 4 and cfg["max_steps"] == 4
    assert cfg["model_config"]["hidden_size"] == 16 and cfg["trainer"] == "GRPOTrainer"
    assert cfg["reward_funcs"] == ["length", "digit"]

    # Every numeric value the trainer logged, at its step, under its mode.
    train, ev = expt_server.scalars(eid, "train"), expt_server.scalars(eid, "eval")
    checked = Counter[str]()
    for entry in trainer.state.log_history:
        step = entry["step"]
        for key, value in entry.items():
            if key == "step" or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            mode, name = ("eval", key[5:]) if key.startswith("eval_") else ("train", key)
            got = (ev if mode == "eval" else train)[name][step]
            assert _same(float(value), got), (mode, name, step, value, got)
            checked[mode] += 1
    assert {s for s in train["loss"]} == {1, 2, 3, 4}
    assert set(train["rewards/digit/mean"]) == {1, 2, 3, 4} and "reward" in train and "entropy" in train
    assert checked["train"] > 40 and checked["eval"] > 5, checked
    assert set(ev["reward"]) == {2, 4}

    # Every completion TRL scored, once, as a rollout with both rewards; train ones at the step they trained.
    rollouts = expt_server.rollouts(eid)
    train_r = [r for r in rollouts if r["mode"] == "train"]
    eval_r = [r for r in rollouts if r["mode"] == "eval"]
    assert len(train_r) == 4 * 8, len(train_r)  # 4 steps of 2 prompts x 4 generations
    assert len(eval_r) == 2 * 4 * 4, len(eval_r)  # 2 evaluations of 4 prompts x 4 generations
    assert len(rollouts) == len(scored.seen)
    logged = Counter[tuple[str, str, float, float]]()
    for r in rollouts:
        rw = {x["name"]: x["value"] for x in r["rewards"]}
        assert list(rw) == ["length", "digit"]
        user, assistant = r["messages"]
        assert user["role"] == "user" and user["content"] == r["promptText"]
        assert r["prompt"] == {"role": "user", "content": r["promptText"]}  # the conversational prompt as a message
        assert assistant["role"] == "assistant"
        meta = r["metadata"]
        assert isinstance(meta["advantage"], float) and 0 <= meta["sample"] < 4 and meta["group"] in (0, 1, 2, 3)
        logged[(r["promptText"], assistant["content"], round(rw["length"], 5), rw["digit"])] += 1  # TRL: float32
    assert logged == Counter(scored.seen)
    assert sorted({r["step"] for r in train_r}) == [1, 2, 3, 4]

    # GRPO groups: each train step has 2 prompts of num_generations samples, advantages summing to ~0.
    for step in (1, 2, 3, 4):
        groups = expt_server.get(f"/api/experiments/{eid}/rollouts/groups?step={step}&mode=train")["groups"]
        assert sorted(g["count"] for g in groups) == [4, 4], groups
        at_step = [r for r in train_r if r["step"] == step]
        for g in groups:
            members = [r for r in at_step if r["promptText"] == g["promptText"]]
            assert sorted(r["metadata"]["sample"] for r in members) == [0, 1, 2, 3]
            assert len({r["metadata"]["group"] for r in members}) == 1
            assert abs(sum(r["metadata"]["advantage"] for r in members)) < 1e-4


def test_completions_from_trl_files_without_the_trainer(expt_server: ExptServer, tmp_path: Path) -> None:
    """callbacks=[ExptLoggerCallback()] cannot see the trainer: with log_completions=True it reads the
    completions files TRL writes (each step's is written just after its log)."""
    from trl import GRPOTrainer

    scored = Scored()
    trainer = _grpo(tmp_path, scored, conversational=False, log_completions=True)
    assert isinstance(trainer, GRPOTrainer)
    trainer.add_callback(ExptLoggerCallback(api_key=expt_server.key, base_url=expt_server.url, name="files"))
    trainer.train()
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    rollouts = expt_server.rollouts(exp["id"])
    # logging_steps=1: each step's file holds that step's generation batch (2 prompts x 4).
    assert sorted(Counter(r["step"] for r in rollouts).items()) == [(1, 8), (2, 8), (3, 8), (4, 8)]
    logged = Counter(
        (r["promptText"], r["messages"][-1]["content"], *(round(x["value"], 5) for x in r["rewards"])) for r in rollouts
    )
    assert logged == Counter(scored.seen)
    assert all("prompt" not in r for r in rollouts)  # plain-text prompts stay text
    assert {tuple(x["name"] for x in r["rewards"]) for r in rollouts} == {("length", "digit")}


def test_plain_trainer_gives_scalars_only(expt_server: ExptServer, tmp_path: Path) -> None:
    import torch
    from transformers import Trainer, TrainingArguments

    tok = tiny.tokenizer()
    ids = tok(tiny.SENTENCES, padding="max_length", max_length=24, truncation=True, return_tensors="pt")

    class LM(torch.utils.data.Dataset[dict[str, Any]]):
        def __len__(self) -> int:
            return len(tiny.SENTENCES)

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {
                "input_ids": ids["input_ids"][i],
                "attention_mask": ids["attention_mask"][i],
                "labels": ids["input_ids"][i],
            }

    args = TrainingArguments(
        output_dir=str(tmp_path / "lm"),
        per_device_train_batch_size=2,
        max_steps=3,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
    )
    trainer = Trainer(
        model=tiny.model(len(tok)),
        args=args,
        train_dataset=LM(),
        callbacks=[ExptLoggerCallback(api_key=expt_server.key, base_url=expt_server.url, name="lm")],
    )
    trainer.train()
    (exp,) = expt_server.get("/api/experiments")["experiments"]
    train = expt_server.scalars(exp["id"], "train")
    want = {e["step"]: e["loss"] for e in trainer.state.log_history if "loss" in e}
    assert set(want) == {1, 2, 3} and all(_same(want[s], train["loss"][s]) for s in want)
    assert "learning_rate" in train and "grad_norm" in train
    assert expt_server.rollouts(exp["id"]) == []
    assert expt_server.experiment(exp["id"])["config"]["model_config"]["vocab_size"] == len(tok)
