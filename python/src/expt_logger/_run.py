"""A run: step bookkeeping and validation on the caller's thread, delivery delegated to the pipeline."""

from __future__ import annotations

import os
import random
import socket
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, SupportsIndex

from . import _spool
from ._config import Config, Settings
from ._exceptions import AuthenticationError, ExptLoggerError
from ._records import ROLLOUT, SCALAR, kind_of
from ._sender import Pipeline
from ._system import system_enabled
from ._transport import HTTPTransport, Transport
from ._validate import (
    check_group,
    check_labels,
    check_messages,
    check_metadata,
    check_mode,
    check_prompt,
    check_rewards,
    check_step,
    check_tokens,
    split_key,
    split_names,
    to_float,
)
from ._warn import warn_once

DEFAULT_END_TIMEOUT = 30.0
# With the default timeout, end() stops waiting this long after the server is seen failing: the
# data is already in the spool, so waiting the full 30 s would only hold the process (and a job
# slot) for nothing. An explicit timeout is always waited in full.
END_TIMEOUT_WHEN_FAILING = 3.0
ATTACH_TIMEOUT = 5.0
MAX_PENDING = 200_000  # queued items before log() itself moves them to the spool

_ADJ = ("brisk", "calm", "eager", "fancy", "gentle", "lucky", "mellow", "nimble", "proud", "quiet", "swift", "witty")
_NOUN = ("otter", "falcon", "maple", "comet", "harbor", "lynx", "meadow", "pebble", "quartz", "river", "tiger")


def random_name() -> str:
    return f"{random.choice(_ADJ)}-{random.choice(_NOUN)}-{random.randint(1, 999)}"


