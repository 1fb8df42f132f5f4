"""The kinds of record a run logs, in one table: how each is queued, kept in the spool, batched and sent.

A queued item is a tuple whose first element is its Kind. In the spool, a scalar is its wire object as
is and every other kind is wrapped as {"<tag>": <wire object>}, so that spools written by earlier
versions read the same. A new kind of record (system metrics, an integration's own) is one row here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._validate import wire_number
from ._warn import warn_once

# Request sizes: the original client's for rollouts, and well under the server's limits.
MAX_ROLLOUT_BATCH_BYTES = 1_000_000
MAX_SCALARS_PER_BATCH = 100_000
MAX_ROLLOUTS_PER_BATCH = 10_000


@dataclass(frozen=True, eq=False)
class Kind:
    endpoint: str  # POST /api/experiments/{id}/<endpoint>, and the key of the batch body's list
    key: str  # the Idempotency-Key suffix of its batches
    wrap: bytes  # the spool line's prefix; b"" for the wire object as is
    encode: Callable[[tuple[Any, ...]], bytes]  # a queued item -> its spool line
    ts: Callable[[tuple[Any, ...]], float]  # a queued item's client time
    max_items: int  # per batch
    max_bytes: int  # per batch body; 0 for no bound but max_items

    def wire(self, line: bytes) -> bytes:
        """The wire object of one of this kind's spool lines."""
        return line[len(self.wrap) : -1] if self.wrap else line

    def step(self, line: bytes) -> int:
        """The step of a spool line; -1 when it cannot be read."""
        try:
            step = json.loads(self.wire(line)).get("step", -1)
        except (ValueError, AttributeError):
            return -1
        return step if isinstance(step, int) else -1


# The JSON of each (mode, name) between "step" and "value", made once: a scalar's spool line is then
# one %-format instead of a json.dumps of a dict, which was most of the SDK's background CPU.
_scalar_keys: dict[tuple[str, str], str] = {}
_SCALAR_KEYS_MAX = 10_000
_INF, _NINF = math.inf, -math.inf


def encode_scalar(item: tuple[Any, ...]) -> bytes:
    _, step, mode, name, value, ts = item
    mid = _scalar_keys.get((mode, name))
    if mid is None:
        mid = ',"mode":' + json.dumps(mode) + ',"name":' + json.dumps(name) + ',"value":'
        if len(_scalar_keys) < _SCALAR_KEYS_MAX:
            _scalar_keys[(mode, name)] = mid
    if type(value) is float and value == value and value != _INF and value != _NINF:
        v = repr(value)  # what json.dumps writes for a float
    elif type(value) is int:
        v = str(value)
    else:
        v = json.dumps(wire_number(value))
    return f'{{"step":{step:d}{mid}{v},"ts":{round(ts, 6)!r}}}'.encode()


def _default(o: Any) -> str:
    warn_once(f"nonjson:{type(o).__name__}", f"a {type(o).__name__} in a rollout is not JSON; sent as str()")
    return str(o)


def _finite(o: Any) -> Any:
    if isinstance(o, float):
        return wire_number(o)
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def encode_rollout(item: tuple[Any, ...]) -> bytes:
    r = item[1]
    try:
        text = json.dumps(r, separators=(",", ":"), ensure_ascii=False, default=_default, allow_nan=False)
    except ValueError:  # a NaN/Inf somewhere in a message's extra keys: the wire spells them as strings
        text = json.dumps(_finite(r), separators=(",", ":"), ensure_ascii=False, default=_default)
    return ROLLOUT.wrap + text.encode() + b"}"


# (SCALAR, step, mode, name, value, ts)
SCALAR = Kind("scalars", "s", b"", encode_scalar, lambda it: it[5], MAX_SCALARS_PER_BATCH, 0)
# (ROLLOUT, the rollout's wire dict)
ROLLOUT = Kind(
    "rollouts", "r", b'{"r":', encode_rollout, lambda it: it[1]["ts"], MAX_ROLLOUTS_PER_BATCH, MAX_ROLLOUT_BATCH_BYTES
)

# Every kind, in the order a segment's batches are sent.
KINDS: tuple[Kind, ...] = (SCALAR, ROLLOUT)
_WRAPPED = tuple(k for k in KINDS if k.wrap)
_UNWRAPPED = next(k for k in KINDS if not k.wrap)


def kind_of(line: bytes) -> Kind:
    """The kind of a spool line."""
    for k in _WRAPPED:
        if line.startswith(k.wrap):
            return k
    return _UNWRAPPED
