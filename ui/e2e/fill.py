"""Fill a fresh `expt serve` for the UI end-to-end tests, through the real Python SDK.

Run by e2e/global-setup.ts with EXPT_LOGGER_API_KEY, EXPT_LOGGER_BASE_URL and EXPT_LOGGER_DIR set.
Prints one JSON line on stdout: the experiment ids and what was logged, so the tests compare the
page with the data instead of repeating magic numbers.

Three experiments:
- e2e-grpo: a GRPO-style run (nested config, train/eval scalars, rollouts with three rewards,
  tool calls, code, a long message, a zero-variance group, the searchable word "zanzibar");
- e2e-baseline: a smaller run with a partly different config, for compare;
- e2e-xss: every text field carries script and event-handler payloads (kept apart so the
  other tests' counts do not depend on them).
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import expt_logger

STEPS = 200  # train scalars at 0..199
EVAL_EVERY = 10  # eval/accuracy at 0, 10, ..., 190
ROLLOUT_STEPS = [0, 50, 100, 150, 199]
EVAL_ROLLOUT_STEPS = [100, 199]
SAMPLES = 4
REWARDS = ["correctness", "format", "length_penalty"]
PROMPTS = [
    "What is 17 * 23? Show your work.",
    "Solve for x: 2x + 6 = 20.",
    "A train travels 120 km in 1.5 hours. What is its average speed?",
    "How many prime numbers are there below 30?",
]
ANSWERS = ["391", "x = 7", "80 km/h", "10"]
# Every reward of this group is the same for all its samples: no learning signal.
ZERO_VAR = {"step": 100, "mode": "train", "prompt": 3}
# The one rollout that mentions the search word, in its final assistant message.
SEARCH_WORD = "zanzibar"
SEARCH_HIT = {"step": 199, "mode": "train", "prompt": 2, "sample": 3}

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<svg onload="window.__xss=1"><circle r="5"/></svg>',
    "[click me](javascript:window.__xss=1)",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<a href="javascript:window.__xss=1">js link</a>',
    '<details open ontoggle="window.__xss=1"><summary>toggle</summary>x</details>',
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
    '<object data="javascript:window.__xss=1"></object><embed src="javascript:window.__xss=1">',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '![pic](x" onerror="window.__xss=1)',
]
# Payloads inside what the chat view typesets or highlights: math (KaTeX without trust: no \\href to
# javascript:, no \\htmlData), fenced and inline code, and a tool argument holding code.
MATH_CODE = (
    "Math: $<img src=x onerror=window.__xss=1>$ and $\\href{javascript:window.__xss=1}{click}$ and "
    "$$\\htmlData{onclick=window.__xss=1}{x} + \\url{javascript:window.__xss=1}$$ and \\[ \\text{<script>window.__xss=1</script>} \\]\n\n"
    "```html\n<script>window.__xss=1</script><img src=x onerror=window.__xss=1>\n```\n\n"
    "Inline `<img src=x onerror=window.__xss=1>` code."
)
TOKEN_PAYLOADS = ["<script>window.__xss=1</script>", '<img src=x onerror="window.__xss=1">', " safe", "&lt;b&gt;"]
# A Markdown HTML block: a raw block of HTML between blank lines, which Markdown passes through.
HTML_BLOCK = '<div onmouseover="window.__xss=1" style="width:100%;height:40px">\n<b>hover me</b>\n</div>'
XSS_PROMPT = 'What is 2+2? <script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
XSS_REWARD = '<img src=x onerror="window.__xss=1">'
XSS_METRIC = "<img src=x onerror=window.__xss=1>"
XSS_NAME = 'e2e-xss <img src=x onerror="window.__xss=1">'


def tool_call_messages(i: int, answer: str, extra: str) -> list[dict[str, Any]]:
    """Assistant calls a tool, the tool answers, the assistant concludes."""
    return [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": json.dumps({"expression": PROMPTS[i]})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": f"call_{i}", "name": "calculator", "content": answer},
        {"role": "assistant", "content": f"The tool says **{answer}**.{extra}"},
    ]


def messages_for(i: int, sample: int, answer: str, extra: str) -> list[dict[str, Any]]:
    if sample == 0:
        return tool_call_messages(i, answer, extra)
    if sample == 1:
        code = f"```python\n# check the answer\nresult = {answer!r}\nprint(result)\n```"
        return [{"role": "assistant", "content": f"Let me compute it in code:\n\n{code}\n\nSo the answer is {answer}.{extra}"}]
    if sample == 2:
        # Long enough that the chat view folds it.
        steps = "\n".join(f"Step {k}: reconsider the problem carefully and check the arithmetic once more." for k in range(80))
        return [{"role": "assistant", "content": f"Thinking out loud.\n\n{steps}\n\nFinal answer: {answer}.{extra}"}]
    return [
        {"role": "assistant", "content": f"I think the answer is {answer}."},
        {"role": "user", "content": "Can you verify?"},
        {"role": "assistant", "content": f"Yes: checked twice, it is {answer}.{extra}"},
    ]


def grpo_rewards(rng: random.Random, step: int, i: int, sample: int, mode: str) -> dict[str, float]:
    if mode == "train" and step == ZERO_VAR["step"] and i == ZERO_VAR["prompt"]:
        return {"correctness": 1.0, "format": 1.0, "length_penalty": -0.1}
    # Samples 0 and 1 always differ in every reward, so every other group has spread in each.
    correctness = [0.0, 1.0][sample] if sample < 2 else float(rng.random() < 0.3 + step / 400)
    fmt = [0.0, 1.0][sample] if sample < 2 else rng.choice([0.0, 0.5, 1.0])
    length = -round(0.05 + 0.1 * sample + rng.uniform(0, 0.04), 3)
    return {"correctness": correctness, "format": fmt, "length_penalty": length}


def fill_grpo(rng: random.Random) -> tuple[str, dict[str, Any]]:
    config = {
        "model": {"name": "qwen2.5-0.5b-instruct", "dtype": "bfloat16", "lora": {"r": 16, "alpha": 32}},
        "optim": {"lr": 3e-6, "warmup_steps": 10},
        "grpo": {"group_size": SAMPLES, "beta": 0.04, "epsilon": 0.2},
        "dataset": "gsm8k",
        "seed": 4,
    }
    run = expt_logger.init(name="e2e-grpo", config=config, auto_flush_buffer_size=500)
    for s in range(STEPS):
        t = s / STEPS
        run.log(
            {
                "train/loss": 1.2 * (1 - t) ** 2 + 0.1 + rng.uniform(-0.05, 0.05),
                "train/kl": 0.002 + 0.05 * t + rng.uniform(0, 0.005),
                "train/reward": 0.2 + 0.6 * t + rng.uniform(-0.05, 0.05),
            },
            step=s,
        )
        if s % EVAL_EVERY == 0:
            run.log({"eval/accuracy": 0.3 + 0.5 * t + rng.uniform(-0.02, 0.02)}, step=s)
    rollouts: dict[str, dict[str, int]] = {"train": {}, "eval": {}}
    # Each step's response lengths as the browser counts them (UTF-16 units of the assistant's text).
    lengths: dict[str, dict[str, list[int]]] = {"train": {}, "eval": {}}
    for mode, steps, prompts in (("train", ROLLOUT_STEPS, 4), ("eval", EVAL_ROLLOUT_STEPS, 2)):
        for step in steps:
            for i in range(prompts):
                for sample in range(SAMPLES):
                    hit = mode == SEARCH_HIT["mode"] and (step, i, sample) == (
                        SEARCH_HIT["step"],
                        SEARCH_HIT["prompt"],
                        SEARCH_HIT["sample"],
                    )
                    extra = f" (as sure as the spice markets of {SEARCH_WORD})" if hit else ""
                    msgs = messages_for(i, sample, ANSWERS[i], extra)
                    n = sum(len(m["content"].encode("utf-16-le")) // 2 for m in msgs if m["role"] == "assistant" and isinstance(m.get("content"), str))
                    lengths[mode].setdefault(str(step), []).append(n)
                    run.log_rollout(
                        prompt=PROMPTS[i],
                        messages=msgs,
                        rewards=grpo_rewards(rng, step, i, sample, mode),
                        step=step,
                        mode=mode,
                    )
                    rollouts[mode][str(step)] = rollouts[mode].get(str(step), 0) + 1
    # global-setup marks it active again afterwards: a run still training, as far as the UI knows.
    run_id = run.id
    if not run.end(timeout=60):
        sys.exit("fill: e2e-grpo did not reach the server within 60 s")
    facts = {
        "id": run_id,
        "name": "e2e-grpo",
        "config": config,
        "metrics": {
            "train": {"loss": STEPS, "kl": STEPS, "reward": STEPS},
            "eval": {"accuracy": STEPS // EVAL_EVERY},
        },
        "latestStep": STEPS - 1,
        "rollouts": rollouts,
        "lengths": lengths,
        "rewardNames": REWARDS,
        "prompts": PROMPTS,
        "samples": SAMPLES,
        "zeroVar": {"step": ZERO_VAR["step"], "mode": ZERO_VAR["mode"], "prompt": PROMPTS[ZERO_VAR["prompt"]]},
        "search": {"word": SEARCH_WORD, "step": SEARCH_HIT["step"], "mode": SEARCH_HIT["mode"], "prompt": PROMPTS[SEARCH_HIT["prompt"]]},
    }
    return run_id, facts


def fill_baseline(rng: random.Random) -> dict[str, Any]:
    config = {
        "model": {"name": "qwen2.5-0.5b-instruct", "dtype": "bfloat16", "lora": {"r": 8, "alpha": 32}},
        "optim": {"lr": 1e-5, "warmup_steps": 10},
        "grpo": {"group_size": SAMPLES, "beta": 0.0, "epsilon": 0.2},
        "dataset": "gsm8k",
        "seed": 4,
    }
    steps = 100
    with expt_logger.init(name="e2e-baseline", config=config, auto_flush_buffer_size=500) as run:
        for s in range(steps):
            t = s / steps
            run.log(
                {
                    "train/loss": 1.4 * (1 - t) + 0.2 + rng.uniform(-0.05, 0.05),
                    "train/kl": 0.01 + 0.08 * t,
                    "train/reward": 0.1 + 0.4 * t + rng.uniform(-0.05, 0.05),
                },
                step=s,
            )
        rid = run.id
    # Keys whose values differ from e2e-grpo's config.
    differ = ["model.lora.r", "optim.lr", "grpo.beta"]
    return {"id": rid, "name": "e2e-baseline", "config": config, "latestStep": steps - 1, "differ": differ, "steps": steps}


def fill_xss() -> dict[str, Any]:
    config = {
        "note": "<script>window.__xss=1</script>",
        "nested": {"html": '<img src=x onerror="window.__xss=1">', "link": "javascript:window.__xss=1"},
    }
    run = expt_logger.init(name=XSS_NAME, config=config)
    for s in range(3):
        run.log({"train/loss": 1.0 / (s + 1), f"train/{XSS_METRIC}": float(s)}, step=s)
    body = "\n\n".join(PAYLOADS) + "\n\n" + HTML_BLOCK + "\n\n" + MATH_CODE + "\n\nThe answer is 4."
    for step in (0, 1, 2):
        for sample in range(SAMPLES):
            run.log_rollout(
                prompt=XSS_PROMPT,
                messages=[
                    {"role": "system", "content": PAYLOADS[1]},
                    {"role": "user", "content": PAYLOADS[0] + " " + PAYLOADS[3]},
                    {
                        "role": "assistant",
                        "content": PAYLOADS[2],
                        "tool_calls": [
                            {
                                "id": "call_x",
                                "type": "function",
                                "function": {"name": '<img src=x onerror="window.__xss=1">', "arguments": PAYLOADS[0]},
                            },
                            {
                                "id": "call_y",
                                "type": "function",
                                "function": {
                                    "name": "python",
                                    "arguments": json.dumps({"code": "print(1)\n<script>window.__xss=1</script>\n"}),
                                },
                            },
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_x", "content": PAYLOADS[4]},
                    {"role": "assistant", "content": body},
                ],
                rewards={"correctness": float(sample % 2), XSS_REWARD: 0.5},
                step=step,
                # The first sample of the last step has tokens whose text is markup.
                tokens={4: {"text": TOKEN_PAYLOADS, "logprob": [-3.0, -1.0, 0.0, -0.5]}} if (step, sample) == (2, 0) else None,
            )
    if not run.end(timeout=60):
        sys.exit("fill: e2e-xss did not reach the server within 60 s")
    return {
        "id": run.id,
        "name": XSS_NAME,
        "prompt": XSS_PROMPT,
        "rewardName": XSS_REWARD,
        "metric": XSS_METRIC,
        "configKeys": ["note", "nested.html", "nested.link"],
        "steps": [0, 1, 2],
        "samples": SAMPLES,
    }


def main() -> None:
    rng = random.Random(4)
    _, grpo = fill_grpo(rng)
    baseline = fill_baseline(rng)
    xss = fill_xss()
    print(json.dumps({"grpo": grpo, "baseline": baseline, "xss": xss}))


if __name__ == "__main__":
    main()
