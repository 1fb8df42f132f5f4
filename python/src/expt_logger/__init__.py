"""expt_logger: experiment tracking for RL training, W&B-style, standard library only.

import expt_logger
run = expt_logger.init(name="grpo-math", config={"lr": 3e-6})
expt_logger.log({"train/loss": 0.45})
expt_logger.log_rollout(prompt="2+2?", messages=[{"role": "assistant", "content": "4"}],
                        rewards={"correctness": 1.0})
expt_logger.end()
"""

from ._api import Api, ApiError, Experiment, NotFoundError
from ._config import Config
from ._current import commit, end, flush, get_run, init, log, log_rollout
from ._exceptions import AuthenticationError, ExptLoggerError, ExptLoggerWarning, TransportError
from ._run import Run
from ._version import __version__

__all__ = [
    "Api",
    "ApiError",
    "AuthenticationError",
    "Config",
    "Experiment",
    "ExptLoggerError",
    "ExptLoggerWarning",
    "NotFoundError",
    "Run",
    "TransportError",
    "__version__",
    "commit",
    "end",
    "flush",
    "get_run",
    "init",
    "log",
    "log_rollout",
]
