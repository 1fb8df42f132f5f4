"""Plug-ins for training frameworks; each imports its framework only when imported itself.

- `expt_logger.integrations.trl`: `ExptLoggerCallback` for transformers' `Trainer` and TRL's `GRPOTrainer`.
- `expt_logger.integrations.verl`: an `expt` backend for verl's `Tracking`, and readers of its dumps.
- `expt_logger.integrations.prime_rl`: `ExptLoggerMonitor` for prime-rl.
- `expt-logger watch --format ...`: imports a framework's own dump files, no change to the training script.
"""