class Run:
    """One experiment being logged. Made by `expt_logger.init()`; use it as a context manager to end it."""

    def __init__(
        self,
        settings: Settings,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        auto_flush_interval: float = 10.0,
        auto_flush_buffer_size: int = 100,
        transport: Transport | None = None,
        tags: Sequence[str] | None = None,
        notes: str | None = None,
        group: str | None = None,
        project: str | None = None,
        system_metrics: bool | None = None,
    ) -> None:
        labels = check_labels(tags, notes, group, project if project is not None else settings.project)
        if auto_flush_interval <= 0:
            raise ValueError(f"auto_flush_interval must be > 0, got {auto_flush_interval}")
        if auto_flush_buffer_size < 1:
            raise ValueError(f"auto_flush_buffer_size must be >= 1, got {auto_flush_buffer_size}")
        self._settings = settings
        self.base_url = settings.base_url
        self._step = 0
        self._acc: dict[tuple[str, str], float] = {}
        self._ended = False
        # Called once by end(): the module-level functions forget their current run (see _current).
        self._on_end: Callable[[Run], None] | None = None
        self._pipeline: Pipeline | None = None
        self._flush_items = auto_flush_buffer_size
        self._disabled = settings.delivery == "disabled"
        attach = settings.experiment_id is not None
        self.id: str = settings.experiment_id or str(uuid.uuid4())
        if attach:
            self.id = str(uuid.UUID(self.id))  # a clear ValueError for a malformed id
        cfg: dict[str, Any] = dict(config or {})
        delivery = settings.delivery
        api_key = settings.api_key
        if delivery == "online" and not api_key:
            warn_once(
                "nokey",
                "no API key (set EXPT_LOGGER_API_KEY or pass api_key=); logging offline to the local spool. "
                "Upload later with `python -m expt_logger sync`.",
            )
            delivery = "offline"
        self._delivery = delivery
        if attach and delivery == "online":
            t = transport or HTTPTransport(self.base_url, api_key, ATTACH_TIMEOUT)
            try:
                remote = self._attach(t)
            finally:
                if t is not transport:
                    t.close()
            if remote is not None:
                name = name or remote.get("name")
                cfg = {**(remote.get("config") or {}), **cfg}
        self.name: str = name or random_name()
        self.config = Config(cfg)
        self.experiment_url = f"{self.base_url}/experiments/{self.id}"
        if self._disabled:
            return
        run_id = uuid.uuid4().hex
        run_dir = _spool.runs_root(settings.spool_dir) / run_id
        meta: dict[str, Any] = {
            "version": 1,
            "runId": run_id,
            "experimentId": self.id,
            "name": self.name,
            "config": self.config.as_dict(),
            "baseUrl": self.base_url,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "status": "active",
            "attach": attach,
            "startedAt": time.time(),
            **labels,
        }
        spool: _spool.Spool | _spool.MemorySpool
        try:
            spool = _spool.Spool(run_dir)
            spool.write_meta(meta)
        except OSError as exc:
            # A read-only, full or forbidden spool directory must not stop the training script: the
            # run goes on with its queue in memory (bounded), delivered the same way.
            spool = _spool.MemorySpool(run_id, f"{exc}")
            warn_once(
                "spool-unusable",
                f"cannot use the spool directory {settings.spool_dir} ({exc}); keeping this run's data in "
                f"memory instead (at most {_spool.MEMORY_SPOOL_BYTES >> 20} MB): it is lost if the process "
                "ends before the server has it. Set EXPT_LOGGER_DIR to a writable directory.",
            )
        factory = None
        if delivery == "online":
            given = transport
            factory = (lambda: given) if given is not None else (lambda: HTTPTransport(self.base_url, api_key))
        self._pipeline = Pipeline(
            spool,
            meta,
            factory,
            self.base_url,
            auto_flush_interval,
            auto_flush_buffer_size,
            spool_root=settings.spool_dir,
            system=system_enabled(system_metrics),
        )
        object.__setattr__(self.config, "_on_change", self._config_changed)

    def _attach(self, t: Transport) -> dict[str, Any] | None:
        """GET the experiment to continue after its latest step; the sender then PUTs it active."""
        try:
            r = t.request("GET", f"/api/experiments/{self.id}/details")
        except OSError as exc:
            local = self._local_latest_step()
            warn_once(
                "attach-offline",
                f"cannot reach {self.base_url} to attach to experiment {self.id} ({exc}); continuing after "
                f"step {local} known locally",
            )
            self._step = local + 1
            return None
        if r.status == 401:
            raise AuthenticationError(f"attach to experiment {self.id}: 401 {r.error()}", 401)
        if r.status == 404:
            raise ExptLoggerError(f"attach: experiment {self.id} not found on {self.base_url} (or not yours)")
        if r.status != 200:
            raise ExptLoggerError(f"attach to experiment {self.id}: {r.status} {r.error()}")
        d = r.json() or {}
        latest = d.get("latestStep")
        self._step = max(int(latest) + 1 if isinstance(latest, int) else 0, self._local_latest_step() + 1)
        return d

    def _local_latest_step(self) -> int:
        """The highest step of this experiment still waiting in local spools (-1 when none)."""
        best = -1
        for d in _spool.leftover_runs(self._settings.spool_dir, None):
            meta = _spool.read_meta(d)
            if not meta or meta.get("experimentId") != self.id:
                continue
            for seg in _spool.segments(d, include_open=True):
                for ln in _spool.read_segment(seg):
                    best = max(best, kind_of(ln).step(ln))
        return best

    def _config_changed(self) -> None:
        if self._pipeline is not None and not self._ended:
            self._pipeline.config_changed(self.config.as_dict())

    # --- logging -----------------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """The step the next committing `log()` without `step=` writes to."""
        return self._step

    def log(
        self,
        metrics: Mapping[str, Any],
        step: int | None = None,
        mode: str | None = None,
        commit: bool = True,
    ) -> None:
        """Record scalar metrics. Validates, appends to a queue and returns: no I/O on this thread."""
        if self._disabled:
            return
        if self._ended:
            warn_once("ended", "log() after end() is ignored")
            return
        if type(metrics) is not dict and not isinstance(metrics, Mapping):  # dict first: an ABC check costs
            raise TypeError(f"metrics must be a dict of name -> number, not {type(metrics).__name__}")
        if mode is not None:
            check_mode(mode)
        if step is not None:
            step = check_step(step)
            if step != self._step and self._acc:
                self._commit_acc()
            self._step = step
        # A plain loop over the names cached for this mode=: no key tuple to build and no star-unpacking
        # per metric (0.7 us instead of 1.2 for 5 metrics; this is the training loop's thread).
        names = split_names(mode)
        if not commit:
            vals = []
            for k, v in metrics.items():
                mn = names.get(k) or split_key(k, mode)
                vals.append((mn, v if type(v) is float else to_float(k, v)))
            self._acc.update(vals)
            return
        s = self._step
        ts = time.time()
        items: list[tuple[Any, ...]] = []
        add = items.append
        for k, v in metrics.items():
            mn = names.get(k) or split_key(k, mode)
            add((SCALAR, s, mn[0], mn[1], v if type(v) is float else to_float(k, v), ts))
        p = self._pipeline
        assert p is not None
        if self._acc:
            self._commit_acc(exclude={(it[2], it[3]) for it in items})
        p.pending.extend(items)
        self._step = s + 1
        if len(p.pending) >= self._flush_items:
            self._backpressure(p)

    def _commit_acc(self, exclude: set[tuple[str, str]] | None = None) -> None:
        p = self._pipeline
        assert p is not None
        s, ts = self._step, time.time()
        p.pending.extend(
            (SCALAR, s, m, n, v, ts) for (m, n), v in self._acc.items() if not exclude or (m, n) not in exclude
        )
        self._acc.clear()

    def commit(self) -> None:
        """Write metrics accumulated with `commit=False` at the current step and advance the step."""
        if self._disabled or self._ended:
            return
        if self._acc:
            self._commit_acc()
        self._step += 1

    def log_rollout(
        self,
        prompt: str | Mapping[str, Any],
        messages: list[dict[str, Any]],
        rewards: Mapping[str, Any] | list[dict[str, Any]],
        step: int | None = None,
        mode: str = "train",
        *,
        tokens: Mapping[int, Mapping[str, Any]] | Sequence[Mapping[str, Any] | None] | None = None,
        metadata: Mapping[str, Any] | None = None,
        group: str | SupportsIndex | None = None,
    ) -> None:
        """Record one rollout at the current step (or `step`); does not advance the step.

        `tokens` (optional) gives messages their tokens: {message index: {"text": [...], "logprob": [...],
        ...}} (any named per-token floats), or a list aligned with `messages`; the UI colours the text by them.
        `metadata` (optional) is a dict kept verbatim as JSON (sample index, model version, stop reason…) and
        shown with the rollout. `group` (optional) is an explicit GRPO group id, for a prompt that repeats
        across groups of one step; by default rollouts of one step and mode with the same prompt are a group.
        """
        if self._disabled:
            return
        if self._ended:
            warn_once("ended", "log_rollout() after end() is ignored")
            return
        checked_messages = check_messages(messages)
        rollout: dict[str, Any] = {
            "step": self._step if step is None else check_step(step),
            "mode": check_mode(mode),
            "promptText": check_prompt(prompt),
            "messages": checked_messages,
            "rewards": check_rewards(rewards),
            "ts": time.time(),
        }
        if tokens is not None:
            checked = check_tokens(tokens, len(checked_messages))
            if checked:
                rollout["tokens"] = checked
        if metadata is not None:
            rollout["metadata"] = check_metadata(metadata)
        if group is not None:
            g = check_group(group)
            if g:
                rollout["group"] = g
        p = self._pipeline
        assert p is not None
        p.pending.append((ROLLOUT, rollout))
        if len(p.pending) >= self._flush_items:
            self._backpressure(p)

    def _backpressure(self, p: Pipeline) -> None:
        if not p.wake_writer.is_set():  # set() takes a lock each time; the writer is likely awake already
            p.wake_writer.set()
        # Memory stays bounded even if the caller outruns the spool writer: past the cap, the caller
        # writes to disk itself (still no network I/O on this thread).
        if len(p.pending) >= MAX_PENDING:
            p.drain()

    # --- delivery ----------------------------------------------------------------------------------

    def flush(self, timeout: float | None = DEFAULT_END_TIMEOUT) -> bool:
        """Send everything logged so far; True once the server acknowledged it, False on timeout
        (the data then stays in the spool and keeps being retried)."""
        if self._pipeline is None or self._ended:
            return self._pipeline is None
        return self._pipeline.flush(timeout)

    def end(self, timeout: float | None = DEFAULT_END_TIMEOUT) -> bool:
        """Flush, mark the experiment complete and stop. Returns within `timeout` seconds even when the
        server is unreachable; what is left stays in the spool and the command that uploads it is printed."""
        return self._end(timeout, "complete")

    def _end(self, timeout: float | None, status: str) -> bool:
        """end(), ending with status: "complete", or "failed" when the script died of an exception."""
        if self._ended:
            return True
        if self._acc:
            self._commit_acc()
        self._ended = True
        if self._on_end is not None:
            self._on_end(self)
        p = self._pipeline
        if p is None:
            return True
        failing_timeout = END_TIMEOUT_WHEN_FAILING if timeout == DEFAULT_END_TIMEOUT else None
        ok = p.end(timeout, complete=os.getpid() == p.owner_pid, failing_timeout=failing_timeout, status=status)
        if not ok and isinstance(p.spool, _spool.MemorySpool):
            print(
                f"expt_logger: not everything reached {self.base_url}; the spool directory could not be used "
                f"({p.spool.reason}), so the unsent data was held in memory only and is lost",
                file=sys.stderr,
            )
        elif not ok:
            where = p.spool.dir
            if self._delivery == "offline":
                msg = f"expt_logger: offline run saved in {where}"
            else:
                if p.last_error:
                    msg = f"expt_logger: {self.base_url} is failing ({p.last_error}); unsent data saved in {where}"
                else:
                    msg = f"expt_logger: not everything reached {self.base_url} in time; saved in {where}"
            env = "" if self.base_url == Settings.resolve().base_url else f"EXPT_LOGGER_BASE_URL={self.base_url} "
            print(f"{msg}\nexpt_logger: upload it with: {env}{sys.executable} -m expt_logger sync", file=sys.stderr)
        return ok

    @property
    def spool_dir(self) -> Path | None:
        return None if self._pipeline is None else self._pipeline.spool.dir

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.end()

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r}, step={self._step})"
