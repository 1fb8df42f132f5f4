"""Tests against real training frameworks, run in their own venv (`make test-frameworks`): the real expt
binary, real transformers/TRL on tiny models made here, nothing downloaded from a model hub."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the SDK tests' server harness

import expt_logger
from expt_logger import _warn
from tests.integration.server import ExptServer


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k in list(os.environ):
        if k.startswith("EXPT_LOGGER_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("EXPT_LOGGER_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("EXPT_LOGGER_SYSTEM_METRICS", "0")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing from a model hub
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    _warn._warned.clear()
    yield
    expt_logger.end(timeout=0)


@pytest.fixture(scope="session")
def expt_bin() -> Path:
    b = os.environ.get("EXPT_BIN")
    if not b:
        pytest.fail("set EXPT_BIN to the expt binary (make test-frameworks does)")
    return Path(b)


@pytest.fixture
def expt_server(expt_bin: Path, tmp_path: Path) -> Iterator[ExptServer]:
    srv = ExptServer(expt_bin, tmp_path / "data").start(0)
    yield srv
    srv.stop()
