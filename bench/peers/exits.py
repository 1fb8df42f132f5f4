"""Phase 3: time from end()/finish()/end_run() to process exit, server up and unreachable."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from typing import Any

from caller import step_fns
from common import PEERS, REPO, Server, child_env

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
            str(PEERS),
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
