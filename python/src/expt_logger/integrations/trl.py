"""expt-logger for transformers' `Trainer` and TRL's trainers (`GRPOTrainer` and the rest).

    trainer = GRPOTrainer(model=..., reward_funcs=[accuracy, fmt], args=GRPOConfig(...), train_dataset=ds)
    trainer.add_callback(ExptLoggerCallback(trainer))
    trainer.train()

Every `on_log` goes in as scalars at the trainer's global step (`eval_` keys under mode "eval"). With the
trainer given, every batch of completions a GRPO-style trainer generates (TRL keeps them in `trainer._logs`)
goes in as rollouts at the step it trains: the prompt's conversation, the completion as the assistant's
message, one reward per reward function, and the advantage, sample index and group in the metadata. Without
the trainer (`Trainer(callbacks=[ExptLoggerCallback()])`) and with `log_completions=True`, rollouts come from
the `completions/completions_{step}.parquet` files TRL writes. A plain `Trainer` gives scalars only.

The run starts when training does (unless one is already running, which is then used and left open), with the
training arguments and the model's config as its config, and ends when training ends.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

try:
    from transformers import TrainerCallback
except ImportError as e:  # pragma: no cover - exercised only without transformers
    raise ImportError("expt_logger.integrations.trl needs transformers: pip install transformers") from e

import contextlib

from .. import _current
from .._warn import warn_once
from . import _conv
from ._trl_rows import completion_files, log_keys, new_since, rows_from_logs, rows_from_parquet

__all__ = ["ExptLoggerCallback"]


class ExptLoggerCallback(TrainerCallback):  # type: ignore[misc]
    """Logs a transformers/TRL trainer's metrics, config and (given `trainer`) completions to expt-logger.

    `trainer`: the trainer whose completions to log (TRL keeps them in `trainer._logs`); `name`, `project`,
    `tags`, `notes` and any other keyword go to `expt_logger.init` when the callback starts the run.
    `log_completions=False` logs scalars only.
    """

    def __init__(
        self,
        trainer: Any = None,
        *,
        name: str | None = None,
        project: str | None = None,
        log_completions: bool = True,
        **init_kwargs: Any,
    ) -> None:
        self.trainer = trainer
        self._name, self._project, self._init_kwargs = name, project, init_kwargs
        self._log_completions = log_completions
        self._run: Any = None
        self._own_run = False
        self._seen: list[tuple[Any, ...]] = []  # the completions held last time looked, to find new ones
        self._files_done: set[str] = set()

    # --- run lifetime -------------------------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or self._run is not None:
            return
        current = _current.get_run()
        if current is not None and not current._ended:
            self._run, self._own_run = current, False
            self._run.config.update(_config(args, model, self.trainer))
            return
        name = self._name or getattr(args, "run_name", None) or os.path.basename(os.path.normpath(args.output_dir))
        self._run = _current.init(
            name=name, config=_config(args, model, self.trainer), project=self._project, **self._init_kwargs
        )
        self._own_run = True

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._run is None:
            return
        self._collect(args, state, state.global_step, files=True)
        if self._own_run:
            self._run.end()
        self._run, self._own_run = None, False

    # --- scalars ------------------------------------------------------------------------------------

    def on_log(self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if self._run is None or not logs:
            return
        # Completions generated since the last look come first, so a log's rewards and its rollouts arrive
        # together (an evaluation's are seen here).
        self._collect(args, state, state.global_step, files=True)
        by_mode: dict[str, dict[str, float]] = {}
        for key, value in logs.items():
            v = _scalar(value)
            if v is None:
                continue
            mode, name = ("eval", key[5:]) if key.startswith("eval_") and len(key) > 5 else ("train", key)
            by_mode.setdefault(mode, {})[name] = v
        for mode, metrics in by_mode.items():
            self._run.log(metrics, step=state.global_step, mode=mode)

    # --- completions --------------------------------------------------------------------------------

    def on_substep_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # A gradient-accumulation micro-step of the step being trained (global_step + 1).
        self._collect(args, state, state.global_step + 1)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._collect(args, state, state.global_step)

    def on_prediction_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._collect(args, state, state.global_step)

    def _collect(self, args: Any, state: Any, step: int, files: bool = False) -> None:
        """New completions: from the trainer, or (without it) TRL's files, which are written only after a log,
        so `files` is set only at a log and at the end, and micro-steps list no directory."""
        if self._run is None or not self._log_completions:
            return
        try:
            if self.trainer is not None:
                self._from_trainer(step)
            elif files and getattr(args, "log_completions", False):
                self._from_files(args.output_dir, getattr(args, "num_generations", None))
        except Exception as e:  # never let logging break training
            warn_once("trl-completions", f"expt_logger: could not read the trainer's completions: {e!r}")

    def _from_trainer(self, step: int) -> None:
        logs = getattr(self.trainer, "_logs", None)
        if not isinstance(logs, Mapping) or not logs.get("prompt"):
            return
        model = getattr(self.trainer, "model", None)
        mode = "train" if getattr(model, "training", True) else "eval"
        group = _group_size(self.trainer, mode)
        # Compared on every micro-step, so only what is new is converted.
        keys = log_keys(logs)
        new = new_since(self._seen, keys)
        self._seen = keys
        for r in rows_from_logs(logs, group, start=len(keys) - new):
            self._run.log_rollout(r.prompt, r.messages, r.rewards, step=step, mode=mode, metadata=r.metadata)

    def _from_files(self, output_dir: str, group: int | None) -> None:
        # TRL writes step k's file just after its on_log: each look imports the files finished since.
        for path, step in completion_files(output_dir):
            if path in self._files_done:
                continue
            self._files_done.add(path)
            for r in rows_from_parquet(path, group):
                self._run.log_rollout(r.prompt, r.messages, r.rewards, step=step, metadata=r.metadata)


def _group_size(trainer: Any, mode: str) -> int | None:
    n = getattr(trainer, "num_generations" if mode == "train" else "num_generations_eval", None)
    n = n or getattr(trainer, "num_generations", None)
    return n if isinstance(n, int) and n > 0 else None


def _scalar(value: Any) -> float | None:
    if value is None:
        return math.nan  # TRL logs None when every value of a metric was NaN
    if isinstance(value, (bool, str)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _config(args: Any, model: Any, trainer: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        out.update(_conv.plain(args.to_dict()))
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "to_dict"):
        with contextlib.suppress(Exception):
            out["model_config"] = _conv.plain(cfg.to_dict())
    if trainer is not None:
        out["trainer"] = type(trainer).__name__
        names = getattr(trainer, "reward_func_names", None)
        if names:
            out["reward_funcs"] = list(names)
    return out
