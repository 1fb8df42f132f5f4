"""Step, mode, name and value semantics of log(), commit() and log_rollout(), end to end through the
spool and sender into the in-memory server."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import expt_logger

from .fake import FakeServer

Calls = Callable[[], object]
L = expt_logger.log
C = expt_logger.commit


def _init(server: FakeServer, **kw: Any) -> expt_logger.Run:
    return expt_logger.init(name="t", api_key="k", transport=server.transport(), **kw)


# (calls, expected {(mode, name, step): value}, expected run.step afterwards)
TABLE: list[tuple[str, Calls, dict[tuple[str, str, int], Any], int]] = [
    (
        "auto steps from 0",
        lambda: (L({"loss": 0.5}), L({"loss": 0.4})),
        {("train", "loss", 0): 0.5, ("train", "loss", 1): 0.4},
        2,
    ),
    (
        "slash prefix is the mode",
        lambda: L({"train/loss": 1, "eval/loss": 2}, step=10),
        {("train", "loss", 10): 1.0, ("eval", "loss", 10): 2.0},
        11,
    ),
    ("explicit mode", lambda: L({"loss": 0.5}, mode="eval"), {("eval", "loss", 0): 0.5}, 1),
    ("nested name keeps later slashes", lambda: L({"train/a/b": 3}), {("train", "a/b", 0): 3.0}, 1),
    ("matching prefix stripped", lambda: L({"eval/acc": 1}, mode="eval"), {("eval", "acc", 0): 1.0}, 1),
    ("other prefix kept whole", lambda: L({"train/acc": 1}, mode="eval"), {("eval", "train/acc", 0): 1.0}, 1),
    ("any section is a mode", lambda: L({"perf/tok_s": 9}), {("perf", "tok_s", 0): 9.0}, 1),
    (
        "commit=False accumulates at one step",
        lambda: (L({"metric_a": 1.0}, commit=False), L({"metric_b": 2.0}, commit=False), L({"metric_c": 3.0})),
        {("train", "metric_a", 0): 1.0, ("train", "metric_b", 0): 2.0, ("train", "metric_c", 0): 3.0},
        1,
    ),
    (
        "explicit step sets the next auto step",
        lambda: (L({"x": 1}, step=5), L({"x": 2})),
        {("train", "x", 5): 1.0, ("train", "x", 6): 2.0},
        7,
    ),
    (
        "top-level commit()",
        lambda: (L({"a": 1}, commit=False), C(), L({"a": 2})),
        {("train", "a", 0): 1.0, ("train", "a", 1): 2.0},
        2,
    ),
    (
        "a new step commits what was pending",
        lambda: (L({"a": 1}, commit=False), L({"b": 2}, step=3)),
        {("train", "a", 0): 1.0, ("train", "b", 3): 2.0},
        4,
    ),
    (
        "a committing call overrides a pending value",
        lambda: (L({"a": 1}, commit=False), L({"a": 2})),
        {("train", "a", 0): 2.0},
        1,
    ),
    (
        "NaN and infinities travel as strings",
        lambda: L({"n": math.nan, "p": math.inf, "m": -math.inf}),
        {("train", "n", 0): "NaN", ("train", "p", 0): "Infinity", ("train", "m", 0): "-Infinity"},
        1,
    ),
    ("ints become floats", lambda: L({"i": 3}), {("train", "i", 0): 3.0}, 1),
    ("end() commits what commit=False left", lambda: L({"a": 1}, commit=False), {("train", "a", 0): 1.0}, 0),
]


@pytest.mark.parametrize(("calls", "want", "next_step"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_log_semantics(server: FakeServer, calls: Calls, want: dict[tuple[str, str, int], Any], next_step: int) -> None:
    run = _init(server)
    calls()
    assert run.step == next_step
    assert run.end(timeout=10)
    e = server.exp(run.id)
    assert e.scalars == want
    assert e.scalar_writes == len(want)
    assert e.status == "complete"


def test_rollout_uses_current_step_and_does_not_advance(server: FakeServer) -> None:
    run = _init(server)
    L({"loss": 1.0}, step=4)
    expt_logger.log_rollout("What is 2+2?", [{"role": "assistant", "content": "4"}], {"correctness": 1.0})
    expt_logger.log_rollout(
        {"role": "user", "content": "Solve"},
        [
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "function": {"name": "calc"}}]},
            {"role": "tool", "content": "6", "tool_call_id": "c1"},
        ],
        [{"name": "format", "value": math.nan}],
        step=9,
        mode="eval",
    )
    assert run.step == 5
    assert run.end(timeout=10)
    r1, r2 = server.exp(run.id).rollouts
    assert (r1["step"], r1["mode"], r1["promptText"]) == (5, "train", "What is 2+2?")
    assert r1["rewards"] == [{"name": "correctness", "value": 1.0}]
    assert isinstance(r1["ts"], float)
    assert (r2["step"], r2["mode"], r2["promptText"]) == (9, "eval", {"role": "user", "content": "Solve"})
    assert r2["messages"][0]["tool_calls"][0]["id"] == "c1"
    assert r2["messages"][1]["tool_call_id"] == "c1"
    assert r2["rewards"] == [{"name": "format", "value": "NaN"}]


def test_caller_mutation_after_log_rollout_does_not_leak(server: FakeServer) -> None:
    run = _init(server)
    msg = {"role": "assistant", "content": "first"}
    rewards = {"c": 1.0}
    expt_logger.log_rollout("p", [msg], rewards)
    msg["content"] = "changed"
    rewards["c"] = 0.0
    assert run.end(timeout=10)
    r = server.exp(run.id).rollouts[0]
    assert r["messages"][0]["content"] == "first"
    assert r["rewards"] == [{"name": "c", "value": 1.0}]


class Scalar0d:
    """Duck-types a numpy scalar / 0-d torch tensor: .item() and size 1."""

    size = 1

    def __init__(self, v: Any) -> None:
        self.v = v

    def item(self) -> Any:
        return self.v


class Array:
    def __init__(self, n: int) -> None:
        self.size = n

    def item(self) -> float:
        raise ValueError("can only convert an array of size 1")


class Tensor:
    def __init__(self, n: int) -> None:
        self.n = n

    def numel(self) -> int:
        return self.n

    def item(self) -> float:
        return 0.25


def test_duck_typed_scalars(server: FakeServer) -> None:
    run = _init(server)
    L({"np": Scalar0d(1.5), "torch": Tensor(1), "np_int": Scalar0d(7)})
    assert run.end(timeout=10)
    assert server.exp(run.id).scalars == {
        ("train", "np", 0): 1.5,
        ("train", "torch", 0): 0.25,
        ("train", "np_int", 0): 7.0,
    }


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (True, "bool"),
        ("0.5", "str"),
        (Array(3), "3 elements"),
        (Tensor(4), "4 elements"),
        (Scalar0d(True), "bool"),
        (None, "NoneType"),
        ([1.0], "list"),
    ],
)
def test_bad_values_raise_type_error_naming_the_key(server: FakeServer, value: Any, fragment: str) -> None:
    run = _init(server)
    with pytest.raises(TypeError, match=rf"bad_key.*{fragment}|{fragment}.*bad_key"):
        L({"ok": 1.0, "bad_key": value})
    assert run.step == 0, "a rejected call must not advance the step"
    assert run._pipeline is not None and len(run._pipeline.pending) == 0, "nothing buffered"


@pytest.mark.parametrize(
    ("kwargs", "exc", "fragment"),
    [
        ({"prompt": 3}, TypeError, "prompt"),
        ({"prompt": {"role": "user"}}, TypeError, "prompt"),
        ({"messages": "hi"}, TypeError, "messages"),
        ({"messages": [{"role": "assistant"}]}, TypeError, r"messages\[0\]\['content'\]"),
        ({"messages": [{"role": 1, "content": "x"}]}, TypeError, r"messages\[0\]\['role'\]"),
        ({"messages": ["x"]}, TypeError, r"messages\[0\]"),
        ({"rewards": 1.0}, TypeError, "rewards"),
        ({"rewards": {"c": "high"}}, TypeError, "rewards"),
        ({"rewards": [{"name": "c"}]}, TypeError, r"rewards\[0\]"),
        ({"rewards": {"c": True}}, TypeError, "rewards"),
        ({"mode": "a/b"}, ValueError, "mode"),
        ({"step": -1}, ValueError, "step"),
        ({"step": 1.5}, TypeError, "step"),
        ({"tokens": "abc"}, TypeError, "tokens"),
        ({"tokens": {1: {"text": ["a"]}}}, ValueError, r"tokens\[1\]: there are 1 messages"),
        ({"tokens": {0: {"logprob": [1.0]}}}, TypeError, r"tokens\[0\] must be a dict with 'text'"),
        (
            {"tokens": {0: {"text": ["a", "b"], "logprob": [1.0]}}},
            ValueError,
            r"tokens\[0\]\['logprob'\]: 1 values for 2",
        ),
        ({"tokens": {0: {"text": [1]}}}, TypeError, r"tokens\[0\]\['text'\]\[0\]"),
        ({"tokens": {0: {"text": ["a"], "logprob": ["x"]}}}, TypeError, r"tokens\[0\]\['logprob'\]\[0\]"),
        ({"tokens": {0: {"text": ["a"]}, -1: {"text": ["b"]}}}, ValueError, "twice"),
        ({"tokens": [None, {"text": []}]}, ValueError, "2 entries for 1 messages"),
        ({"metadata": [1]}, TypeError, "metadata must be a dict"),
        ({"metadata": {1: "x"}}, TypeError, r"metadata: key 1 must be a str"),
        ({"metadata": {"a": {"b": object()}}}, TypeError, r"metadata\['a'\]\['b'\]: object is not JSON"),
        ({"metadata": {"a": "x" * 70000}}, ValueError, "metadata: 70008 bytes as JSON, more than 65536"),
        ({"group": 1.5}, TypeError, "group must be a str or an int"),
        ({"group": True}, TypeError, "group must be a str or an int"),
        ({"group": "g" * 257}, ValueError, "group 'g+'... is longer than 256 bytes"),
        ({"group": "a\x00b"}, ValueError, "group 'a.x00b' contains a NUL"),
        ({"group": "\ud800"}, ValueError, "group .* is not valid text"),
    ],
)
def test_bad_rollouts_raise_before_buffering(
    server: FakeServer, kwargs: dict[str, Any], exc: type[Exception], fragment: str
) -> None:
    run = _init(server)
    args: dict[str, Any] = {
        "prompt": "p",
        "messages": [{"role": "assistant", "content": "x"}],
        "rewards": {"c": 1.0},
        **kwargs,
    }
    with pytest.raises(exc, match=fragment):
        expt_logger.log_rollout(**args)
    assert run._pipeline is not None and len(run._pipeline.pending) == 0


def test_bad_metrics_argument(server: FakeServer) -> None:
    _init(server)
    with pytest.raises(TypeError, match="metrics"):
        L([("a", 1.0)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="step"):
        L({"a": 1.0}, step="3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode"):
        L({"a": 1.0}, mode="")


def test_module_functions_need_init() -> None:
    with pytest.raises(RuntimeError, match="init"):
        L({"a": 1.0})


class _Array:
    """What numpy and torch arrays offer: tolist()."""

    def __init__(self, xs: list[float]) -> None:
        self.xs = xs

    def tolist(self) -> list[float]:
        return list(self.xs)


def test_rollout_metadata_reaches_the_wire(server: FakeServer) -> None:
    run = _init(server)
    msgs = [{"role": "assistant", "content": "4"}]
    meta: dict[str, Any] = {
        "sample": 3,
        "model_version": "step-40",
        "stop_reason": "length",
        "tokens": {"prompt": 212, "completion": _Array([4096.0])},
        "kl": math.nan,
        "ok": True,
        "path": ("a", None),
    }
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0}, metadata=meta)
    meta["sample"] = 4  # a later change by the caller is not what was logged
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0})
    assert run.end(timeout=10)
    a, b = server.exp(run.id).rollouts
    assert a["metadata"] == {
        "sample": 3,
        "model_version": "step-40",
        "stop_reason": "length",
        "tokens": {"prompt": 212, "completion": [4096.0]},
        "kl": "NaN",
        "ok": True,
        "path": ["a", None],
    }
    assert list(a["metadata"]) == ["sample", "model_version", "stop_reason", "tokens", "kl", "ok", "path"]
    assert "metadata" not in b


def test_rollout_tokens_reach_the_wire(server: FakeServer) -> None:
    run = _init(server)
    msgs = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>hm</think>4"}]
    tokens = {
        "text": ["<think>", "hm", "</think>", "4"],
        "logprob": _Array([-0.1, -2.0, math.nan, 0.0]),
        "entropy": (0.5, 1, 0, None),
    }
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0}, tokens={-1: tokens})
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0}, tokens=[None, {"text": ("4",)}])
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0})
    assert run.end(timeout=10)
    a, b, c = server.exp(run.id).rollouts
    assert a["tokens"] == [
        {
            "message": 1,
            "text": ["<think>", "hm", "</think>", "4"],
            "values": {"logprob": [-0.1, -2.0, "NaN", 0.0], "entropy": [0.5, 1.0, 0.0, None]},
        }
    ]
    assert b["tokens"] == [{"message": 1, "text": ["4"]}]
    assert "tokens" not in c


def test_rollout_group_reaches_the_wire(server: FakeServer) -> None:
    run = _init(server)
    msgs = [{"role": "assistant", "content": "4"}]
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0}, group="prompt-7/round-2")
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0}, group=_Index(17))
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0}, group="")
    expt_logger.log_rollout("2+2?", msgs, {"c": 1.0})
    assert run.end(timeout=10)
    a, b, c, d = server.exp(run.id).rollouts
    assert (a["group"], b["group"]) == ("prompt-7/round-2", "17")
    assert "group" not in c and "group" not in d


class _Index:
    """What numpy and torch integers offer: __index__()."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __index__(self) -> int:
        return self.v


def test_scalar_spool_lines_are_the_wire_json() -> None:
    """The fast scalar encoder writes what json.dumps of the wire object would, value for value."""
    import json as _json

    from expt_logger._records import SCALAR, encode_scalar
    from expt_logger._validate import wire_number

    names = ["loss", 'q"uote', "back\\\\slash", "é/ü 😀", "tab\\there", "reward/mean"]
    values: list[Any] = [0.1, 1e-300, 3e-6, -0.0, 1.0, 2.5e20, math.nan, math.inf, -math.inf, 7, 1e308]
    for i, name in enumerate(names):
        for v in values:
            item = (SCALAR, 12 + i, "train" if i % 2 else 'ev"al', name, v, 1733.1234567891)
            got = _json.loads(encode_scalar(item))
            want = {"step": 12 + i, "mode": item[2], "name": name, "value": wire_number(v), "ts": round(item[5], 6)}
            assert got == want or (v != v and got["value"] == "NaN" and {**got, "value": 0} == {**want, "value": 0})
            assert list(got) == ["step", "mode", "name", "value", "ts"]
