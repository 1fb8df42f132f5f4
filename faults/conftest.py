from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REPO, Server
from proxy import FaultProxy


@pytest.fixture(scope="session")
def expt_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$EXPT_BIN (make test-faults passes bin/expt), else a fresh `go build` of ./cmd/expt: a stale
    binary would test yesterday's server."""
    env_bin = os.environ.get("EXPT_BIN")
    if env_bin:
        return Path(env_bin)
    go = shutil.which("go")
    if go is None:
        pytest.fail("the fault scenarios need Go to build ./cmd/expt (or set EXPT_BIN)")
    out = tmp_path_factory.mktemp("bin") / "expt"
    subprocess.run(
        [go, "build", "-o", str(out), "./cmd/expt"], cwd=REPO, check=True, timeout=600
    )
    return out


@pytest.fixture
def server(expt_bin: Path, tmp_path: Path) -> Iterator[Server]:
    srv = Server(expt_bin, tmp_path / "data").start()
    yield srv
    srv.kill()


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    p = FaultProxy(server.port)
    yield p
    p.close()
