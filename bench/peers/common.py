"""Shared by the phases: the repository, the payload, the servers under test and child processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PEERS = Path(__file__).with_name("peers.py")  # what a child process runs
sys.path.insert(0, str(REPO / "python" / "bench"))
sys.path.insert(0, str(REPO / "python" / "src"))

# The step's payload and timing helpers are python/bench/bench_log.py's, so both benchmarks log the same.
from bench_log import MESSAGE, ROLLOUT_REWARDS, metrics, quiet_dir, summary  # type: ignore[import-not-found]  # noqa: F401 (used by the phases)

PROMPT = "What is 2+2?"
COMPLETION = MESSAGE[:1024]
LIBS = ("expt_logger", "wandb", "trackio", "mlflow")

# The account keys are made for (keys create needs one), with this password.
ACCOUNT = "bench@example.com"


# --- servers -----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{url} did not come up in {timeout:.0f} s"
                ) from None
            time.sleep(0.2)


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    key: str = ""
    log: Path | None = None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_expt(binary: Path, data: Path) -> Server:
    port = free_port()
    log = data.parent / "expt.log"
    data.mkdir(parents=True)
    with open(log, "wb") as f:
        proc = subprocess.Popen(
            [str(binary), "serve", "--addr", f"127.0.0.1:{port}", "--data", str(data)],
            stdout=f,
            stderr=f,
        )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/api/health", 30)
    # keys create needs an account: one that can also sign in to look.
    subprocess.run(
        [
            str(binary),
            "users",
            "create",
            "--email",
            "bench@example.com",
            "--password-stdin",
        ]
        + ["--data", str(data)],
        input="test password\n",
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    key = subprocess.run(
        [str(binary), "keys", "create", "--name", "bench", "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    return Server("expt", url, proc, key, log)


def start_mlflow(data: Path) -> Server:
    port = free_port()
    data.mkdir(parents=True)
    log = data.parent / "mlflow.log"
    mlflow = Path(sys.executable).parent / "mlflow"
    with open(log, "wb") as f:
        # Its defaults otherwise (4 workers, artifacts proxied through the server to a local folder).
        proc = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backend-store-uri",
                f"sqlite:///{data}/mlflow.db",
                "--artifacts-destination",
                str(data / "artifacts"),
            ],
            stdout=f,
            stderr=f,
        )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health", 120)
    return Server("mlflow", url, proc, "", log)


def run_child(
    args: list[str], env: dict[str, str], timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """The child's last JSON line, or None and why."""
    try:
        p = subprocess.run(
            [sys.executable, str(PEERS), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"hung: killed after {timeout:.0f} s"
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line), ""
    return None, f"exit {p.returncode}: " + (
        p.stderr.strip().splitlines() or ["no output"]
    )[-1][:200]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EXPT_LOGGER_", "WANDB_", "MLFLOW_"))
    }
    # No telemetry or update checks from any of them: they would put network waits in the figures.
    env.update(
        WANDB_SILENT="true",
        WANDB_DISABLE_GIT="true",
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env
