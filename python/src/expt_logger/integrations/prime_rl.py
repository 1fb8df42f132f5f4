"""expt-logger as a prime-rl monitor: metrics as scalars, episodes as rollouts (the problem id as group).

prime-rl builds its monitors from a fixed set of configs, and its file monitor is on by default, so the
zero-change way is `expt-logger watch --format prime-rl OUTPUT_DIR`. In a script of your own that runs the
orchestrator, register the monitor after prime-rl's setup:

    from prime_rl import monitors
    from expt_logger.integrations.prime_rl import ExptLoggerMonitor
    await monitors.setup(..., output_dir=out)
    monitors.MONITORS.append(ExptLoggerMonitor(name="qwen3-4b-math", project="math-rl"))

It has prime-rl's Monitor methods (`init`, `log`, `log_metrics`, `log_episodes`, `finalize`); each hands the
work to the SDK's queue and returns, and none raises. Episodes are verifiers' `Episode` objects (or their
`to_record()` dicts): the trainable trace's conversation, reasoning as <think>, tool calls, each reward's
score, and the task key as group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import _current
from .._warn import warn_once
from ._formats import numbers, prime_episode_rollout


class ExptLoggerMonitor:
    def __init__(
        self, config: Any = None, *, name: str | None = None, project: str | None = None, **init_kwargs: Any
    ) -> None:
        self.config = config
        self._name, self._project, self._init_kwargs = name, project, init_kwargs
        self._run: Any = None
        self._own = False

    def _ensure(self, config: Any = None) -> Any:
        if self._run is None:
            current = _current.get_run()
            if current is not None and not current._ended:
                self._run = current
            else:
                cfg = config.model_dump(mode="json") if hasattr(config, "model_dump") else config
                self._run = _current.init(
                    name=self._name,
                    project=self._project,
                    config=cfg if isinstance(cfg, Mapping) else None,
                    **self._init_kwargs,
                )
                self._own = True
        return self._run

    async def init(self, config: Any = None, **kwargs: Any) -> None:
        self._ensure(config)

    async def log(self, data: Any, step: int, kind: str = "train", subset: str = "effective") -> None:
        if isinstance(data, Mapping):
            await self.log_metrics(dict(data), step)
        else:
            await self.log_episodes(data if isinstance(data, list) else [data], step, kind, subset)

    async def log_metrics(self, metrics: dict[str, Any], step: int) -> None:
        try:
            ms = numbers(metrics)
            if ms:
                self._ensure().log(ms, step=step, mode=None)
        except Exception as e:
            warn_once("prime-metrics", f"expt_logger: prime-rl metrics not logged: {e!r}")

    async def log_episodes(
        self, episodes: Sequence[Any], step: int, kind: str = "train", subset: str = "effective"
    ) -> None:
        # prime-rl logs training episodes twice, "all" as they finish and "effective" once final: the
        # second is what was trained on.
        if kind == "train" and subset != "effective":
            return
        run = self._ensure()
        for ep in episodes:
            try:
                record = ep.to_record() if hasattr(ep, "to_record") else ep
                r = prime_episode_rollout(record, step, "eval" if kind == "eval" else "train")
                if r is not None:
                    r.log_to(run)
            except Exception as e:
                warn_once("prime-episode", f"expt_logger: a prime-rl episode was not logged: {e!r}")

    async def finalize(self) -> None:
        if self._run is not None and self._own:
            self._run.end()
        self._run = None
