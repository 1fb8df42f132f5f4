"""Turning what frameworks hold (strings, chat message lists, content blocks, tensors) into log_rollout's
prompt, messages and metadata."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def text_of(content: Any) -> str:
    """A message's content as text: a string as is, content blocks joined (an image as "[image]")."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for block in content:
            if isinstance(block, Mapping):
                kind = block.get("type")
                if kind == "text" or "text" in block:
                    parts.append(str(block.get("text", "")))
                else:
                    parts.append(f"[{kind or 'block'}]")
            else:
                parts.append(str(block))
        return "".join(parts)
    return str(content)


def message(m: Any, role: str = "assistant") -> dict[str, Any]:
    """One chat message as the server takes it: a string role and string content, other keys kept."""
    if not isinstance(m, Mapping):
        return {"role": role, "content": text_of(m)}
    out = {str(k): plain(v) for k, v in m.items() if k not in ("role", "content")}
    out["role"] = str(m.get("role") or role)
    content = m.get("content")
    out["content"] = None if content is None and out.get("tool_calls") else text_of(content)
    return {"role": out.pop("role"), "content": out.pop("content"), **out}


def messages(x: Any, role: str) -> list[dict[str, Any]]:
    """A conversation (a list of messages), one message, or plain text said by `role`."""
    if isinstance(x, str):
        return [{"role": role, "content": x}]
    if isinstance(x, Mapping):
        return [message(x, role)]
    if isinstance(x, Sequence):
        return [message(m, role) for m in x]
    return [{"role": role, "content": text_of(x)}]


def prompt_of(conversation: list[dict[str, Any]], fallback: str = "") -> str | dict[str, Any]:
    """The prompt a group is keyed by: the last user message of the prompt's conversation."""
    for m in reversed(conversation):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return dict(m)
    last: Any = conversation[-1].get("content") if conversation else None
    return str(last) if isinstance(last, str) else fallback


def plain(v: Any) -> Any:
    """A JSON value for anything a framework hands over: numpy/torch values as numbers and lists."""
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    tolist = getattr(v, "tolist", None)
    if callable(tolist):
        return plain(tolist())
    return str(v)


def number(v: Any) -> float:
    """A reward or advantage as a float; None (a reward function that did not apply) is NaN."""
    if v is None:
        return math.nan
    tolist = getattr(v, "tolist", None)
    if callable(tolist):
        v = tolist()
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan
