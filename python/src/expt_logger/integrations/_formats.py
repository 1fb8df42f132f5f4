"""The dump files of each framework, as their source writes them, read into scalars and rollouts.

Each format lists the files of a run directory as `Spec`s: `lines` files grow by appended JSON lines (read
from an offset), `whole` files are written at once (read once, when they have stopped changing). A parser
turns a line, or a whole file, into `Scalars` and `Rollout`s. Formats and the files they read:

- trl: `completions/completions_{step:05d}.parquet` (log_completions=True), `checkpoint-*/trainer_state.json`
  and `trainer_state.json` (every log, at each checkpoint and at the end).
- verl: `trainer.logger=['file']`'s `{"step", "data"}` JSONL and `trainer.rollout_data_dir` /
  `validation_data_dir`'s `{step}.jsonl` (a directory whose name holds "val" is eval).
- prime-rl: the file monitor's `metrics.jsonl` and `rollouts/step_{N}/{train|eval}/{subset}/traces.jsonl`.
- art: `history.jsonl` and `trajectories/{split}/{step:04d}.parquet`.
- nemo-rl: `train_data_step{N}.jsonl` and `val_data_step{N}.jsonl` from `log_batched_dict_as_jsonl`.
- jsonl: any `*.jsonl` of records `{"step", "mode"?, "metrics": {...}}` or `{"step", "mode"?, "prompt",
  "messages", "rewards", "metadata"?, "group"?}`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from . import _conv
from ._trl_rows import rows_from_parquet

if TYPE_CHECKING:
    from .._run import Run


@dataclass
class Scalars:
    step: int
    metrics: dict[str, float]
    mode: str | None = None  # None: each key's first path segment is its mode


@dataclass
class Rollout:
    prompt: str | dict[str, Any]
    messages: list[dict[str, Any]]
    rewards: dict[str, float]
    step: int
    mode: str = "train"
    metadata: dict[str, Any] = field(default_factory=dict)
    group: str | int | None = None  # an explicit GRPO group id, when the framework has one

    def log_to(self, run: Run) -> None:
        run.log_rollout(
            self.prompt,
            self.messages,
            self.rewards,
            step=self.step,
            mode=self.mode,
            metadata=self.metadata or None,
            group=self.group,
        )


Record = Scalars | Rollout


def _group_id(v: Any) -> str | int | None:
    """A framework's group id as log_rollout(group=) takes it (a str or an int), or None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (str, int)):
        return v
    return str(v)


Parser = Callable[[Any], Iterable[Record]]


@dataclass
class Spec:
    path: str
    kind: str  # "lines" or "whole"
    parse: Callable[[Any], Iterable[Record]]  # a line's JSON value, or the file's path for "whole"


