"""expt-logger side by side with wandb, trackio and mlflow: one run, one machine.

    .venv-bench/bin/python bench/peers/peers.py --expt-bin bin/expt [--quick] [--out FILE.md]

Three phases, each with its own fresh experiments/runs, both servers (`expt serve`, `mlflow server`
on SQLite) started once on 127.0.0.1 with temporary data:

1. caller: the training thread's cost of one step (5 scalars + one ~1 KB rollout) for each library,
   each in its own process so no library's threads or imports touch another's figures;
2. ingest: the same points posted to each server's batch API by the same number of clients;
3. exit: time from end()/finish()/end_run() to process exit, server up and server unreachable
   (refused: the port closed and connections reset; black hole: connections stay open, nothing
   comes back). The child goes through a TCP proxy in this process so the fault starts right before
   end(), the way a network drop hits a training job that has been logging for a while.

Every wait is bounded; a child that outlives its bound is killed and reported as hung.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python" / "bench"))
sys.path.insert(0, str(REPO / "python" / "src"))

# The step's payload and timing helpers are python/bench/bench_log.py's, so both benchmarks log the same.
from bench_log import MESSAGE, ROLLOUT_REWARDS, metrics, quiet_dir, summary  # type: ignore[import-not-found]

PROMPT = "What is 2+2?"
COMPLETION = MESSAGE[:1024]
LIBS = ("expt_logger", "wandb", "trackio", "mlflow")


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


# --- phase 1: caller-side cost ------------------------------------------------------------------------


def step_fns(
    lib: str, url: str, key: str, d: str, end_timeout: float | None = 60
) -> tuple[Callable[[int], None], Callable[[int], None], Callable[[], Any]]:
    """(log a 1 KB rollout at step i, log 5 scalars at step i, end) the way each library's docs do it."""
    if lib == "expt_logger":
        import expt_logger

        run = expt_logger.init(name="bench-caller", api_key=key, base_url=url, dir=d)
        msgs = [{"role": "assistant", "content": COMPLETION}]
        return (
            lambda i: expt_logger.log_rollout(PROMPT, msgs, ROLLOUT_REWARDS),
            lambda i: expt_logger.log(metrics(i)),
            # The exit phase passes None: the library's own default, what `expt_logger.end()` does.
            (lambda: run.end(timeout=end_timeout))
            if end_timeout is not None
            else run.end,
        )
    cols = ["prompt", "completion", *ROLLOUT_REWARDS]
    row = [PROMPT, COMPLETION, *ROLLOUT_REWARDS.values()]
    if lib == "wandb":
        import wandb  # type: ignore[import-not-found]

        # Offline unless the exit phase asks for online mode (against an address that fails).
        run = wandb.init(
            project="bench", mode=os.environ.get("WANDB_MODE", "offline"), dir=d
        )
        # A table per step is how TRL's GRPO trainer logs completions to W&B.
        return (
            lambda i: run.log(
                {"rollout": wandb.Table(columns=cols, data=[row])}, commit=False
            ),
            lambda i: run.log(metrics(i)),
            run.finish,
        )
    if lib == "trackio":
        os.environ["TRACKIO_DIR"] = d
        import trackio  # type: ignore[import-not-found]

        trackio.init(project="bench")
        return (
            lambda i: trackio.log(
                {"rollout": trackio.Table(columns=cols, data=[row])}, step=i
            ),
            lambda i: trackio.log(metrics(i), step=i),
            trackio.finish,
        )
    if lib == "mlflow":
        import mlflow  # type: ignore[import-not-found]

        mlflow.set_tracking_uri(url)
        mlflow.set_experiment(f"bench-caller-{os.getpid()}")
        mlflow.start_run()
        text = json.dumps(
            {"prompt": PROMPT, "completion": COMPLETION, "rewards": ROLLOUT_REWARDS}
        )
        # mlflow has no per-step text record with async logging; an artifact per step is its way
        # (log_table rewrites one growing file each call, which is worse).
        return (
            lambda i: mlflow.log_text(text, f"rollouts/step_{i:06d}.json"),
            lambda i: mlflow.log_metrics(
                {k.replace("/", "_"): v for k, v in metrics(i).items()},
                step=i,
                synchronous=False,
            ),
            mlflow.end_run,
        )
    raise ValueError(lib)


