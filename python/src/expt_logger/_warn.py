"""Warnings said once per kind: a failing server must not flood a training log."""

from __future__ import annotations

import logging

log = logging.getLogger("expt_logger")

_warned: set[str] = set()


def warn_once(key: str, msg: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning("expt_logger: %s", msg)
