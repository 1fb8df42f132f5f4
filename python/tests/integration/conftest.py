from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import ExptServer

REPO = Path(__file__).resolve().parents[3]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def expt_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$EXPT_BIN, else `go build` of ./cmd/expt from the repository root."""
    env_bin = os.environ.get("EXPT_BIN")
    if env_bin:
        return Path(env_bin)
    go = shutil.which("go")
    if go is None:
        pytest.fail("integration tests need Go to build ./cmd/expt (or set EXPT_BIN)")
    out = tmp_path_factory.mktemp("bin") / "expt"
    subprocess.run([go, "build", "-o", str(out), "./cmd/expt"], cwd=REPO, check=True, timeout=600)
    return out


@pytest.fixture
def expt_server(expt_bin: Path, tmp_path: Path) -> Iterator[ExptServer]:
    srv = ExptServer(expt_bin, tmp_path / "data").start(0)
    yield srv
    srv.stop()


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "spool"
    monkeypatch.setenv("EXPT_LOGGER_DIR", str(d))
    return d
