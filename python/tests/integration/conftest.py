from __future__ import annotations

import os
import shutil
import subprocess
import urllib.parse
import uuid
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


@pytest.fixture(params=["sqlite", "postgres"])
def store_server(request: pytest.FixtureRequest, expt_bin: Path, tmp_path: Path) -> Iterator[ExptServer]:
    """The real binary on each store: SQLite in tmp_path, and a new database of the PostgreSQL cluster that
    EXPT_TEST_POSTGRES_URL names (make test starts one; without it the PostgreSQL case skips, except
    under CI, which must run it)."""
    db = None
    if request.param == "postgres":
        base = os.environ.get("EXPT_TEST_POSTGRES_URL")
        if not base:
            if os.environ.get("CI"):
                pytest.fail("EXPT_TEST_POSTGRES_URL is not set under CI")
            pytest.skip("no PostgreSQL (EXPT_TEST_POSTGRES_URL)")
        name = f"expt_py_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
        u = urllib.parse.urlsplit(base)
        db = urllib.parse.urlunsplit(u._replace(path="/" + name))
    srv = ExptServer(expt_bin, tmp_path / "data", db=db).start(0)
    yield srv
    srv.stop()


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "spool"
    monkeypatch.setenv("EXPT_LOGGER_DIR", str(d))
    return d
