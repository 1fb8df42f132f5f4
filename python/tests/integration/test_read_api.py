"""The read API and the exports against the real binary, on SQLite and on PostgreSQL: log through the SDK,
read back through `expt_logger.Api` and through every export format with pyarrow, pandas, polars and DuckDB,
and every value is what was logged (NaN and ±Infinity included), never sampled."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

import expt_logger
from expt_logger import Api, NotFoundError

from . import dumps
from .server import ExptServer

SPECIAL = [math.nan, math.inf, -math.inf]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _log_run(
    srv: ExptServer, name: str = "grpo-math", project: str | None = None
) -> tuple[str, dict[Any, float], list[dict[str, Any]]]:
    """A run with three metrics over 300 steps (one only every 10th step, eval every 50th, NaN and ±inf
    among them) and 48 rollouts of 5-8 KB: reasoning, LaTeX, code, a tool call, metadata, two groups."""
    rng = random.Random(7)
    run = expt_logger.init(
        name=name,
        config={"lr": 3e-6, "opt": {"name": "adam"}},
        api_key=srv.key,
        base_url=srv.url,
        project=project,
        system_metrics=False,
    )
    points: dict[Any, float] = {}
    for step in range(300):
        m = {"train/loss": rng.gauss(1, 0.1), "train/kl": rng.random() * 1e-3}
        if step % 10 == 0:
            m["train/grad_norm"] = rng.random()
        if step in (17, 18, 19):
            m["train/loss"] = SPECIAL[step - 17]
        if step % 50 == 0:
            m["eval/acc"] = rng.random()
        expt_logger.log(m, step=step)
        for k, v in m.items():
            mode, name_ = k.split("/", 1)
            points[(mode, name_, step)] = v
    rollouts = []
    for step in (0, 100):
        for p in range(3):
            for i in range(8):
                text = dumps.completion(p, i, step)
                msgs: list[dict[str, Any]] = [{"role": "user", "content": dumps.PROBLEMS[p][0]}]
                if i == 0:
                    msgs.append(
                        {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "c1",
                                    "type": "function",
                                    "function": {"name": "python", "arguments": '{"code": "print(1/3)"}'},
                                }
                            ],
                        }
                    )
                    msgs.append({"role": "tool", "tool_call_id": "c1", "content": "0.333"})
                msgs.append({"role": "assistant", "content": text})
                rewards: dict[str, float] = {"correct": float(i % 2), "format": 1.0}
                if i == 3:
                    rewards["correct"] = SPECIAL[p]
                if i != 5:  # one rollout a group has no length reward
                    rewards["length"] = float(len(text))
                expt_logger.log_rollout(
                    dumps.PROBLEMS[p][0],
                    msgs,
                    rewards,
                    step=step,
                    group=f"g{i // 4}",
                    metadata={"sample": i, "stop": "eos"},
                )
                rollouts.append(
                    {
                        "step": step,
                        "prompt": dumps.PROBLEMS[p][0],
                        "messages": msgs,
                        "rewards": rewards,
                        "group": f"g{i // 4}",
                        "metadata": {"sample": i, "stop": "eos"},
                    }
                )
    assert run.end(timeout=60)
    return run.id, points, rollouts


def _sql(q: str) -> duckdb.DuckDBPyRelation:
    rel = duckdb.sql(q)
    assert rel is not None
    return rel


def _check_long(rows: list[tuple[str, str, int, float]], points: dict[Any, float], what: str) -> None:
    got = {(mode, name, step): v for mode, name, step, v in rows}
    assert len(rows) == len(points) == len(got), what
    for k, v in points.items():
        assert same(got[k], v), f"{what}: {k} = {got[k]}, logged {v}"


def _check_rollouts(rows: list[dict[str, Any]], logged: list[dict[str, Any]], what: str) -> None:
    assert len(rows) == len(logged), what
    for got, want in zip(rows, logged, strict=True):
        msgs = got["messages"] if isinstance(got["messages"], list) else json.loads(got["messages"])
        assert msgs == want["messages"], what
        assert (got["step"], got["prompt"], got["group"]) == (want["step"], want["prompt"], want["group"]), what
        meta = got["metadata"] if isinstance(got["metadata"], dict) else json.loads(got["metadata"])
        assert meta == want["metadata"], what
        for name in ("correct", "format", "length"):
            v = got[f"reward/{name}"]
            if name not in want["rewards"]:
                assert v is None or (isinstance(v, float) and math.isnan(v) and what.startswith("pandas")), (what, v)
            else:
                assert same(float(v), want["rewards"][name]), (what, name, v, want["rewards"][name])


def test_exports_round_trip_in_every_format(store_server: ExptServer, tmp_path: Path) -> None:
    srv = store_server
    eid, points, logged = _log_run(srv)
    exp = Api(api_key=srv.key, base_url=srv.url).experiment(eid)
    for fmt in ("parquet", "csv", "jsonl"):
        scalars, rollouts = exp.download(tmp_path / fmt, format=fmt)
        assert scalars.name == f"scalars.{fmt}" and rollouts.name == f"rollouts.{fmt}"
        # DuckDB reads every format.
        reader = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}[fmt]
        if fmt == "jsonl":  # the wire's "NaN"/"Infinity" strings: DuckDB casts them to DOUBLE
            cols = "{experiment: 'VARCHAR', step: 'BIGINT', mode: 'VARCHAR', name: 'VARCHAR', value: 'VARCHAR'}"
            q = f"SELECT mode, name, step, CAST(value AS DOUBLE) FROM read_json('{scalars}', columns={cols})"
        else:
            q = f"SELECT mode, name, step, value FROM {reader}('{scalars}')"
        _check_long(_sql(q).fetchall(), points, f"duckdb {fmt}")
        # pandas reads every format.
        if fmt == "parquet":
            df = pd.read_parquet(scalars)
        elif fmt == "csv":
            df = pd.read_csv(scalars)
        else:
            df = pd.read_json(scalars, lines=True, dtype={"value": object}, precise_float=True)
            df["value"] = df["value"].map(expt_logger._api.number).astype(float)
        assert (df["experiment"] == eid).all()
        _check_long(list(zip(df["mode"], df["name"], df["step"], df["value"], strict=True)), points, f"pandas {fmt}")
        # Rollouts: messages exactly as logged, a column per reward, null where a rollout lacks one.
        if fmt == "parquet":
            rows = pq.read_table(rollouts).to_pylist()
            assert pq.ParquetFile(rollouts).schema_arrow.names[:7] == [
                "experiment",
                "id",
                "step",
                "mode",
                "group",
                "prompt",
                "messages",
            ]
        elif fmt == "csv":
            rel = _sql(f"SELECT * FROM read_csv('{rollouts}', all_varchar=true)")
            rows = [dict(zip(rel.columns, t, strict=True)) for t in rel.fetchall()]
            for r in rows:
                r["step"] = int(r["step"])
                for k in list(r):
                    if k.startswith("reward/") and r[k] is not None:
                        r[k] = float(r[k])
        else:
            rows = [json.loads(line) for line in rollouts.read_text().splitlines()]
            for r in rows:
                for k in list(r):
                    if k.startswith("reward/"):
                        r[k] = expt_logger._api.number(r[k])
        _check_rollouts(rows, logged, f"{fmt} rollouts")
    # polars reads the Parquet files natively.
    pdf = pl.read_parquet(tmp_path / "parquet" / "scalars.parquet")
    _check_long(list(pdf.select("mode", "name", "step", "value").iter_rows()), points, "polars")


def test_history_is_every_point_in_each_format(store_server: ExptServer) -> None:
    srv = store_server
    eid, points, _ = _log_run(srv)
    exp = Api(api_key=srv.key, base_url=srv.url).experiment(eid)
    keys = sorted({f"{m}/{n}" for m, n, _ in points})
    want: dict[int, dict[str, float]] = {}
    for (m, n, step), v in points.items():
        want.setdefault(step, {})[f"{m}/{n}"] = v

    rows = exp.history()
    assert [r["step"] for r in rows] == sorted(want)
    for r in rows:
        got = {k: v for k, v in r.items() if k not in ("step", "ts")}
        assert set(got) == set(want[r["step"]]) and all(same(got[k], want[r["step"]][k]) for k in got)
    for df in (exp.history(format="pandas"), exp.history(format="polars").to_pandas()):
        assert list(df.columns) == ["step", "ts", *keys]
        assert len(df) == 300
        for _, row in df.iterrows():
            logged = want[int(row["step"])]
            for k in keys:
                assert same(float(row[k]), logged.get(k, math.nan)), (k, row["step"])
        assert df["train/loss"].isna().sum() == 1  # the NaN logged at step 17, nothing missing
    # Filters: keys, mode, a step range; scan_history streams the same rows.
    some = exp.history(keys=["train/grad_norm", "eval/acc"], min_step=100, max_step=200)
    assert [r["step"] for r in some] == list(range(100, 201, 10))
    assert all(set(r) - {"step", "ts"} <= {"train/grad_norm", "eval/acc"} for r in some)
    assert list(exp.scan_history(mode="eval")) == exp.history(mode="eval")
    assert len(list(exp.scan_history(mode="eval"))) == 6
    with pytest.raises(ValueError, match="keys"):
        exp.history(keys=["loss"])
    with pytest.raises(ValueError, match="format"):
        exp.history(format="csv")


def test_experiments_config_summary_and_rollouts(store_server: ExptServer, tmp_path: Path) -> None:
    srv = store_server
    eid, points, logged = _log_run(srv, name="alpha", project="math-grpo")
    other, _, _ = _log_run(srv, name="beta", project="math-grpo")
    api = Api(api_key=srv.key, base_url=srv.url)
    listed = list(api.experiments(project="math-grpo", per_page=1))  # lazy pages of one
    assert [e.name for e in listed] == ["beta", "alpha"]
    assert [e.name for e in api.experiments(project="math-grpo", order="name")] == ["alpha", "beta"]
    assert [e.id for e in api.experiments(filters={"name": "alp", "config": {"opt.name": "adam", "lr": 3e-6}})] == [eid]
    assert list(api.experiments(filters={"config": {"lr": 1.0}})) == []
    exp = listed[1]
    assert exp.config == {"lr": 3e-6, "opt": {"name": "adam"}}
    s = exp.summary
    assert s["train/loss"] == points[("train", "loss", 299)] and s["eval/acc"] == points[("eval", "acc", 250)]

    got = list(exp.rollouts())
    assert [r["messages"] for r in got] == [r["messages"] for r in logged]
    assert all(same(g["rewards"]["correct"], w["rewards"]["correct"]) for g, w in zip(got, logged, strict=True))
    # Odd samples are correct, but sample 3 scored NaN, +inf and -inf on the three problems: 3 + 4 + 3.
    assert len(list(exp.rollouts(step=100, reward="correct >= 1"))) == 10
    assert {r["group"] for r in exp.rollouts(step=0, group="g1")} == {"g1"}
    assert len(list(exp.rollouts(q="reverses"))) == 16

    files = api.download([eid, other], tmp_path)
    t = pq.read_table(files[0])
    assert set(t.column("experiment").to_pylist()) == {eid, other} and t.num_rows == 2 * len(points)
    assert pq.read_table(files[1]).num_rows == 2 * len(logged)

    with pytest.raises(NotFoundError):
        api.experiment("00000000-0000-0000-0000-000000000000")
    with pytest.raises(expt_logger.AuthenticationError):
        list(Api(api_key="expt_" + "A" * 43, base_url=srv.url).experiments())
    with pytest.raises(ValueError, match="format"):
        exp.download(tmp_path, format="xlsx")


def test_rollouts_page_by_key_past_a_thousand(expt_server: ExptServer) -> None:
    """More rollouts than a page: the iterator follows the server's keyset cursor and yields each once."""
    srv = expt_server
    run = expt_logger.init(name="many", api_key=srv.key, base_url=srv.url, system_metrics=False)
    for i in range(2100):
        expt_logger.log_rollout(
            f"p{i % 16}", [{"role": "assistant", "content": f"a{i}"}], {"r": float(i)}, step=i // 1024
        )
    assert run.end(timeout=60)
    exp = Api(api_key=srv.key, base_url=srv.url).experiment(run.id)
    got = [r["rewards"]["r"] for r in exp.rollouts()]
    assert got == [float(i) for i in range(2100)]
    assert [r["rewards"]["r"] for r in exp.rollouts(step=1)] == [float(i) for i in range(1024, 2048)]
