"""Frameworks' dump files written as their sources write them (the writers' code is quoted in each
docstring), with realistic content: <think> reasoning, LaTeX, code, tool calls, several samples a prompt."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

PROBLEMS = [
    ("Compute $\\int_0^1 x^2\\,dx$.", "\\frac{1}{3}"),
    ("Write a Python function that reverses a string.", "s[::-1]"),
    ("How many primes are below 20?", "8"),
]


def completion(problem: int, sample: int, step: int) -> str:
    """A 5-8 KB reasoning completion, different for every problem, sample and step."""
    q, a = PROBLEMS[problem]
    think = " ".join(
        f"step {k}: consider the case n={k + sample} for '{q[:20]}' at training step {step}." for k in range(90)
    )
    code = "```python\ndef rev(s: str) -> str:\n    return s[::-1]\n```\n" if problem == 1 else ""
    return f"<think>{think}</think>\n{code}The answer is $\\boxed{{{a}}}$ (sample {sample})."


def prime_episode(step: int, problem: int, sample: int, kind: str = "train") -> dict[str, Any]:
    """`verifiers.v1.Episode.to_record()`: model_dump(mode="json", exclude_none=True) minus token tensors."""
    q, a = PROBLEMS[problem]
    nodes: list[dict[str, Any]] = [
        {
            "parent": None,
            "message": {"role": "system", "content": "You are a careful solver."},
            "sampled": False,
            "timestamp": time.time(),
            "token_ids": [1, 2, 3],
            "mask": [False, False, False],
            "logprobs": [],
        },
        {
            "parent": 0,
            "message": {"role": "user", "content": q},
            "sampled": False,
            "timestamp": time.time(),
            "token_ids": [4, 5],
            "mask": [False, False],
            "logprobs": [],
        },
        {
            "parent": 1,
            "message": {
                "role": "assistant",
                "content": None,
                "reasoning_content": "I should use the tool.",
                "tool_calls": [{"id": f"c{sample}", "name": "python", "arguments": json.dumps({"code": "print(1/3)"})}],
            },
            "sampled": True,
            "timestamp": time.time(),
            "token_ids": [6, 7, 8],
            "mask": [False, True, True],
            "logprobs": [-0.1, -0.2],
        },
        {
            "parent": 2,
            "message": {
                "role": "tool",
                "tool_call_id": f"c{sample}",
                "content": "0.3333333333333333",
                "name": "python",
            },
            "sampled": False,
            "timestamp": time.time(),
            "token_ids": [9],
            "mask": [False],
            "logprobs": [],
        },
        {
            "parent": 3,
            "message": {"role": "assistant", "content": completion(problem, sample, step)},
            "sampled": True,
            "timestamp": time.time(),
            "token_ids": [10, 11, 12, 13],
            "mask": [False, True, True, True],
            "logprobs": [-1.0, -0.5, -0.25],
        },
    ]
    correct = float(sample % 2 == 0)
    return {
        "id": f"ep-{kind}-{step}-{problem}-{sample}",
        "env": {"id": "math+tools"},
        "task": {"type": "math", "data": {"prompt": q, "answer": a}, "key": f"problem-{problem}"},
        "group": {"id": f"g-{step}-{problem}"},
        "run": {
            "type": "train",
            "id": "run-1",
            "work": {"type": kind, "step": step, "policy": {"start": step, "end": step}},
        },
        "ok": True,
        "errors": [],
        "traces": [
            {
                "version": 1,
                "id": f"tr-{step}-{problem}-{sample}",
                "verifiers": {"version": "0.4.0"},
                "task": {"type": "math", "data": {"prompt": q}},
                "agent": {"config": {}, "name": "agent", "trainable": True},
                "tools": [],
                "nodes": nodes,
                "calls": [],
                "rewards": {"correct": {"score": correct, "weight": 1.0}, "format": {"score": 0.5, "weight": 0.2}},
                "metrics": {"num_turns": 2, "judge_latency": None},
                "info": {"advantage": correct - 0.5},
                "is_completed": True,
                "ok": True,
                "stop_condition": "final_answer",
                "errors": [],
                "timing": {"start": time.time()},
            }
        ],
    }


def prime_write_metrics(out: Path, step: int) -> None:
    """prime-rl FileMonitor.log_metrics: `{"step", "time", **metrics}` appended, line-buffered."""
    with open(out / "metrics.jsonl", "a", buffering=1) as f:
        f.write(
            json.dumps(
                {
                    "step": step,
                    "time": time.time(),
                    "reward/mean": step / 10,
                    "loss/policy": -step / 100,
                    "perf/throughput": 1000.0 + step,
                }
            )
            + "\n"
        )


def prime_write_episodes(out: Path, step: int, kind: str, subset: str, episodes: list[dict[str, Any]]) -> None:
    """prime-rl FileMonitor.log_episodes: records appended to rollouts/step_{N}/{kind}/{subset}/traces.jsonl."""
    path = out / "rollouts" / f"step_{step}" / kind / subset / "traces.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as f:
        for e in episodes:
            f.write(json.dumps(e).encode() + b"\n")


def verl_dump(dump_path: Path, step: int, n_prompts: int, n: int, val: bool = False) -> list[dict[str, Any]]:
    """RayPPOTrainer._dump_generations: one `{step}.jsonl`, written whole, rows of input/output/gts/score/step
    and the reward_extra_infos keys (here acc and pred)."""
    dump_path.mkdir(parents=True, exist_ok=True)
    rows = []
    for p in range(n_prompts):
        q, a = PROBLEMS[p % len(PROBLEMS)]
        for s in range(n):  # GRPO's n samples, interleaved as verl repeats them
            text = completion(p % len(PROBLEMS), s, step)
            rows.append(
                {
                    "input": f"system\nReason step by step.\nuser\n{q}\nassistant\n",
                    "output": text,
                    "gts": a,
                    "score": float(s % 2 == 0),
                    "step": step,
                    "acc": s % 2 == 0,
                    "pred": a if s % 2 == 0 else "?",
                }
            )
    with open(dump_path / f"{step}.jsonl", "w") as f:
        f.write("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return rows


def nemo_train_step(log_dir: Path, step: int, n_prompts: int, n: int) -> None:
    """NeMo-RL Logger.log_batched_dict_as_jsonl of GRPO's train data: one line per sample (a microbatch of one,
    so every field is a list of one) plus "idx", written whole."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"train_data_step{step}.jsonl", "w") as f:
        i = 0
        for p in range(n_prompts):
            q, _ = PROBLEMS[p % len(PROBLEMS)]
            for s in range(n):
                answer = completion(p % len(PROBLEMS), s, step)
                text = f"<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>"
                mask = [0, 0, 0, 1, 1, 1]
                adv = float(s % 2 == 0) - 0.5
                sample = {
                    "content": [text],
                    "rewards": [float(s % 2 == 0)],
                    "input_lengths": [3],
                    "token_ids": [[1, 2, 3, 4, 5, 6]],
                    "token_loss_mask": [mask],
                    "sample_loss_mask": [1.0],
                    "advantages": [[adv * k for k in mask]],
                    "generation_logprobs": [[0, 0, 0, -0.1, -0.2, -0.3]],
                    "prev_logprobs": [[0, 0, 0, -0.1, -0.2, -0.3]],
                }
                f.write(json.dumps({**sample, "idx": i}, default=str) + "\n")
                i += 1
