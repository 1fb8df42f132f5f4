"""expt-logger as one of verl's trackers: `trainer.logger=['console','expt']`, without editing verl.

verl's `Tracking` accepts a fixed list of backends. `install()` adds "expt" to it, in this process:

    from expt_logger.integrations import verl
    verl.install()          # before verl builds its Tracking

verl's trainer runs in a Ray actor, another process, so for `python -m verl.trainer.main_ppo` install the
import hook once into the venv instead; it adds "expt" whenever any process imports verl's tracking module:

    python -m expt_logger.integrations.verl --install-hook      # writes expt_logger_verl.pth
    python -m verl.trainer.main_ppo ... trainer.logger='[console,expt]'

Each `Tracking.log(data, step)` goes in as scalars at `step` (verl's prefixes, `actor/`, `critic/`, `timing_s/`,
become the chart sections), the config (OmegaConf resolved) as the experiment's config, verl's project name
as the project, its experiment name as the name. Rollouts: `expt-logger watch --format verl` on
`trainer.rollout_data_dir` and `trainer.validation_data_dir`.
"""

from __future__ import annotations

import argparse
import os
import site
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _current

BACKEND = "expt"


class ExptTracker:
    """What verl's Tracking calls: `log(data, step)` and `finish()`."""

    def __init__(self, project_name: str | None, experiment_name: str | None, config: Any = None) -> None:
        self.run = _current.init(name=experiment_name, project=project_name or None, config=_plain_config(config))

    def log(self, data: Mapping[str, Any], step: int) -> None:
        metrics = {}
        for k, v in data.items():
            try:
                metrics[str(k)] = float(v)
            except (TypeError, ValueError):
                continue  # strings, tables and lists are not scalars
        if metrics:
            self.run.log(metrics, step=int(step), mode=None)

    def finish(self) -> None:
        self.run.end()


def _plain_config(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(config):
            c = OmegaConf.to_container(config, resolve=True)
            return c if isinstance(c, dict) else {"config": c}
    except Exception:
        pass
    return dict(config) if isinstance(config, Mapping) else {"config": str(config)}


def install() -> None:
    """Make "expt" one of verl's backends (idempotent)."""
    from verl.utils import tracking

    patch(tracking)


def patch(tracking: Any) -> None:
    cls = tracking.Tracking
    if getattr(cls, "_expt_logger_patched", False):
        return
    if BACKEND not in cls.supported_backend:
        cls.supported_backend.append(BACKEND)
    init, delete = cls.__init__, getattr(cls, "__del__", None)

    def __init__(
        self: Any, project_name: Any, experiment_name: Any, default_backend: Any = "console", config: Any = None
    ) -> None:
        backends = [default_backend] if isinstance(default_backend, str) else list(default_backend)
        init(self, project_name, experiment_name, default_backend=[b for b in backends if b != BACKEND], config=config)
        if BACKEND in backends:
            self.logger[BACKEND] = ExptTracker(project_name, experiment_name, config)

    def __del__(self: Any) -> None:
        if delete is not None:
            delete(self)
        ours = getattr(self, "logger", {}).get(BACKEND)
        if ours is not None:
            ours.finish()

    cls.__init__, cls.__del__ = __init__, __del__
    cls._expt_logger_patched = True


HOOK_FILE = "expt_logger_verl.pth"
HOOK_MODULE = "_expt_logger_verl_hook"


def install_hook(directory: str | None = None) -> str:
    """Write the .pth file (and the small module it imports) that adds the backend in every process."""
    d = directory or site.getsitepackages()[0]
    src = os.path.join(os.path.dirname(__file__), "_verl_hook.py")
    with open(src, encoding="utf-8") as f, open(os.path.join(d, HOOK_MODULE + ".py"), "w", encoding="utf-8") as out:
        out.write(f.read())
    path = os.path.join(d, HOOK_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"import {HOOK_MODULE}\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m expt_logger.integrations.verl",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--install-hook", action="store_true", help=f"write {HOOK_FILE} into site-packages")
    g.add_argument("--uninstall-hook", action="store_true", help=f"remove {HOOK_FILE}")
    ap.add_argument("--dir", help="the site directory (default: this venv's site-packages)")
    args = ap.parse_args(argv)
    if args.install_hook:
        print(install_hook(args.dir))
        return 0
    d = args.dir or site.getsitepackages()[0]
    for name in (HOOK_FILE, HOOK_MODULE + ".py"):
        path = os.path.join(d, name)
        if os.path.exists(path):
            os.remove(path)
            print(f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