def caller_child(lib: str, url: str, key: str, steps: int, budget: float) -> None:
    with quiet_dir() as d:
        roll, scal, end = step_fns(lib, url, key, d)
        clock = time.perf_counter_ns
        r_ns: list[int] = []
        s_ns: list[int] = []
        deadline = time.monotonic() + budget
        for i in range(steps):
            t0 = clock()
            roll(i)
            t1 = clock()
            scal(i)
            t2 = clock()
            r_ns.append(t1 - t0)
            s_ns.append(t2 - t1)
            if time.monotonic() > deadline:
                break
        t = time.monotonic()
        end()
        end_s = time.monotonic() - t
    step_ns = [a + b for a, b in zip(r_ns, s_ns)]
    print(
        json.dumps(
            {
                "steps": len(step_ns),
                "step": summary(step_ns),
                "rollout": summary(r_ns),
                "scalars": summary(s_ns),
                "end_s": end_s,
            }
        ),
        flush=True,
    )


def run_child(
    args: list[str], env: dict[str, str], timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """The child's last JSON line, or None and why."""
    try:
        p = subprocess.run(
            [sys.executable, __file__, *args],
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


# --- phase 2: server ingestion ------------------------------------------------------------------------


def post(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]
) -> Any:
    conn.request(
        "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
    )
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"POST {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else {}


def get_json(url: str, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=60
    ) as r:
        return json.load(r)


@dataclass
class Target:
    """One server's batch API: how to make a run, encode one request, and count what it stored."""

    name: str
    url: str
    headers: dict[str, str]
    path: Callable[[str], str]
    create: Callable[[int], str]
    encode: Callable[[str, int, int, int], bytes]
    count: Callable[[str], int]
    runs: list[str] = field(default_factory=list)


NAMES = [f"m{j}" for j in range(10)]


def expt_target(s: Server) -> Target:
    h = {"Authorization": f"Bearer {s.key}"}

    def create(c: int) -> str:
        conn = http.client.HTTPConnection(
            "127.0.0.1", urllib.parse.urlsplit(s.url).port, timeout=60
        )
        try:
            return str(
                post(
                    conn,
                    "/api/experiments",
                    json.dumps({"name": f"ingest-{c}"}).encode(),
                    h,
                )["experimentId"]
            )
        finally:
            conn.close()

    def encode(run: str, first_step: int, steps: int, ts_ms: int) -> bytes:
        pts = [
            {
                "step": st,
                "mode": "train",
                "name": n,
                "value": st * 0.001 + j,
                "ts": ts_ms / 1000,
            }
            for st in range(first_step, first_step + steps)
            for j, n in enumerate(NAMES)
        ]
        return json.dumps({"scalars": pts}).encode()

    def count(run: str) -> int:
        got = get_json(f"{s.url}/api/experiments/{run}/metrics", h)
        return sum(int(m["count"]) for m in got["metrics"])

    return Target(
        "expt serve",
        s.url,
        h,
        lambda run: f"/api/experiments/{run}/scalars",
        create,
        encode,
        count,
    )


def mlflow_target(s: Server) -> Target:
    port = urllib.parse.urlsplit(s.url).port
    exp_id: list[str] = []

    def create(c: int) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            if not exp_id:
                exp_id.append(
                    post(
                        conn,
                        "/api/2.0/mlflow/experiments/create",
                        json.dumps({"name": f"ingest-{os.getpid()}"}).encode(),
                        {},
                    )["experiment_id"]
                )
            body = json.dumps(
                {
                    "experiment_id": exp_id[0],
                    "run_name": f"ingest-{c}",
                    "start_time": int(time.time() * 1000),
                }
            ).encode()
            return str(
                post(conn, "/api/2.0/mlflow/runs/create", body, {})["run"]["info"][
                    "run_id"
                ]
            )
        finally:
            conn.close()

    def encode(run: str, first_step: int, steps: int, ts_ms: int) -> bytes:
        pts = [
            {"key": n, "value": st * 0.001 + j, "timestamp": ts_ms, "step": st}
            for st in range(first_step, first_step + steps)
            for j, n in enumerate(NAMES)
        ]
        return json.dumps({"run_id": run, "metrics": pts}).encode()

    def count(run: str) -> int:
        total = 0
        for n in NAMES:
            token = ""
            while True:
                q = urllib.parse.urlencode(
                    {
                        "run_id": run,
                        "metric_key": n,
                        "max_results": 25000,
                        **({"page_token": token} if token else {}),
                    }
                )
                got = get_json(f"{s.url}/api/2.0/mlflow/metrics/get-history?{q}", {})
                total += len(got.get("metrics", []))
                token = got.get("next_page_token", "")
                if not token:
                    break
        return total

    return Target(
        "mlflow server",
        s.url,
        {},
        lambda run: "/api/2.0/mlflow/runs/log-batch",
        create,
        encode,
        count,
    )


def ingest(t: Target, clients: int, requests: int, budget: float) -> dict[str, Any]:
    """`clients` threads, each its own run, each posting `requests` bodies of 1,000 points (100 steps x 10
    metrics). Bodies are encoded before the clock starts so the client's JSON work is not in the figure."""
    port = urllib.parse.urlsplit(t.url).port
    runs = [t.create(c) for c in range(clients)]
    ts = int(time.time() * 1000)
    bodies = [
        [t.encode(runs[c], r * 100, 100, ts) for r in range(requests)]
        for c in range(clients)
    ]
    done = [0] * clients
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    deadline = time.monotonic() + budget

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for body in bodies[c]:
                if time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                post(conn, t.path(runs[c]), body, t.headers)
                lat[c].append(time.perf_counter() - t0)
                done[c] += 1
        except Exception as exc:  # noqa: BLE001 -- reported with the figures; the other clients go on
            errors.append(repr(exc)[:300])
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(budget + 90)
    elapsed = time.perf_counter() - t0
    sent = sum(done) * 1000
    stored = sum(t.count(r) for r in runs)
    all_lat = sorted(x for xs in lat for x in xs)
    return {
        "points": sent,
        "stored": stored,
        "seconds": elapsed,
        "points_per_s": sent / elapsed if elapsed else 0.0,
        "req_p50_ms": statistics.median(all_lat) * 1000 if all_lat else 0.0,
        "req_p99_ms": all_lat[int(len(all_lat) * 0.99)] * 1000 if all_lat else 0.0,
        "complete": sum(done) == clients * requests,
        "errors": errors,
    }


# --- phase 3: end() to exit ---------------------------------------------------------------------------


class Proxy:
    """A TCP forwarder on 127.0.0.1 that can start refusing (listener closed, connections reset) or black-
    holing (everything accepted and read, nothing forwarded or answered) at a moment of our choosing."""

    def __init__(self, upstream_port: int | None) -> None:
        self.upstream_port = upstream_port
        self.mode = "up" if upstream_port else "blackhole"
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(128)
        self.port = int(self.lsock.getsockname()[1])
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                self.socks.append(c)
            if self.mode == "up" and self.upstream_port:
                try:
                    u = socket.create_connection(
                        ("127.0.0.1", self.upstream_port), timeout=10
                    )
                except OSError:
                    c.close()
                    continue
                u.settimeout(None)
                with self.lock:
                    self.socks.append(u)
                threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
                threading.Thread(target=self._pump, args=(u, c), daemon=True).start()
            else:
                threading.Thread(target=self._pump, args=(c, None), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket | None) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if dst is not None and self.mode == "up":
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            if self.mode == "up" and dst is not None:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def fault(self, mode: str) -> None:
        self.mode = mode
        if mode == "refused":
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.lsock.close()
        with self.lock:
            for s in self.socks:
                try:  # RST rather than FIN: what a dead host or a dropped route looks like to the client
                    s.setsockopt(
                        socket.SOL_SOCKET,
                        socket.SO_LINGER,
                        b"\x01\x00\x00\x00\x00\x00\x00\x00",
                    )
                    s.close()
                except OSError:
                    pass


def exit_child(lib: str, url: str, key: str, steps: int) -> None:
    """Log `steps` steps, tell the parent, wait for its go (it injects the fault then), then end and exit."""
    d = tempfile.mkdtemp(prefix="peers-exit-")
    os.chdir(d)
    t = time.monotonic()
    try:
        roll, scal, end = step_fns(lib, url, key, d, end_timeout=None)
    except Exception as exc:  # noqa: BLE001 -- any failure to start is a result (wandb online, no server)
        print(
            json.dumps(
                {"init_failed": repr(exc)[:200], "init_s": time.monotonic() - t}
            ),
            flush=True,
        )
        sys.exit(3)
    init_s = time.monotonic() - t
    for i in range(steps):
        roll(i)
        scal(i)
    print(json.dumps({"ready": True, "init_s": init_s}), flush=True)
    sys.stdin.readline()
    t_end = time.monotonic()
    print(json.dumps({"end_at": t_end, "init_s": init_s}), flush=True)
    try:
        end()
    finally:
        print(json.dumps({"end_returned_at": time.monotonic()}), flush=True)
    # Process exit after this includes atexit hooks and non-daemon threads: that is what we measure.


def measure_exit(
    lib: str, fault: str, upstream: Server | None, steps: int, timeout: float
) -> dict[str, Any]:
    proxy = Proxy(urllib.parse.urlsplit(upstream.url).port if upstream else None)
    url = f"http://127.0.0.1:{proxy.port}"
    extra: dict[str, str] = {}
    if lib == "wandb":
        if fault == "local":
            extra = {"WANDB_MODE": "offline"}
        else:  # there is no W&B server here: online mode against an address that never works
            extra = {
                "WANDB_MODE": "online",
                "WANDB_BASE_URL": url,
                "WANDB_API_KEY": "x" * 40,
            }
            proxy.fault(fault)
    env = child_env(extra)
    start = time.monotonic()
    p = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "exit-child",
            lib,
            url,
            upstream.key if upstream else "",
            str(steps),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert p.stdin is not None and p.stdout is not None
    out: dict[str, Any] = {"lib": lib, "fault": fault}
    end_at = None
    hard = start + timeout * 3  # logging + init + end, each within `timeout`
    try:
        while True:
            left = hard - time.monotonic()
            if end_at is not None:
                left = min(left, end_at + timeout - time.monotonic())
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([p.stdout], [], [], left)
            if not r:
                continue
            line = p.stdout.readline()
            if not line:
                break
            if not line.startswith("{"):
                continue
            msg = json.loads(line)
            out.setdefault("init_s", msg.get("init_s"))
            if msg.get("init_failed"):
                out["note"] = (
                    f"init failed after {msg['init_s']:.1f} s: {msg['init_failed']}"
                )
            if msg.get("ready"):
                if fault in ("refused", "blackhole") and lib != "wandb":
                    proxy.fault(fault)
                p.stdin.write("go\n")
                p.stdin.flush()
            if "end_at" in msg:
                end_at = msg["end_at"]
            if "end_returned_at" in msg and end_at is not None:
                out["end_call_s"] = msg["end_returned_at"] - end_at
        left = (
            (end_at + timeout - time.monotonic())
            if end_at is not None
            else hard - time.monotonic()
        )
        p.wait(max(left, 0.1))
        exited = time.monotonic()
        if end_at is not None:
            out["exit_s"] = exited - end_at
        out["rc"] = p.returncode
    except (TimeoutError, subprocess.TimeoutExpired):
        p.kill()
        p.wait(10)
        out["hung"] = True
        out["note"] = (
            f"hung: still running {timeout:.0f} s after end(), killed"
            if end_at is not None
            else out.get("note", "hung before end(), killed")
        )
    finally:
        proxy.close()
    return out


# --- orchestration and report -------------------------------------------------------------------------


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("wandb", "trackio", "mlflow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor()}{mem}, {platform.system()} {platform.release()}"


def loadavg() -> str:
    """1-minute load: the machine is shared, so what else ran shows in the figures."""
    return f"{os.getloadavg()[0]:.2f}"


def fmt_us(x: float) -> str:
    return f"{x / 1000:.2f} ms" if x >= 1000 else f"{x:.1f} µs"


def ratio(x: float, base: float) -> str:
    return (
        "1x"
        if x == base
        else (f"{x / base:.0f}x" if x / base >= 10 else f"{x / base:.1f}x")
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "caller-child":
        caller_child(
            sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
        )
        return
    if len(sys.argv) > 1 and sys.argv[1] == "exit-child":
        exit_child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--expt-bin", type=Path, default=REPO / "bin" / "expt")
    ap.add_argument(
        "--steps", type=int, default=3000, help="caller phase: steps per library"
    )
    ap.add_argument(
        "--step-budget",
        type=float,
        default=60,
        help="caller phase: seconds per library at most",
    )
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument(
        "--requests",
        type=int,
        default=50,
        help="ingest phase: 1,000-point requests per client",
    )
    ap.add_argument(
        "--exit-timeout",
        type=float,
        default=45,
        help="exit phase: seconds after end() before 'hung'",
    )
    ap.add_argument(
        "--exit-reps",
        type=int,
        default=3,
        help="exit phase: runs per library with the server up",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="small sizes: checks the script, not the figures",
    )
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if a.quick:
        a.steps, a.requests, a.exit_reps, a.exit_timeout, a.step_budget = (
            200,
            5,
            1,
            20,
            20,
        )

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    load0 = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="peers-"))
    servers: list[Server] = []
    try:
        say("starting expt serve and mlflow server ...")
        ex = start_expt(a.expt_bin, tmp / "expt")
        servers.append(ex)
        ml = start_mlflow(tmp / "mlflow")
        servers.append(ml)

        say(f"caller: {a.steps} steps per library ...")
        caller: dict[str, dict[str, Any]] = {}
        for lib in LIBS:
            url, key = (
                (ex.url, ex.key)
                if lib == "expt_logger"
                else (ml.url, "")
                if lib == "mlflow"
                else ("", "")
            )
            got, why = run_child(
                [
                    "caller-child",
                    lib,
                    url,
                    key or "-",
                    str(a.steps),
                    str(a.step_budget),
                ],
                child_env(),
                a.step_budget + 180,
            )
            caller[lib] = got or {"error": why}
            say(f"  {lib}: {json.dumps(caller[lib])[:300]}")

        say(
            f"ingest: {a.clients} clients x {a.requests} requests x 1,000 points per server ..."
        )
        ingest_res: dict[str, dict[str, Any]] = {}
        for t in (expt_target(ex), mlflow_target(ml)):
            try:
                ingest_res[t.name] = ingest(t, a.clients, a.requests, 120)
            except Exception as exc:  # noqa: BLE001 -- one server failing must not hide the other's figure
                ingest_res[t.name] = {"error": repr(exc)[:300]}
            say(f"  {t.name}: {json.dumps(ingest_res[t.name])[:300]}")

        say("exit: end() to process exit ...")
        exits: list[dict[str, Any]] = []
        cases: list[tuple[str, str, Server | None, int]] = [
            ("expt_logger", "up", ex, a.exit_reps),
            ("wandb", "local", None, a.exit_reps),
            ("trackio", "local", None, a.exit_reps),
            ("mlflow", "up", ml, a.exit_reps),
        ]
        for fault in ("refused", "blackhole"):
            cases += [
                ("expt_logger", fault, ex, 1),
                ("wandb", fault, None, 1),
                ("mlflow", fault, ml, 1),
            ]
        healthy = [c for c in cases if c[1] in ("up", "local")]
        faulty = [c for c in cases if c not in healthy]
        for lib, fault, srv, reps in healthy:
            for _ in range(reps):
                r = measure_exit(lib, fault, srv, 100, a.exit_timeout)
                exits.append(r)
                say(f"  {lib} {fault}: {json.dumps(r)}")
        # The fault cases mostly wait on timeouts (wandb's init alone gives up after 90 s), so they run
        # side by side, each with its own proxy; run one by one they would triple the phase.
        with ThreadPoolExecutor(len(faulty)) as pool:
            for r in pool.map(
                lambda c: measure_exit(c[0], c[1], c[2], 100, a.exit_timeout), faulty
            ):
                exits.append(r)
                say(f"  {r['lib']} {r['fault']}: {json.dumps(r)}")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    report = render(a, (load0, loadavg()), caller, ingest_res, exits)
    print(report)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(report)
        say(f"wrote {a.out}")


def render(
    a: argparse.Namespace,
    load: tuple[str, str],
    caller: dict[str, dict[str, Any]],
    ing: dict[str, dict[str, Any]],
    exits: list[dict[str, Any]],
) -> str:
    v = versions()
    out = [
        f"# expt-logger against wandb, trackio and mlflow ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}; load average {load[0]} at the start, {load[1]} at the end.  ",
        (
            f"Python {v['python']}; wandb {v['wandb']}, trackio {v['trackio']}, mlflow {v['mlflow']}; "
            f"expt-logger from this repository ({git_rev()}).  "
        ),
        "One run of `make bench-peers` (bench/peers/run.sh); client and servers share the machine.",
        "",
        "## Caller-side cost of one training step (5 scalars + one ~1 KB rollout)",
        "",
        (
            "Each library in its own process, the training thread timed around its calls while the library's "
            "background machinery runs. expt-logger online to `expt serve`; wandb offline; trackio local; mlflow "
            "`log_metrics(synchronous=False)` + `log_text` (its way to keep a text per step) to `mlflow server`."
        ),
        "",
        "| library | steps | step median | step p99 | scalars median | rollout median | vs expt-logger | end() (flush) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = caller.get("expt_logger", {}).get("step", {}).get("median_us")
    for lib in LIBS:
        c = caller.get(lib, {})
        if "error" in c:
            out.append(f"| {lib} | — | {c['error']} | | | | | |")
            continue
        s = c["step"]
        out.append(
            f"| {lib} | {c['steps']} | {fmt_us(s['median_us'])} | {fmt_us(s['p99_us'])} | "
            f"{fmt_us(c['scalars']['median_us'])} | {fmt_us(c['rollout']['median_us'])} | "
            f"{ratio(s['median_us'], base) if base else '—'} | {c['end_s']:.2f} s |"
        )
    out += [
        "",
        f"## Server ingestion ({a.clients} clients, each its own run, 1,000 points per request)",
        "",
        "Bodies are encoded before the clock starts; `stored` is counted back through each server's read API.",
        "",
        "| server | points | stored | seconds | points/s | request p50 | request p99 | vs expt serve |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    eb = ing.get("expt serve", {}).get("points_per_s")
    for name, r in ing.items():
        if "error" in r:
            out.append(f"| {name} | {r['error']} | | | | | | |")
            continue
        vs = "—"
        if eb and r["points_per_s"]:
            vs = (
                "1x"
                if name == "expt serve"
                else f"{eb / r['points_per_s']:.1f}x slower"
            )
        note = (
            ""
            if r["complete"] and not r["errors"]
            else f" (incomplete: {'; '.join(r['errors'])[:200]})"
        )
        out.append(
            f"| {name} | {r['points']:,} | {r['stored']:,} | {r['seconds']:.1f} | {r['points_per_s']:,.0f}{note} | "
            f"{r['req_p50_ms']:.1f} ms | {r['req_p99_ms']:.1f} ms | {vs} |"
        )
    out += [
        "",
        "## From end() to process exit",
        "",
        (
            "The child logs 100 steps first; for `refused` and `blackhole` the proxy between it and its server "
            "fails right before end() (wandb has no server here: online mode against the failing address from "
            f"init on). A child still alive {a.exit_timeout:.0f} s after end() is killed and counted as hung. "
            "Median of the runs when there are several. end() is called with each library's defaults; the "
            "six fault cases run at the same time (they mostly wait)."
        ),
        "",
        "| library | server | runs | end() returns | process exits | vs expt-logger | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in exits:
        by.setdefault((r["lib"], r["fault"]), []).append(r)
    base_exit: dict[str, float] = {}
    for (lib, fault), rs in by.items():
        ok = [r["exit_s"] for r in rs if "exit_s" in r]
        if lib == "expt_logger" and ok:
            base_exit[fault] = statistics.median(ok)
    for (lib, fault), rs in by.items():
        ok = [r["exit_s"] for r in rs if "exit_s" in r]
        calls = [r["end_call_s"] for r in rs if "end_call_s" in r]
        hung = sum(1 for r in rs if r.get("hung"))
        init_failed = all("init failed" in r.get("note", "") for r in rs)
        med = statistics.median(ok) if ok else None
        b = base_exit.get("up" if fault == "local" else fault)
        cmp = "—"
        if med is not None and b:
            cmp = ratio(med, b)
        elif hung and b:
            cmp = f">{a.exit_timeout / b:.1f}x"
        notes = sorted(
            {
                " ".join(r["note"].replace("\\n", " ").split())[:160]
                for r in rs
                if r.get("note")
            }
        )
        if any(r.get("rc") not in (0, None) for r in rs):
            notes.append("exit codes " + ",".join(str(r.get("rc")) for r in rs))
        out.append(
            f"| {lib} | {fault} | {len(rs)} | {f'{statistics.median(calls):.2f} s' if calls else '—'} | "
            f"{f'{med:.2f} s' if med is not None else exits_cell(init_failed, a.exit_timeout)} | {cmp} | "
            f"{'; '.join(notes)} |"
        )
    return "\n".join(out) + "\n"


def exits_cell(init_failed: bool, timeout: float) -> str:
    return "never got to end()" if init_failed else f"hung (>{timeout:.0f} s)"


def git_rev() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"


if __name__ == "__main__":
    main()
