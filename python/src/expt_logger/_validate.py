"""Validation on the caller's thread: cheap checks that fail loudly before anything is buffered.

`log()` is called in training loops, so the common case (a float or int under a short key) must take
well under a microsecond: key splits are cached and exact-type checks come before duck typing."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_MAX_NAME = 256
_MAX_MODE = 64

# mode= value -> key -> (mode, name), a dict per mode so that log()'s loop looks a key up without
# building a (key, mode) tuple per metric. Metric keys repeat every step, so the cache stays small in
# practice; it is capped anyway (entries of every mode together) so that a caller logging unique keys
# cannot grow it without bound.
_split_cache: dict[str | None, dict[str, tuple[str, str]]] = {}
_split_cached = 0
_SPLIT_CACHE_MAX = 10_000
NO_NAMES: dict[str, tuple[str, str]] = {}  # what split_names gives for a mode= not cached yet


def split_names(mode: str | None) -> dict[str, tuple[str, str]]:
    """The cached (mode, name) of the keys already seen with this mode=, for a caller splitting many."""
    return _split_cache.get(mode, NO_NAMES)


def split_key(key: str, mode: str | None) -> tuple[str, str]:
    """Return (mode, name) for a metric key.

    The first path segment of a key is its mode; keys without a slash take `mode` or "train". With an
    explicit `mode`, a matching prefix is stripped and a different prefix keeps the whole key as name.
    """
    global _split_cached
    hit = _split_cache.get(mode, NO_NAMES).get(key)
    if hit is not None:
        return hit
    if type(key) is not str:
        raise TypeError(f"metric key {key!r} must be a str, not {type(key).__name__}")
    prefix, sep, rest = key.partition("/")
    if mode is None:
        out = (prefix, rest) if sep and prefix and rest else ("train", key)
    elif sep and prefix == mode and rest:
        out = (mode, rest)
    else:
        out = (mode, key)
    if not out[1]:
        raise ValueError(f"metric key {key!r} has an empty name")
    if len(out[1].encode()) > _MAX_NAME:
        raise ValueError(f"metric key {key!r}: name longer than {_MAX_NAME} bytes")
    if len(out[0].encode()) > _MAX_MODE:
        raise ValueError(f"metric key {key!r}: mode longer than {_MAX_MODE} bytes")
    if _split_cached < _SPLIT_CACHE_MAX:
        _split_cache.setdefault(mode, {})[key] = out
        _split_cached += 1
    return out


def check_mode(mode: Any, arg: str = "mode") -> str:
    if type(mode) is not str or not mode or "/" in mode:
        raise ValueError(f"{arg} must be a non-empty string without '/', got {mode!r}")
    if len(mode.encode()) > _MAX_MODE:
        raise ValueError(f"{arg} {mode!r} is longer than {_MAX_MODE} bytes")
    return mode


def check_group(group: Any) -> str:
    """An explicit GRPO group id: a string (an int, numpy's included, as its decimal text) of at most
    256 bytes; "" means none, the prompt text alone keying the group."""
    if isinstance(group, str):
        g = group
    elif type(group) is not bool and getattr(group, "__index__", None) is not None:
        g = str(group.__index__())  # int, numpy and torch integers
    else:
        raise TypeError(f"group must be a str or an int, not {type(group).__name__}")
    if len(g.encode("utf-8", "surrogatepass")) > _MAX_NAME:
        raise ValueError(f"group {g[:40]!r}... is longer than {_MAX_NAME} bytes")
    if "\x00" in g:
        raise ValueError(f"group {g!r} contains a NUL character")
    try:
        g.encode()
    except UnicodeEncodeError:
        raise ValueError(f"group {g!r} is not valid text (a lone surrogate)") from None
    return g


def to_float(what: str, value: Any) -> float:
    """Convert a metric value to float, accepting numpy/torch scalars by duck typing.

    Booleans are not numbers here (a logged True is almost always a bug), nor are strings or arrays
    with more than one element. `what` names the key or argument in the error message.
    """
    t = type(value)
    if t is float:
        return value  # type: ignore[no-any-return]
    if t is int:
        return float(value)
    if t is bool or isinstance(value, (str, bytes, bool)):
        raise TypeError(f"{what}: value {value!r} is a {t.__name__}, not a number")
    if isinstance(value, (int, float)):
        return float(value)
    size = getattr(value, "size", None)
    if size is not None and not callable(size) and size != 1:
        raise TypeError(f"{what}: value has {size} elements; log one number (e.g. x.mean().item())")
    numel = getattr(value, "numel", None)
    if callable(numel):
        try:
            n = numel()
        except Exception:  # an unusual object: let .item() decide
            n = 1
        if n != 1:
            raise TypeError(f"{what}: tensor has {n} elements; log one number (e.g. x.mean().item())")
    item = getattr(value, "item", None)
    if callable(item):
        try:
            got = item()
        except Exception as exc:
            raise TypeError(f"{what}: cannot convert {t.__name__} to a number: {exc}") from None
        if type(got) is bool or isinstance(got, (str, bytes)) or not isinstance(got, (int, float)):
            raise TypeError(f"{what}: value {got!r} is a {type(got).__name__}, not a number")
        return float(got)
    if hasattr(value, "__float__"):
        try:
            return float(value)
        except Exception as exc:
            raise TypeError(f"{what}: cannot convert {t.__name__} to a number: {exc}") from None
    raise TypeError(f"{what}: value {value!r} is a {t.__name__}, not a number")


def wire_number(v: float) -> float | str:
    """NaN and ±Inf travel as strings (JSON has no literal for them)."""
    if v == v and v not in (math.inf, -math.inf):
        return v
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def check_prompt(prompt: Any) -> str | dict[str, Any]:
    if type(prompt) is str:
        return prompt
    if isinstance(prompt, Mapping):
        role, content = prompt.get("role"), prompt.get("content")
        if not isinstance(role, str) or not isinstance(content, str):
            raise TypeError("prompt must be a string or a dict with string 'role' and 'content'")
        return dict(prompt)
    raise TypeError(f"prompt must be a string or a {{'role', 'content'}} dict, not {type(prompt).__name__}")


def check_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"messages must be a list of dicts, not {type(messages).__name__}")
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        if type(m) is not dict and not isinstance(m, Mapping):
            raise TypeError(f"messages[{i}] must be a dict, not {type(m).__name__}")
        role = m.get("role")
        if type(role) is not str:
            raise TypeError(f"messages[{i}]['role'] must be a string, got {role!r}")
        content = m.get("content")
        if type(content) is not str and not (content is None and m.get("tool_calls")):
            raise TypeError(
                f"messages[{i}]['content'] must be a string (or None with tool_calls), got {type(content).__name__}"
            )
        # A shallow copy: the caller may reuse and mutate its dicts after the call returns.
        out.append(dict(m))
    return out


def check_rewards(rewards: Any) -> list[dict[str, Any]]:
    """Return rewards as the wire's list of {"name", "value"} with NaN/Inf already encoded."""
    out: list[dict[str, Any]] = []
    if isinstance(rewards, Mapping):
        for name, value in rewards.items():
            if type(name) is not str or not name:
                raise TypeError(f"rewards: name {name!r} must be a non-empty string")
            out.append({"name": name, "value": wire_number(to_float(f"rewards[{name!r}]", value))})
    elif isinstance(rewards, (list, tuple)):
        for i, r in enumerate(rewards):
            if not isinstance(r, Mapping) or "name" not in r or "value" not in r:
                raise TypeError(f"rewards[{i}] must be a dict with 'name' and 'value'")
            name = r["name"]
            if type(name) is not str or not name:
                raise TypeError(f"rewards[{i}]['name'] must be a non-empty string, got {name!r}")
            out.append({"name": name, "value": wire_number(to_float(f"rewards[{i}]", r["value"]))})
    else:
        raise TypeError(
            f"rewards must be a dict name->number or a list of {{name, value}}, not {type(rewards).__name__}"
        )
    if len(out) > 1000:
        raise ValueError(f"rewards: {len(out)} rewards, at most 1000 per rollout")
    return out


def check_step(step: Any) -> int:
    if type(step) is not int:
        idx = getattr(step, "__index__", None)
        if type(step) is bool or idx is None:
            raise TypeError(f"step must be an int, not {type(step).__name__}")
        step = idx()
    if step < 0 or step > 2**53:
        raise ValueError(f"step must be between 0 and 2**53, got {step}")
    return int(step)


_PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_labels(tags: Any, notes: Any, group: Any, project: Any = None) -> dict[str, Any]:
    """init()'s tags, notes, group and project as the create request carries them (only those given)."""
    out: dict[str, Any] = {}
    if project is not None:
        if not isinstance(project, str) or not _PROJECT_NAME.fullmatch(project):
            raise ValueError(
                f"project must be a project name (letters, digits, '.', '_' and '-', at most 100), not {project!r}"
            )
        out["project"] = project
    if tags is not None:
        if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
            raise TypeError(f"tags must be a list of strings, not {tags!r}")
        out["tags"] = list(tags)
    if notes is not None:
        if not isinstance(notes, str):
            raise TypeError(f"notes must be a string, not {type(notes).__name__}")
        out["notes"] = notes
    if group is not None:
        if not isinstance(group, str):
            raise TypeError(f"group must be a string, not {type(group).__name__}")
        out["group"] = group
    return out


MAX_TOKENS_PER_ROLLOUT = 200_000
MAX_TOKEN_SERIES = 16


def _as_list(what: str, seq: Any) -> list[Any]:
    """A list from a list, tuple or array-like (numpy, torch: anything with tolist())."""
    if isinstance(seq, list):
        return seq
    if isinstance(seq, tuple):
        return list(seq)
    tolist = getattr(seq, "tolist", None)
    if callable(tolist) and not isinstance(seq, (str, bytes)):
        out = tolist()
        if isinstance(out, list):
            return out
    raise TypeError(f"{what} must be a list (or an array), not {type(seq).__name__}")


def check_tokens(tokens: Any, n_messages: int) -> list[dict[str, Any]] | None:
    """Per-message tokens as the wire's [{"message", "text", "values": {name: [numbers]}}].

    `tokens` maps a message index (negative counts from the end) to {"text": [...], name: [floats]...},
    or is a list aligned with the messages (None for a message without tokens).
    """
    if tokens is None:
        return None
    if isinstance(tokens, Mapping):
        items = list(tokens.items())
    elif isinstance(tokens, (list, tuple)):
        if len(tokens) > n_messages:
            raise ValueError(f"tokens: {len(tokens)} entries for {n_messages} messages")
        items = [(i, t) for i, t in enumerate(tokens) if t is not None]
    else:
        raise TypeError(
            f"tokens must be a dict message index -> {{'text': [...], ...}} or a list, not {type(tokens).__name__}"
        )
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    total = 0
    for key, entry in items:
        if type(key) is not int:
            raise TypeError(f"tokens: key {key!r} must be a message index (an int)")
        idx = key + n_messages if key < 0 else key
        if not 0 <= idx < n_messages:
            raise ValueError(f"tokens[{key}]: there are {n_messages} messages")
        if idx in seen:
            raise ValueError(f"tokens[{key}]: message {idx} has tokens twice")
        seen.add(idx)
        if not isinstance(entry, Mapping) or "text" not in entry:
            raise TypeError(f"tokens[{key}] must be a dict with 'text' (each token's text) and named lists of numbers")
        text = _as_list(f"tokens[{key}]['text']", entry["text"])
        for j, t in enumerate(text):
            if type(t) is not str:
                raise TypeError(f"tokens[{key}]['text'][{j}] must be a string, not {type(t).__name__}")
        total += len(text)
        if total > MAX_TOKENS_PER_ROLLOUT:
            raise ValueError(f"tokens: more than {MAX_TOKENS_PER_ROLLOUT} tokens in one rollout")
        values: dict[str, list[float | str | None]] = {}
        for name, seq in entry.items():
            if name == "text":
                continue
            if type(name) is not str or not name:
                raise TypeError(f"tokens[{key}]: value name {name!r} must be a non-empty string")
            vs = _as_list(f"tokens[{key}][{name!r}]", seq)
            if len(vs) != len(text):
                raise ValueError(f"tokens[{key}][{name!r}]: {len(vs)} values for {len(text)} tokens")
            conv: list[float | str | None] = []
            for j, v in enumerate(vs):
                conv.append(None if v is None else wire_number(to_float(f"tokens[{key}][{name!r}][{j}]", v)))
            values[name] = conv
        if len(values) > MAX_TOKEN_SERIES:
            raise ValueError(f"tokens[{key}]: {len(values)} named values, at most {MAX_TOKEN_SERIES}")
        rec: dict[str, Any] = {"message": idx, "text": list(text)}
        if values:
            rec["values"] = values
        out.append(rec)
    return out or None


MAX_METADATA_BYTES = 64 << 10
_MAX_METADATA_DEPTH = 32


def check_metadata(metadata: Any) -> dict[str, Any] | None:
    """A rollout's metadata as a plain JSON object: a copy (so later changes by the caller don't leak in),
    numpy/torch scalars and arrays as numbers and lists, NaN and infinities as the wire's strings."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict, not {type(metadata).__name__}")
    out = _plain(metadata, "metadata", 0)
    size = len(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"metadata: {size} bytes as JSON, more than {MAX_METADATA_BYTES}")
    return out  # type: ignore[no-any-return]


def _plain(v: Any, path: str, depth: int) -> Any:
    if depth > _MAX_METADATA_DEPTH:
        raise ValueError(f"{path}: nested more than {_MAX_METADATA_DEPTH} deep")
    if v is None or type(v) in (str, bool, int):
        return v
    if isinstance(v, float):
        return wire_number(float(v))
    if isinstance(v, Mapping):
        out: dict[str, Any] = {}
        for k, x in v.items():
            if type(k) is not str:
                raise TypeError(f"{path}: key {k!r} must be a str")
            out[k] = _plain(x, f"{path}[{k!r}]", depth + 1)
        return out
    if isinstance(v, (list, tuple)):
        return [_plain(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v)]
    if isinstance(v, (str, int)):  # str and int subclasses (enums)
        return str(v) if isinstance(v, str) else int(v)
    tolist = getattr(v, "tolist", None)  # numpy and torch scalars and arrays
    if callable(tolist):
        return _plain(tolist(), path, depth)
    raise TypeError(f"{path}: {type(v).__name__} is not JSON (use str, numbers, bools, None, lists and dicts)")
