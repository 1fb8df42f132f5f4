"""TRL's completions as rollouts: from a trainer's `_logs` and from its `completions_{step}.parquet` files.

Shared by the callback and the watcher; pyarrow is imported only to read a parquet file."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _conv


@dataclass
class Row:
    prompt: str | dict[str, Any]
    messages: list[dict[str, Any]]
    rewards: dict[str, float]
    metadata: dict[str, Any] = field(default_factory=dict)


def row(
    prompt: Any,
    completion: Any,
    rewards: Mapping[str, Any],
    advantage: Any,
    extra: Mapping[str, Any],
    index: int,
    group: int | None,
) -> Row:
    conv = _conv.messages(prompt, "user")
    msgs = conv + _conv.messages(completion, "assistant")
    r = {name: _conv.number(v) for name, v in rewards.items()}
    meta: dict[str, Any] = {}
    if advantage is not None:
        meta["advantage"] = _conv.number(advantage)
    if group:
        meta["group"], meta["sample"] = index // group, index % group
    for k, v in extra.items():
        meta.setdefault(str(k), _conv.plain(v))
    logged: str | dict[str, Any]
    if isinstance(prompt, str):
        logged = prompt
    else:
        logged = _conv.prompt_of(conv, _conv.text_of(conv[-1]["content"]) if conv else "")
    return Row(logged, msgs, r, meta)


def log_keys(logs: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """What tells a TRL trainer's held completions apart, without converting them: the objects themselves
    (a tuple compares its items by identity first, so the entries still held compare at once)."""
    prompts, completions = list(logs.get("prompt", ())), list(logs.get("completion", ()))
    advantages = list(logs.get("advantages", ()))
    n = min(len(prompts), len(completions))
    adv = advantages[len(advantages) - n :] if len(advantages) >= n else [None] * n
    return list(zip(prompts[len(prompts) - n :], completions[len(completions) - n :], adv, strict=True))


def rows_from_logs(logs: Mapping[str, Any], group: int | None, start: int = 0) -> list[Row]:
    """The completions a TRL trainer holds: `prompt`, `completion`, `rewards[name]`, `advantages`, `extra`;
    from the `start`th on (the new ones)."""
    prompts, completions = list(logs.get("prompt", ())), list(logs.get("completion", ()))
    n = min(len(prompts), len(completions))
    rewards = {name: list(v) for name, v in dict(logs.get("rewards", {})).items()}
    advantages = list(logs.get("advantages", ()))
    extra = {name: list(v) for name, v in dict(logs.get("extra", {})).items()}
    # The deques fill together; if one is shorter, the newest entries line up at the end.
    out = []
    for i in range(max(start, 0), n):

        def at(xs: list[Any], i: int = i) -> Any:
            j = len(xs) - n + i
            return xs[j] if 0 <= j < len(xs) else None

        out.append(
            row(
                prompts[len(prompts) - n + i],
                completions[len(completions) - n + i],
                {k: at(v) for k, v in rewards.items()},
                at(advantages) if advantages else None,
                {k: at(v) for k, v in extra.items() if at(v) is not None},
                i,
                group,
            )
        )
    return out


def new_since(seen: list[tuple[Any, ...]], now: list[tuple[Any, ...]]) -> int:
    """How many of `now` (a bounded deque's contents, oldest first) were added since it held `seen`: the
    longest end of `seen` that `now` starts with is what is still there."""
    if now == seen:
        return 0
    if not seen or not now:
        return len(now)
    first = now[0]
    for k in range(min(len(seen), len(now)), 0, -1):
        if seen[-k] == first and seen[-k:] == now[:k]:
            return len(now) - k
    return len(now)


_COMPLETIONS = re.compile(r"^completions_(\d+)\.parquet$")


def completion_files(output_dir: str) -> list[tuple[str, int]]:
    """TRL's completions files under output_dir, oldest step first, with their step."""
    d = os.path.join(output_dir, "completions")
    try:
        names = os.listdir(d)
    except OSError:
        return []
    out = [(os.path.join(d, n), int(m.group(1))) for n in names if (m := _COMPLETIONS.match(n))]
    return sorted(out, key=lambda x: x[1])


# Columns of TRL's table that are not a reward function's.
_NOT_REWARDS = {"step", "prompt", "completion", "advantage", "image"}


def rows_from_parquet(path: str, group: int | None) -> Iterator[Row]:
    """One TRL completions file: step, prompt, completion, a column per reward function (and extra
    columns from log_extra, told apart only by not being numbers), advantage."""
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ImportError("reading TRL's completions files needs pyarrow: pip install pyarrow") from e
    table = pq.read_table(path)
    cols = {name: table.column(name).to_pylist() for name in table.column_names}
    n = table.num_rows
    numeric = [name for name in cols if name not in _NOT_REWARDS and _is_number_column(table, name)]  # in order
    for i in range(n):
        yield row(
            cols["prompt"][i],
            cols["completion"][i],
            {k: cols[k][i] for k in numeric},
            cols["advantage"][i] if "advantage" in cols else None,
            {k: cols[k][i] for k in cols if k not in _NOT_REWARDS and k not in numeric and cols[k][i] is not None},
            i,
            group,
        )


def _is_number_column(table: Any, name: str) -> bool:
    import pyarrow as pa

    t = table.schema.field(name).type
    return bool(pa.types.is_floating(t) or pa.types.is_integer(t))
