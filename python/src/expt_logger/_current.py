"""The module-level API (`expt_logger.init/log/...`), the current run, and process-exit hooks."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any, NoReturn, SupportsIndex

from ._config import Settings
from ._run import DEFAULT_END_TIMEOUT, Run
from ._transport import Transport

SIGTERM_TIMEOUT = 5.0  # container runtimes usually SIGKILL 10 s after SIGTERM
# At exit with the server failing right now, waiting the full end() timeout only keeps the process
# alive: everything is already in the spool, and the next init() or `sync` uploads it.
EXIT_TIMEOUT_WHEN_FAILING = 3.0

_active: Run | None = None
_hooks_installed = False
_signals_installed = False
_prev_handlers: dict[int, Any] = {}


def init(
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    auto_flush_interval: float = 10.0,
    auto_flush_buffer_size: int = 100,
    *,
    experiment_id: str | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    transport: Transport | None = None,
    tags: Sequence[str] | None = None,
    notes: str | None = None,
    group: str | None = None,
    project: str | None = None,
    system_metrics: bool | None = None,
) -> Run:
    """Start a run (ending the current one first) and make it the target of the module functions.

    `tags`, `notes` and `group` (the processes of one distributed job) tell runs apart in the UI and
    filter the experiments list, as in W&B. `project` (or EXPT_LOGGER_PROJECT) is the name of the
    project to log into, made on the server when missing and the key may; without it the run goes into
    the key's project or its owner's personal one.

    `system_metrics` (default: on, unless EXPT_LOGGER_SYSTEM_METRICS=0) logs CPU, memory and (through
    NVML, when a driver is there) each GPU's use, memory, power and temperature every
    EXPT_LOGGER_SYSTEM_INTERVAL seconds (10) under mode "system", charted against wall time.

    `mode` (or EXPT_LOGGER_MODE) is "online", "offline" (spool only) or "disabled" (no-ops);
    `experiment_id` (or EXPT_LOGGER_EXPERIMENT_ID) attaches to an existing experiment and continues
    after its latest step; `dir` (or EXPT_LOGGER_DIR) is the spool root; `transport` replaces HTTP
    (tests).
    """
    global _active
    if _active is not None:
        _active.end()
    settings = Settings.resolve(api_key, base_url, mode, dir, experiment_id)
    run = Run(
        settings,
        name,
        config,
        auto_flush_interval,
        auto_flush_buffer_size,
        transport,
        tags,
        notes,
        group,
        project,
        system_metrics,
    )
    run._on_end = _forget
    _active = run
    _install_hooks()
    return run


def _forget(run: Run) -> None:
    global _active
    if _active is run:
        _active = None


def get_run() -> Run | None:
    """The current run, or None."""
    return _active


def _run() -> Run:
    if _active is None:
        raise RuntimeError("expt_logger: call expt_logger.init() first")
    return _active


def log(metrics: Mapping[str, Any], step: int | None = None, mode: str | None = None, commit: bool = True) -> None:
    r = _active  # _run() inlined: this is the training loop's hottest call
    if r is None:
        raise RuntimeError("expt_logger: call expt_logger.init() first")
    r.log(metrics, step, mode, commit)


def log_rollout(
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
    _run().log_rollout(prompt, messages, rewards, step, mode, tokens=tokens, metadata=metadata, group=group)


def commit() -> None:
    _run().commit()


def flush(timeout: float | None = DEFAULT_END_TIMEOUT) -> bool:
    return _run().flush(timeout)


def end(timeout: float | None = DEFAULT_END_TIMEOUT) -> bool:
    """End the current run; a no-op (True) when there is none."""
    return _active.end(timeout) if _active is not None else True


# --- process hooks ---------------------------------------------------------------------------------


def _install_hooks() -> None:
    global _hooks_installed, _signals_installed
    if not _hooks_installed:
        _hooks_installed = True
        atexit.register(_at_exit)
        _prev_excepthook[0] = sys.excepthook
        sys.excepthook = _on_uncaught
        _prev_exit[0] = sys.exit
        sys.exit = _on_exit
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork)
    # signal.signal works only in the main thread; from elsewhere the previous handlers stay until an
    # init() on the main thread.
    if not _signals_installed and threading.current_thread() is threading.main_thread():
        _signals_installed = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                _prev_handlers[sig] = signal.getsignal(sig)
                signal.signal(sig, _on_signal)
            except (ValueError, OSError):
                _prev_handlers.pop(sig, None)


# The script died of an uncaught exception: the run ends "failed", not "complete".
_died: list[bool] = [False]
_prev_excepthook: list[Any] = [sys.excepthook]


def _on_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    if not issubclass(kind, KeyboardInterrupt):
        _died[0] = True
    _prev_excepthook[0](kind, value, tb)


# sys.exit(code): SystemExit never reaches excepthook, so the code is noted on the way out; a
# non-zero (or message) exit ends the run "failed".
_exit_code: list[Any] = [None]
_prev_exit: list[Any] = [sys.exit]


def _on_exit(code: Any = None) -> NoReturn:
    _exit_code[0] = code
    _prev_exit[0](code)
    raise SystemExit(code)  # the previous sys.exit returned (someone's stub)


def _failed() -> bool:
    return _died[0] or _exit_code[0] not in (None, 0)


def _at_exit() -> None:
    run = _active
    if run is not None:
        # At exit there is no one to raise to; whatever was not sent is in the spool.
        failing = run._pipeline is not None and run._pipeline.last_error is not None
        with contextlib.suppress(Exception):
            run._end(
                EXIT_TIMEOUT_WHEN_FAILING if failing else DEFAULT_END_TIMEOUT, "failed" if _failed() else "complete"
            )


def _after_fork() -> None:
    run = _active
    if run is not None and run._pipeline is not None:
        run._pipeline.after_fork_in_child()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    run = _active
    if run is not None and run._pipeline is not None:
        try:
            if signum == signal.SIGINT:
                # Onto disk at once; KeyboardInterrupt may be caught and training go on, and if it
                # is not, atexit ends the run.
                run._pipeline.drain(force_seal=True)
                run._pipeline.wake_sender.set()
            else:
                run.end(SIGTERM_TIMEOUT)
        except Exception:
            pass
    prev = _prev_handlers.get(signum, signal.SIG_DFL)
    if callable(prev):
        prev(signum, frame)
    elif prev == signal.SIG_IGN:
        return
    else:  # SIG_DFL (or None: installed from C): restore it and die of the same signal
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