def numbers(d: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric values of a (nested) mapping, keys joined with "/"; bools as 0/1, None as NaN."""
    out: dict[str, float] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(numbers(v, key + "/"))
        elif isinstance(v, (bool, int, float)):
            out[key] = float(v)
        elif v is None:
            out[key] = math.nan
    return out


def _walk(root: str) -> Iterator[tuple[str, str]]:
    """(path, path relative to root) of every file under root, in a stable order."""
    if os.path.isfile(root):
        yield root, os.path.basename(root)
        return
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            yield p, os.path.relpath(p, root)


def _step_of(name: str, pattern: re.Pattern[str]) -> int | None:
    m = pattern.search(name)
    return int(m.group(1)) if m else None


# --- trl --------------------------------------------------------------------------------------------

_TRL_COMPLETIONS = re.compile(r"(?:^|/)completions/completions_(\d+)\.parquet$")


def trl(root: str) -> list[Spec]:
    specs = []
    for path, rel in _walk(root):
        step = _step_of(rel, _TRL_COMPLETIONS)
        if step is not None:
            specs.append(Spec(path, "whole", partial(_trl_completions, step=step)))
        elif os.path.basename(rel) == "trainer_state.json":
            specs.append(Spec(path, "whole", _trl_state))
    return specs


def _trl_completions(path: str, step: int) -> Iterator[Record]:
    for r in rows_from_parquet(path, None):
        yield Rollout(r.prompt, r.messages, r.rewards, step, "train", r.metadata)


def _trl_state(path: str) -> Iterator[Record]:
    with open(path, encoding="utf-8") as f:
        state = json.load(f)
    for entry in state.get("log_history", []):
        step = entry.get("step")
        if not isinstance(step, int):
            continue
        train, ev = {}, {}
        for k, v in numbers({k: v for k, v in entry.items() if k != "step"}).items():
            if k.startswith("eval_"):
                ev[k[5:]] = v
            else:
                train[k] = v
        if train:
            yield Scalars(step, train, "train")
        if ev:
            yield Scalars(step, ev, "eval")


# --- verl -------------------------------------------------------------------------------------------

_VERL_DUMP = re.compile(r"(?:^|/)(\d+)\.jsonl$")


def verl(root: str) -> list[Spec]:
    specs = []
    for path, rel in _walk(root):
        step = _step_of(rel, _VERL_DUMP)
        if step is not None:
            mode = "eval" if any("val" in part for part in rel.split(os.sep)[:-1]) else "train"
            specs.append(Spec(path, "whole", partial(_verl_dump, step=step, mode=mode)))
        elif rel.endswith(".jsonl"):
            specs.append(Spec(path, "lines", _verl_metrics))
    return specs


def _verl_metrics(line: Any) -> Iterator[Record]:
    if isinstance(line, Mapping) and isinstance(line.get("step"), int) and isinstance(line.get("data"), Mapping):
        yield Scalars(line["step"], numbers(line["data"]))


_VERL_FIXED = ("input", "output", "gts", "score", "step")


def _verl_dump(path: str, step: int, mode: str) -> Iterator[Record]:
    for line in _json_lines(path):
        if not isinstance(line, Mapping) or "input" not in line:
            continue
        prompt = _conv.text_of(line.get("input"))
        rewards = {"score": _conv.number(line.get("score"))}
        meta: dict[str, Any] = {}
        if line.get("gts") is not None:
            meta["ground_truth"] = _conv.plain(line["gts"])
        for k, v in line.items():
            if k in _VERL_FIXED:
                continue
            if isinstance(v, (int, float)) or v is None:
                rewards[k] = _conv.number(v)
            else:
                meta[k] = _conv.plain(v)
        s = line["step"] if isinstance(line.get("step"), int) else step
        msgs = [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": _conv.text_of(line.get("output"))},
        ]
        yield Rollout(prompt, msgs, rewards, s, mode, meta)


# --- prime-rl ---------------------------------------------------------------------------------------

_PRIME_TRACES = re.compile(r"(?:^|/)rollouts/step_(\d+)/(train|eval)/(\w+)/traces\.jsonl$")


def prime_rl(root: str, subset: str = "effective") -> list[Spec]:
    specs = []
    for path, rel in _walk(root):
        m = _PRIME_TRACES.search(rel.replace(os.sep, "/"))
        if m:
            step, kind, sub = int(m.group(1)), m.group(2), m.group(3)
            # Training writes "all" as episodes finish and "effective" (what was trained on) at the end:
            # one of them, or every episode would come twice. Evaluation has no such split.
            if kind == "train" and sub != subset:
                continue
            specs.append(Spec(path, "lines", partial(_prime_episode, step=step, kind=kind)))
        elif os.path.basename(rel) == "metrics.jsonl":
            specs.append(Spec(path, "lines", _prime_metrics))
    return specs


def _prime_metrics(line: Any) -> Iterator[Record]:
    if isinstance(line, Mapping) and isinstance(line.get("step"), int):
        yield Scalars(line["step"], numbers({k: v for k, v in line.items() if k not in ("step", "time")}))


def prime_episode_rollout(record: Mapping[str, Any], step: int, mode: str) -> Rollout | None:
    """A verifiers `Episode.to_record()` as a rollout: the trainable trace's conversation (root to its last
    message), each named reward's score, the problem id as group, the rest as metadata."""
    traces = [t for t in record.get("traces") or [] if isinstance(t, Mapping)]
    trace = next((t for t in traces if (t.get("agent") or {}).get("trainable", True)), traces[0] if traces else None)
    task = record.get("task") or {}
    meta: dict[str, Any] = {"episode": record.get("id"), "ok": record.get("ok")}
    problem = task.get("key") or task.get("hash") or (record.get("group") or {}).get("id")
    env = (record.get("env") or {}).get("id")
    if env:
        meta["env"] = env
    if record.get("errors"):
        meta["errors"] = [e.get("message") for e in record["errors"] if isinstance(e, Mapping)]
    if trace is None:
        return None
    nodes = [n for n in trace.get("nodes") or [] if isinstance(n, Mapping)]
    path: list[Mapping[str, Any]] = []
    i: int | None = len(nodes) - 1 if nodes else None
    while i is not None and 0 <= i < len(nodes) and len(path) <= len(nodes):
        path.append(nodes[i])
        p = nodes[i].get("parent")
        i = p if isinstance(p, int) else None
    path.reverse()
    msgs = [_verifiers_message(n.get("message") or {}) for n in path]
    out_tokens = sum(sum(1 for m in n.get("mask") or [] if m) for n in path)
    if out_tokens:
        meta["completion_tokens"] = out_tokens
    info = trace.get("info") or {}
    if "advantage" in info:
        meta["advantage"] = _conv.plain(info["advantage"])
    if trace.get("stop_condition"):
        meta["stop_condition"] = trace["stop_condition"]
    metrics = numbers(trace.get("metrics") or {})
    if metrics:
        meta["metrics"] = metrics
    rewards = {}
    for name, r in (trace.get("rewards") or {}).items():
        rewards[str(name)] = _conv.number(r.get("score") if isinstance(r, Mapping) else r)
    prompt_conv = [m for m in msgs if m["role"] != "assistant"][:2] or msgs[:1]
    prompt = _conv.prompt_of(prompt_conv, _conv.text_of((task.get("data") or {}).get("prompt")))
    return Rollout(prompt, msgs, rewards, step, mode, meta, _group_id(problem))


