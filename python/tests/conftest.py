from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import expt_logger
from expt_logger import _warn

from .fake import FakeServer


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own spool root, a clean environment and a fresh warn-once memory."""
    for k in list(os.environ):
        if k.startswith("EXPT_LOGGER_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("EXPT_LOGGER_DIR", str(tmp_path / "spool"))
    # Off unless a test turns it on: its samples would join every count of logged items.
    monkeypatch.setenv("EXPT_LOGGER_SYSTEM_METRICS", "0")
    _warn._warned.clear()
    yield
    expt_logger.end(timeout=0)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()
