"""The framework-free parts of the integrations: conversions, and finding a bounded deque's new entries."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from expt_logger.integrations import _conv
from expt_logger.integrations._trl_rows import log_keys, new_since, rows_from_logs


class _Tensor:
    def __init__(self, v: object) -> None:
        self.v = v

    def tolist(self) -> object:
        return self.v


def test_messages_from_what_frameworks_hold() -> None:
    assert _conv.messages("2+2?", "user") == [{"role": "user", "content": "2+2?"}]
    blocks = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what is this?"}]}]
    assert _conv.messages(blocks, "user") == [{"role": "user", "content": "[image]what is this?"}]
    call = {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}
    assert _conv.message(call) == call
    assert _conv.message({"content": "hi", "name": _Tensor("n")}) == {"role": "assistant", "content": "hi", "name": "n"}
    assert _conv.prompt_of([{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]) == {
        "role": "user",
        "content": "q",
    }
    assert math.isnan(_conv.number(None)) and math.isnan(_conv.number("high"))
    assert _conv.number(3) == 3.0 and _conv.number(_Tensor(2.5)) == 2.5


def test_new_entries_of_a_bounded_deque() -> None:
    d: deque[int] = deque(maxlen=8)
    seen: list[int] = []
    got: list[int] = []
    for batch in ([1, 2, 3], [4, 5, 6, 7, 8], [9, 10], list(range(11, 30)), [], [30]):
        d.extend(batch)
        now = list(d)
        n = new_since(seen, now)  # type: ignore[arg-type]
        got.extend(now[len(now) - n :])
        seen = now
    # Entries pushed out before anyone looked are lost (the deque never held them all); the rest once each.
    assert got == [*range(1, 11), *range(22, 31)]
    assert new_since([(1,), (2,)], [(1,), (2,)]) == 0


def test_rows_from_trl_logs_keep_groups_rewards_and_advantages() -> None:
    logs = {
        "prompt": deque([[{"role": "user", "content": f"q{i // 4}"}] for i in range(8)]),
        "completion": deque([[{"role": "assistant", "content": f"a{i}"}] for i in range(8)]),
        "rewards": {"acc": deque([1.0, 0.0, math.nan, 1.0] * 2), "fmt": deque([0.5] * 8)},
        "advantages": deque([0.5, -0.5, 0.0, 0.5] * 2),
        "extra": {"judge": deque(["ok"] * 8)},
    }
    rows = rows_from_logs(logs, 4)
    assert [r.metadata["group"] for r in rows] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [r.metadata["sample"] for r in rows] == [0, 1, 2, 3] * 2
    assert rows[5].prompt == {"role": "user", "content": "q1"}
    assert rows[5].messages == [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a5"}]
    assert list(rows[2].rewards) == ["acc", "fmt"] and math.isnan(rows[2].rewards["acc"])
    assert rows[1].metadata == {"advantage": -0.5, "group": 0, "sample": 1, "judge": "ok"}
    keys = log_keys(logs)
    assert len(keys) == 8 and all(keys[i] != keys[j] for i in range(8) for j in range(i))
    assert rows_from_logs(logs, 4, start=6) == rows[6:]


def test_prime_rl_monitor_logs_metrics_and_effective_episodes(server: Any) -> None:
    import asyncio

    from expt_logger.integrations.prime_rl import ExptLoggerMonitor
    from tests.integration import dumps

    class Episode:  # what verifiers' Episode offers the monitor
        def __init__(self, record: dict[str, Any]) -> None:
            self.record = record

        def to_record(self) -> dict[str, Any]:
            return self.record

    m = ExptLoggerMonitor(name="prime", api_key="k", transport=server.transport())

    async def go() -> None:
        await m.init()
        await m.log({"reward/mean": 0.5, "perf/tps": 10, "note": "x"}, step=1)
        eps = [Episode(dumps.prime_episode(1, p, s)) for p in range(2) for s in range(2)]
        await m.log(eps, step=1, kind="train", subset="all")  # skipped: "effective" follows
        await m.log(eps, step=1, kind="train", subset="effective")
        await m.log([dumps.prime_episode(1, 0, 0, "eval")], step=1, kind="eval", subset="all")
        await m.finalize()

    asyncio.run(go())
    exp = server.exp()
    assert [(r["step"], r["mode"]) for r in exp.rollouts] == [(1, "train")] * 4 + [(1, "eval")]
    assert exp.rollouts[0]["group"] == "problem-0" and "group" not in exp.rollouts[0]["metadata"]
    assert set(exp.scalars) == {("reward", "mean", 1), ("perf", "tps", 1)}