def _verifiers_message(m: Mapping[str, Any]) -> dict[str, Any]:
    """A verifiers message: reasoning_content folded into <think>, its tool calls in the OpenAI shape."""
    out = _conv.message({k: v for k, v in m.items() if k not in ("reasoning_content", "tool_calls", "provider_state")})
    if m.get("reasoning_content"):
        out["content"] = f"<think>{m['reasoning_content']}</think>{out['content'] or ''}"
    calls = m.get("tool_calls")
    if calls:
        out["tool_calls"] = [
            {
                "id": c.get("id"),
                "type": "function",
                "function": {"name": c.get("name"), "arguments": c.get("arguments")},
            }
            for c in calls
            if isinstance(c, Mapping)
        ]
        if not out["content"]:
            out["content"] = None
    return out


def _prime_episode(line: Any, step: int, kind: str) -> Iterator[Record]:
    if isinstance(line, Mapping):
        r = prime_episode_rollout(line, step, "eval" if kind == "eval" else "train")
        if r is not None:
            yield r


# --- art --------------------------------------------------------------------------------------------

_ART_TRAJ = re.compile(r"(?:^|/)trajectories/([^/]+)/(\d+)\.parquet$")


def art(root: str) -> list[Spec]:
    specs = []
    for path, rel in _walk(root):
        m = _ART_TRAJ.search(rel.replace(os.sep, "/"))
        if m:
            mode, step = ("eval" if m.group(1) == "val" else m.group(1)), int(m.group(2))
            specs.append(Spec(path, "whole", partial(_art_trajectories, step=step, mode=mode)))
        elif os.path.basename(rel) == "history.jsonl":
            specs.append(Spec(path, "lines", _art_history))
    return specs


def _art_history(line: Any) -> Iterator[Record]:
    if not isinstance(line, Mapping) or not isinstance(line.get("step"), int):
        return
    ms = numbers({k: v for k, v in line.items() if k not in ("step", "recorded_at")})
    ms = {("eval/" + k[4:] if k.startswith("val/") else k): v for k, v in ms.items()}
    yield Scalars(line["step"], ms)


def _art_trajectories(path: str, step: int, mode: str) -> Iterator[Record]:
    import pyarrow.parquet as pq

    for row in pq.read_table(path).to_pylist():
        msgs = []
        first_trainable = None
        for i, m in enumerate(row.get("messages") or []):
            msg: dict[str, Any] = {"role": m.get("role") or "assistant", "content": m.get("content")}
            if m.get("tool_calls"):
                msg["tool_calls"] = json.loads(m["tool_calls"])
            if m.get("tool_call_id"):
                msg["tool_call_id"] = m["tool_call_id"]
            if msg["content"] is None and not msg.get("tool_calls"):
                msg["content"] = ""
            if m.get("trainable") and first_trainable is None:
                first_trainable = i
            msgs.append(msg)
        before = msgs[:first_trainable] if first_trainable is not None else msgs
        rewards = {"reward": _conv.number(row.get("reward"))}
        metrics = json.loads(row["metrics"]) if row.get("metrics") else {}
        rewards.update({k: v for k, v in numbers(metrics).items() if k != "reward"})
        meta: dict[str, Any] = {}
        for k in ("metadata", "group_metadata"):
            if row.get(k):
                meta[k] = json.loads(row[k])
        if row.get("logs"):
            meta["logs"] = row["logs"]
        yield Rollout(_conv.prompt_of(before), msgs, rewards, step, mode, meta, _group_id(row.get("group_index")))


