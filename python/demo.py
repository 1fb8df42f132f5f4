"""Demo of expt_logger against a local `expt serve`.

    EXPT_LOGGER_API_KEY=... EXPT_LOGGER_BASE_URL=http://127.0.0.1:8080 python demo.py [commit|messages]

Modes: default = a GRPO-style training simulation (train/eval scalars, grouped rollouts with several
samples per prompt, correctness and format rewards, multi-turn messages with a tool call);
`commit` = batching metrics at one step with commit=False; `messages` = structured prompts and messages.
"""

from __future__ import annotations

import math
import random
import sys
from typing import Any

import expt_logger

PROBLEMS = [
    ("What is 17 * 23?", 391),
    ("What is 144 / 12?", 12),
    ("Solve for x: 3x + 5 = 20", 5),
    ("What is 2^10?", 1024),
]


def sample_completion(answer: int, skill: float, rng: random.Random) -> tuple[list[dict[str, Any]], float, float]:
    """One sampled answer: a tool call to a calculator, the tool's reply, and a final answer."""
    correct = rng.random() < skill
    given = answer if correct else answer + rng.choice([-2, -1, 1, 3])
    well_formed = rng.random() < 0.6 + 0.4 * skill
    final = f"The answer is \\boxed{{{given}}}." if well_formed else f"I think it's {given}"
    messages: list[dict[str, Any]] = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": f'{{"expression": "{answer}"}}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "calculator", "content": str(answer)},
        {"role": "assistant", "content": f"Let me check the calculator's result. {final}"},
    ]
    return messages, 1.0 if correct else 0.0, 1.0 if well_formed else 0.0


def grpo(steps: int = 30, group_size: int = 4) -> None:
    rng = random.Random(0)
    run = expt_logger.init(
        name="grpo-math-demo",
        config={"lr": 3e-6, "batch_size": 8, "group_size": group_size, "model": "demo-1b", "kl_coef": 0.02},
    )
    print(f"View experiment: {run.experiment_url}")
    for step in range(steps):
        skill = 0.2 + 0.7 * (1 - math.exp(-step / 10))
        rewards = []
        for prompt, answer in PROBLEMS[:2]:
            for sample in range(group_size):  # a GRPO group: several samples of one prompt at one step
                messages, correctness, fmt = sample_completion(answer, skill, rng)
                rewards.append(correctness + 0.5 * fmt)
                expt_logger.log_rollout(
                    prompt=prompt,
                    messages=messages,
                    rewards={"correctness": correctness, "format": fmt},
                    metadata={"sample": sample, "model_version": f"step-{step}", "temperature": 1.0},
                )
        mean_reward = sum(rewards) / len(rewards)
        expt_logger.log(
            {
                "train/loss": 1.5 * math.exp(-step / 12) + rng.gauss(0, 0.03),
                "train/reward": mean_reward,
                "train/kl": 0.02 * step / steps + abs(rng.gauss(0, 0.002)),
                "train/grad_norm": 2.0 * math.exp(-step / 20) + rng.random() * 0.1,
            }
        )
        if step % 10 == 9:  # evaluation every 10 steps, at the step just logged
            for prompt, answer in PROBLEMS[2:]:
                messages, correctness, fmt = sample_completion(answer, skill, rng)
                expt_logger.log_rollout(
                    prompt=prompt,
                    messages=messages,
                    rewards={"correctness": correctness, "format": fmt},
                    step=step,
                    mode="eval",
                )
            expt_logger.log({"eval/accuracy": skill, "eval/reward": skill + 0.4}, step=step)
    run.config.update({"finished_steps": steps})
    expt_logger.end()
    print(f"Done: {run.experiment_url}")


def commit_demo() -> None:
    run = expt_logger.init(name="commit-demo")
    print(f"View experiment: {run.experiment_url}")
    for _ in range(3):
        expt_logger.log({"metric_a": random.random()}, commit=False)
        expt_logger.log({"metric_b": random.random()}, commit=False)
        expt_logger.log({"metric_c": random.random()})  # commits all three at one step
    print(f"three metrics at each of steps 0..2; next step is {run.step}")
    expt_logger.end()


def messages_demo() -> None:
    run = expt_logger.init(name="messages-demo")
    print(f"View experiment: {run.experiment_url}")
    expt_logger.log_rollout(
        prompt={"role": "user", "content": "Solve: x^2 - 5x + 6 = 0"},
        messages=[
            {"role": "system", "content": "You are a careful math tutor."},
            {"role": "assistant", "content": "Let me factor this..."},
            {"role": "user", "content": "Can you verify?"},
            {"role": "assistant", "content": "Sure! (x-2)(x-3) = 0, so x = 2 or x = 3."},
        ],
        rewards=[{"name": "correctness", "value": 1.0}, {"name": "format", "value": 0.9}],
        step=5,
    )
    expt_logger.end()


if __name__ == "__main__":
    arg = sys.argv[1] if len(sys.argv) > 1 else ""
    {"": grpo, "commit": commit_demo, "messages": messages_demo}[arg]()
