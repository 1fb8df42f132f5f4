"""The pieces every fault scenario uses: the real `expt serve`, the training subprocess, and the count.

The count is the point of each scenario: every scalar and rollout the training process logged is read
back through the HTTP API and must be there exactly once, except for what a scenario explicitly allows
(the last second before a SIGKILL of the training process, or the stretch a full disk documents).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TRAINER = HERE / "trainer.py"
LISTENING = re.compile(r"expt listening on (http://\S+)")

sys.path.insert(0, str(HERE))
import trainer  # noqa: E402  (the expected content of each step)

# The account keys are made for (keys create needs one), with this password.
ACCOUNT = "faults@example.com"


class Server:
    """`expt serve` on 127.0.0.1 with a temp data dir; restartable on the same port after a SIGKILL."""

    def __init__(self, binary: Path, data: Path) -> None:
        self.binary = binary
        self.data = data
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.url = ""
        self.key = ""
        self.log: list[str] = []
        self.starts = 0

    def start(self) -> Server:
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "serve",
                "--addr",
                f"127.0.0.1:{self.port}",
                "--data",
                str(self.data),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        found: list[str] = []
        ready = threading.Event()

        def pump(
            stream: Any,
        ) -> None:  # keep reading so the server never blocks on a full pipe
            for line in stream:
                self.log.append(line)
                m = LISTENING.search(line)
                if m and not found:
                    found.append(m.group(1))
                    ready.set()
            ready.set()

        self._pump = threading.Thread(
            target=pump, args=(self.proc.stderr,), daemon=True
        )
        self._pump.start()
        if not ready.wait(30) or not found:
            self.kill()
            raise RuntimeError("expt serve did not start:\n" + "".join(self.log[-30:]))
        self.url = found[0].rstrip("/")
        self.port = urllib.parse.urlsplit(self.url).port or 0
        self.starts += 1
        if not self.key:
            # keys create needs an account: one that can also sign in to look.
            subprocess.run(
                [
                    str(self.binary),
                    "users",
                    "create",
                    "--email",
                    ACCOUNT,
                    "--password-stdin",
                    "--data",
                    str(self.data),
                ],
                input="test password\n",
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            )
            self.key = subprocess.run(
                [
                    str(self.binary),
                    "keys",
                    "create",
                    "--name",
                    "faults",
                    "--data",
                    str(self.data),
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._pump.join(5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
        self.proc = None

    def get(self, path: str) -> Any:
        req = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.key}"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def post(self, path: str, body: Any) -> Any:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.key}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def scalar_points(
        self, eid: str
    ) -> tuple[Counter[tuple[str, int]], dict[tuple[str, int], Any]]:
        """(name, step) -> how many points the server lists for it, and the value of each. The server
        keeps one point per series and step (a replay overwrites), so for scalars a wrong value, not a
        repeated step, is what a misdirected replay would leave."""
        got = self.get(f"/api/experiments/{eid}/scalars?mode=train")
        pts = [
            (name, p["step"], p["value"])
            for name, points in got.items()
            for p in points
        ]
        return Counter((n, s) for n, s, _ in pts), {(n, s): v for n, s, v in pts}

    def rollout_ids(self, eid: str) -> Counter[tuple[int, str]]:
        """(step, completion) -> how many rollouts the server lists with it."""
        out: Counter[tuple[int, str]] = Counter()
        offset = 0
        while True:
            page = self.get(
                f"/api/experiments/{eid}/rollouts?limit=1000&offset={offset}&sort=step&order=asc"
            )
            for r in page["rollouts"]:
                out[(r["step"], r["messages"][-1]["content"])] += 1
            offset += len(page["rollouts"])
            if not page.get("more") or not page["rollouts"]:
                return out


@dataclass
class Steps:
    """The training process's own record: step -> (unix time it ended, wall seconds it took)."""

    end: dict[int, float] = field(default_factory=dict)
    wall: dict[int, float] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Steps:
        s = cls()
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue  # a torn last line: the step's logging calls had returned, its record had not
            step = int(parts[0])
            s.end[step] = float(parts[1])
            s.wall[step] = float(parts[2])
        return s

    def report(self, name: str) -> dict[str, float]:
        w = sorted(self.wall.values())
        if not w:
            return {}
        p99 = w[min(len(w) - 1, int(len(w) * 0.99))]
        worst_step = max(self.wall, key=lambda k: self.wall[k])
        figures = {
            "steps": len(w),
            "median_ms": w[len(w) // 2] * 1e3,
            "p99_ms": p99 * 1e3,
            "worst_ms": w[-1] * 1e3,
        }
        print(
            f"\n[{name}] {len(w)} steps; step wall time median {figures['median_ms']:.2f} ms, "
            f"p99 {figures['p99_ms']:.2f} ms, worst {figures['worst_ms']:.2f} ms (step {worst_step})"
        )
        return figures


def env_for(server: Server, url: str, spool: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPT_LOGGER_")}
    env.update(
        EXPT_LOGGER_API_KEY=server.key,
        EXPT_LOGGER_BASE_URL=url,
        EXPT_LOGGER_DIR=str(spool),
        # The scenarios count every logged item; system samples would add some at their own pace.
        EXPT_LOGGER_SYSTEM_METRICS="0",
    )
    env.update(extra)
    return env


class Trainer:
    """The training subprocess; `eid` is known once it printed READY."""

    def __init__(self, env: dict[str, str], steps_file: Path) -> None:
        self.steps_file = steps_file
        env = dict(env, STEPS_FILE=str(steps_file), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(TRAINER)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=10)
            raise RuntimeError(f"trainer did not start: {line!r}\n{err}")
        self.eid = line.split()[1]
        self.killed_at: float | None = None

    def wait(self, timeout: float) -> tuple[str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return out, err

    def sigkill(self) -> None:
        self.killed_at = time.time()
        self.proc.kill()
        self.proc.communicate(
            timeout=10
        )  # reap it: a zombie's pid still looks alive to `sync`

    def steps(self) -> Steps:
        return Steps.read(self.steps_file)


@dataclass
class Count:
    """Expected versus found, item by item."""

    logged_steps: int
    missing_scalars: list[tuple[str, int]]
    missing_rollouts: list[tuple[int, str]]
    duplicate_scalars: list[tuple[str, int]]
    duplicate_rollouts: list[tuple[int, str]]
    wrong_values: list[tuple[str, int]]
    unexpected: int
    forgiven: int  # missing items a scenario allows (SIGKILL's last second, a full disk's stretch)

    def ok(self) -> bool:
        return not (
            self.missing_scalars
            or self.missing_rollouts
            or self.duplicate_scalars
            or self.duplicate_rollouts
            or self.wrong_values
            or self.unexpected
        )

    def __str__(self) -> str:
        def steps(keys: list[tuple[Any, Any]], i: int) -> str:
            return (
                f"{len(keys)} (steps {_ranges(sorted({k[i] for k in keys}))})"
                if keys
                else "0"
            )

        return (
            f"{self.logged_steps} steps logged; missing {steps(self.missing_scalars, 1)} scalars and "
            f"{steps(self.missing_rollouts, 0)} rollouts; duplicated {steps(self.duplicate_scalars, 1)} scalars "
            f"and {steps(self.duplicate_rollouts, 0)} rollouts; {steps(self.wrong_values, 1)} wrong values; "
            f"{self.unexpected} unexpected; "
            f"{self.forgiven} allowed missing"
        )


def _ranges(xs: list[int]) -> str:
    out: list[str] = []
    for x in xs:
        if out and int(out[-1].split("-")[-1]) == x - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{x}"
        else:
            out.append(str(x))
    return ", ".join(out[:8]) + (" ..." if len(out) > 8 else "")


def count(
    server: Server, eid: str, steps: Steps, may_miss: set[int] | None = None
) -> Count:
    """Compare the server's points and rollouts with what `steps` says was logged. Steps in `may_miss`
    may be absent (wholly or partly) but never duplicated. A step after the last recorded one may be on
    the server (logged, then killed before its record was written) but only once."""
    may_miss = may_miss or set()
    points, values = server.scalar_points(eid)
    rollouts = server.rollout_ids(eid)
    want_s = {(k, s) for s in steps.end for k in trainer.SCALARS}
    want_r = {
        (s, trainer.completion(s, j)) for s in steps.end for j in range(trainer.GROUP)
    }
    last = max(steps.end, default=-1)
    torn_s = {(k, last + 1) for k in trainer.SCALARS}
    torn_r = {(last + 1, trainer.completion(last + 1, j)) for j in range(trainer.GROUP)}
    miss_s = sorted(k for k in want_s if points[k] == 0)
    miss_r = sorted(k for k in want_r if rollouts[k] == 0)
    forgiven = len([k for k in miss_s if k[1] in may_miss]) + len(
        [k for k in miss_r if k[0] in may_miss]
    )
    return Count(
        logged_steps=len(steps.end),
        missing_scalars=[k for k in miss_s if k[1] not in may_miss],
        missing_rollouts=[k for k in miss_r if k[0] not in may_miss],
        duplicate_scalars=sorted(k for k, n in points.items() if n > 1),
        duplicate_rollouts=sorted(k for k, n in rollouts.items() if n > 1),
        wrong_values=sorted(
            k
            for k, v in values.items()
            if k in want_s | torn_s and v != trainer.scalars(k[1])[k[0]]
        ),
        unexpected=len([k for k in points if k not in want_s and k not in torn_s])
        + len([k for k in rollouts if k not in want_r and k not in torn_r]),
        forgiven=forgiven,
    )
