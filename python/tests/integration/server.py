"""The real `expt` binary, built from this repository, run on 127.0.0.1 with a temp data dir."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

LISTENING = re.compile(r"expt listening on (http://\S+)")

# The account keys are made for (keys create needs one), with this password.
ACCOUNT = "test@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ExptServer:
    def __init__(self, binary: Path, data: Path, args: list[str] | None = None, db: str | None = None) -> None:
        self.binary = binary
        self.data = data
        self.db = db  # a postgres:// URL to serve from instead of SQLite in data
        self.args = args or []  # more `expt serve` flags
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = 0
        self.key = ""
        self.log: list[str] = []

    def start(self, port: int | None = None) -> ExptServer:
        """Start `expt serve` (on `port`, or the previous one, or any) and wait for its listening line."""
        port = port if port is not None else self.port
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--addr", f"127.0.0.1:{port}", *self.store_args, *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        found: list[str] = []
        ready = threading.Event()

        def pump(stream: Any) -> None:  # keep reading so the server never blocks on a full pipe
            for line in stream:
                self.log.append(line)
                m = LISTENING.search(line)
                if m and not found:
                    found.append(m.group(1))
                    ready.set()
            ready.set()

        self.pump = threading.Thread(target=pump, args=(self.proc.stderr,), daemon=True)
        self.pump.start()
        if not ready.wait(30) or not found:
            self.stop()
            raise RuntimeError("expt serve did not start:\n" + "".join(self.log))
        self.url = found[0].rstrip("/")
        self.port = urllib.parse.urlsplit(self.url).port or 0
        if not self.key:
            # keys create needs an account: one that can also sign in to look.
            subprocess.run(
                [
                    *[str(self.binary), "users", "create", "--email", "test@example.com"],
                    "--password-stdin",
                    *self.store_args,
                ],
                input="test password\n",
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            )
            self.key = subprocess.run(
                [str(self.binary), "keys", "create", "--name", "test", *self.store_args],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        return self

    @property
    def store_args(self) -> list[str]:
        return ["--db", self.db] if self.db else ["--data", str(self.data)]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.pump.join(5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
        self.proc = None

    def get(self, path: str) -> Any:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.key}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def experiment(self, eid: str) -> dict[str, Any]:
        return self.get(f"/api/experiments/{eid}")  # type: ignore[no-any-return]

    def scalars(self, eid: str, mode: str = "train") -> dict[str, dict[int, Any]]:
        """{name: {step: value}}; the endpoint lists points, so a duplicate would show as a repeated step."""
        got = self.get(f"/api/experiments/{eid}/scalars?mode={mode}")
        out: dict[str, dict[int, Any]] = {}
        for name, points in got.items():
            steps = [p["step"] for p in points]
            assert len(steps) == len(set(steps)), f"duplicate steps in {mode}/{name}"
            out[name] = {p["step"]: p["value"] for p in points}
        return out

    def rollouts(self, eid: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.get(f"/api/experiments/{eid}/rollouts?limit=1000&offset={len(out)}&sort=step&order=asc")
            out.extend(page["rollouts"])
            if not page.get("more"):
                return out

    def wait_until(self, cond: Any, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if cond():
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.1)


def env_for(server: ExptServer, spool: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPT_LOGGER_")}
    env.update(EXPT_LOGGER_API_KEY=server.key, EXPT_LOGGER_BASE_URL=server.url, EXPT_LOGGER_DIR=str(spool), **extra)
    return env