# --- nemo-rl ----------------------------------------------------------------------------------------

_NEMO = re.compile(r"(?:^|/)(train|val)_data_step(\d+)\.jsonl$")
_ASSISTANT_MARKERS = (
    "<|im_start|>assistant",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<|assistant|>",
    "[/INST]",
    "<start_of_turn>model",
)


def nemo_rl(root: str) -> list[Spec]:
    specs = []
    for path, rel in _walk(root):
        m = _NEMO.search(rel.replace(os.sep, "/"))
        if m:
            mode, step = ("eval" if m.group(1) == "val" else "train"), int(m.group(2))
            specs.append(Spec(path, "whole", partial(_nemo_file, step=step, mode=mode)))
    return specs


def _one(v: Any) -> Any:
    """A field of one sample of `make_microbatch_iterator(1)`: a list of one."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def _nemo_file(path: str, step: int, mode: str) -> Iterator[Record]:
    for line in _json_lines(path):
        if not isinstance(line, Mapping) or "content" not in line:
            continue
        content = _one(line["content"])
        if isinstance(content, list):  # validation: the message log
            msgs = [_conv.message(m, "assistant") for m in content if isinstance(m, Mapping)]
            prompt = _conv.prompt_of([m for m in msgs if m["role"] != "assistant"])
        else:
            text = _conv.text_of(content)
            at = max((text.rfind(k) + len(k) if k in text else -1) for k in _ASSISTANT_MARKERS)
            if at > 0:
                prompt, msgs = (
                    text[:at],
                    [{"role": "user", "content": text[:at]}, {"role": "assistant", "content": text[at:]}],
                )
            else:
                prompt, msgs = "", [{"role": "assistant", "content": text}]
        rewards = {"reward": _conv.number(_one(line.get("rewards")))}
        meta: dict[str, Any] = {"sample": line.get("idx")}
        adv = _one(line.get("advantages"))
        mask = _one(line.get("token_loss_mask"))
        if isinstance(adv, list) and isinstance(mask, list):
            masked = [a for a, k in zip(adv, mask, strict=False) if k]
            if masked:
                meta["advantage"] = masked[0]
            meta["completion_tokens"] = sum(1 for k in mask if k)
        elif isinstance(adv, (int, float)):
            meta["advantage"] = adv
        if isinstance(_one(line.get("input_lengths")), int):
            meta["prompt_tokens"] = _one(line["input_lengths"])
        yield Rollout(prompt, msgs, rewards, step, mode, meta)


# --- jsonl (ours) -----------------------------------------------------------------------------------


def jsonl(root: str) -> list[Spec]:
    return [Spec(p, "lines", _generic) for p, rel in _walk(root) if rel.endswith(".jsonl")]


def _generic(line: Any) -> Iterator[Record]:
    if not isinstance(line, Mapping) or not isinstance(line.get("step"), int):
        return
    mode = line.get("mode")
    if isinstance(line.get("metrics"), Mapping):
        yield Scalars(line["step"], numbers(line["metrics"]), mode if isinstance(mode, str) else None)
    if "messages" in line or "prompt" in line:
        msgs = _conv.messages(line.get("messages") or [], "assistant")
        prompt = line.get("prompt")
        p: str | dict[str, Any] = prompt if isinstance(prompt, str) else _conv.prompt_of(msgs)
        rewards = {k: _conv.number(v) for k, v in (line.get("rewards") or {}).items()}
        meta = dict(line["metadata"]) if isinstance(line.get("metadata"), Mapping) else {}
        group = _group_id(line.get("group"))
        yield Rollout(p, msgs, rewards, line["step"], mode if isinstance(mode, str) else "train", meta, group)


def _json_lines(path: str) -> Iterator[Any]:
    with open(path, encoding="utf-8") as f:
        for raw in f:
            raw = raw.strip()
            if raw:
                try:
                    yield json.loads(raw)
                except ValueError:
                    continue


FORMATS: dict[str, Callable[[str], list[Spec]]] = {
    "trl": trl,
    "verl": verl,
    "prime-rl": prime_rl,
    "art": art,
    "nemo-rl": nemo_rl,
    "jsonl": jsonl,
}
