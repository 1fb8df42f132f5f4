"""Fault scenarios: a simulated GRPO training process (faults/trainer.py, the real Python SDK) logs to the
real `expt serve` through a fault proxy (faults/proxy.py), while each scenario breaks one thing. Each ends
by counting every point and rollout through the API (harness.count) and reporting the step times.

Step time bound: a step is 5 ms of compute plus the logging calls. The SDK's claim is that no network
wait ever reaches the training thread; had one done so, a step would take as long as the fault lasts
(a 5 s black hole, the SDK's 30 s socket timeout, a 0.5-1 s server restart). WORST_STEP = 1 s is far
above scheduler and GIL jitter on a loaded 2-core CI machine (measured worst: tens of ms, see the
printed figures and faults/README.md) and far below any of those faults, so it tells a stall from noise
without being a timing benchmark.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trainer
from harness import Count, Server, Steps, Trainer, count, env_for
from proxy import FaultProxy

WORST_STEP = 1.0
KILL_GRACE = (
    1.0  # the issue allows the last second before a SIGKILL of the training process
)


def check_steps(name: str, steps: Steps) -> None:
    fig = steps.report(name)
    assert fig["steps"] > 100, "the training loop ran"
    assert fig["worst_ms"] < WORST_STEP * 1e3, f"a step stalled: {fig}"


def finish(tr: Trainer, timeout: float = 45) -> None:
    out, err = tr.wait(timeout)
    assert tr.proc.returncode == 0, f"training process failed:\n{err}"
    assert "END True" in out, f"end() did not deliver everything:\n{out}\n{err}"


def assert_count(c: Count) -> None:
    print(f"  count: {c}")
    assert c.ok(), str(c)


def test_network_faults(server: Server, proxy: FaultProxy, tmp_path: Path) -> None:
    """A 5 s black hole, stretches of 503, 502 and 500, then drops, resets, lost acknowledgements and
    delays at random, then a slow link. Each stretch lasts until a request met its fault (capped)."""
    stop = tmp_path / "stop"
    tr = Trainer(
        env_for(
            server, proxy.url, tmp_path / "spool", DURATION="60", STOP_FILE=str(stop)
        ),
        tmp_path / "steps",
    )
    time.sleep(1.0)

    def recover() -> None:
        # Let one request through so the SDK's retry backoff (up to 30 s after a run of failures)
        # starts again from 0.5 s: otherwise the next stretch can pass with no request to hit.
        proxy.hold("pass", 0.0, ("pass",), cap=50.0)

    proxy.hold("blackhole", 5.0, ("blackhole",))
    for status in ("503", "502", "500"):
        recover()
        proxy.hold(f"http:{status}", 1.0, (f"http:{status}",))
    recover()
    proxy.hold("chaos", 3.0, ("drop", "reset", "ackloss"))
    recover()
    proxy.hold("delay", 1.0, ("delay",))
    stop.touch()
    finish(tr)
    print(f"\n  faults injected: {dict(sorted(proxy.counts.items()))}")
    for kind in (
        "drop",
        "reset",
        "ackloss",
        "blackhole",
        "http:503",
        "http:502",
        "http:500",
        "delay",
    ):
        assert proxy.counts.get(kind), (
            f"no {kind} fault happened: the scenario did not test it"
        )
    assert_count(count(server, tr.eid, tr.steps()))
    check_steps("network faults", tr.steps())


def test_server_sigkilled_and_restarted(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    """The server is SIGKILLed four times mid-run and comes back on the same port with the same data."""
    tr = Trainer(
        env_for(server, proxy.url, tmp_path / "spool", DURATION="12"),
        tmp_path / "steps",
    )
    for down in (0.3, 1.0, 0.5, 2.0):
        time.sleep(1.5)
        server.kill()
        time.sleep(down)
        server.start()
    finish(tr)
    assert server.starts == 5
    print(
        f"\n  server SIGKILLed and restarted {server.starts - 1} times; proxy saw {proxy.counts}"
    )
    assert_count(count(server, tr.eid, tr.steps()))
    check_steps("server restarts", tr.steps())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs for the spool: a real ENOSPC from a real filesystem, unlike RLIMIT_FSIZE (a per-file
    limit that raises EFBIG and SIGXFSZ, which no full disk does). Mounting needs root, which CI has."""
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(d)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {r.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def fill(disk: Path) -> Path:
    """Write a ballast file until the filesystem is full."""
    ballast = disk / "ballast"
    block = b"\0" * (1 << 16)
    with open(ballast, "wb", buffering=0) as f:
        while True:
            try:
                f.write(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    # A write of one more byte must fail: the disk is really full.
    with pytest.raises(OSError), open(disk / "probe", "wb", buffering=0) as f:
        f.write(b"x" * 4096)
    return ballast


def test_spool_disk_full(
    server: Server, proxy: FaultProxy, small_disk: Path, tmp_path: Path
) -> None:
    """The spool's filesystem fills for 3 s, the server being down meanwhile so that the spool is the only
    place the data can go. Training goes on; what was logged outside the full stretch arrives exactly once;
    what was logged during it may be lost (documented: the SDK drops what it cannot write, warning once)."""
    spool = small_disk / "spool"
    tr = Trainer(env_for(server, proxy.url, spool, DURATION="10"), tmp_path / "steps")
    time.sleep(2.0)
    proxy.set("http:503")  # nothing leaves the spool: it has to hold everything
    time.sleep(0.5)
    ballast = fill(small_disk)
    full_from = time.time()
    time.sleep(3.0)
    ballast.unlink()
    (small_disk / "probe").unlink(missing_ok=True)
    full_until = time.time()
    time.sleep(1.0)
    proxy.set("pass")
    out, err = tr.wait(60)
    assert tr.proc.returncode == 0, f"training process crashed on a full disk:\n{err}"
    assert "END True" in out, f"end() did not deliver:\n{out}\n{err}"
    assert "spool" in err, f"no warning about the full disk:\n{err}"
    steps = tr.steps()
    window = {
        s
        for s, t in steps.end.items()
        if full_from - KILL_GRACE <= t <= full_until + KILL_GRACE
    }
    c = count(server, tr.eid, steps, may_miss=window)
    print(
        f"\n  disk full for {full_until - full_from:.1f} s, {len(window)} steps in the allowed window"
    )
    assert_count(c)
    check_steps("spool disk full", steps)


def test_trainer_sigkilled_then_sync(
    server: Server, proxy: FaultProxy, tmp_path: Path
) -> None:
    """The training process is SIGKILLed while the network misbehaves (so part of its data is only in the
    spool, and part was received by the server without the client knowing); `sync` uploads the rest."""
    spool = tmp_path / "spool"
    env = env_for(server, proxy.url, spool, DURATION="30")
    tr = Trainer(env, tmp_path / "steps")
    time.sleep(1.5)
    proxy.hold("chaos", 2.0, ("ackloss",), cap=6.0)
    proxy.set("http:503")
    time.sleep(1.5)
    proxy.set("chaos")
    tr.sigkill()
    proxy.set("pass")
    steps = tr.steps()
    assert tr.killed_at is not None
    last_second = {s for s, t in steps.end.items() if t >= tr.killed_at - KILL_GRACE}
    out = subprocess.run(
        [sys.executable, "-m", "expt_logger", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    print(f"\n  sync: {out.stdout.strip()}")
    c = count(server, tr.eid, steps, may_miss=last_second)
    assert_count(c)
    # A second sync finds nothing and changes nothing.
    again = subprocess.run(
        [sys.executable, "-m", "expt_logger", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "nothing to upload" in again.stderr, again
    assert count(server, tr.eid, steps, may_miss=last_second) == c
    check_steps("training SIGKILLed", steps)
    assert not [p for p in os.scandir(spool / "runs")], "sync left a spool behind"


def test_count_sees_duplicates_and_gaps(server: Server, tmp_path: Path) -> None:
    """The count itself can fail: a rollout posted twice (with a fresh idempotency key) shows as a
    duplicate, a point overwritten with another value as wrong, a step the server never got as missing."""
    env = env_for(server, server.url, tmp_path / "spool", STEPS="20", DURATION="30")
    tr = Trainer(env, tmp_path / "steps")
    finish(tr)
    steps = tr.steps()
    assert count(server, tr.eid, steps).ok()
    again = {
        "rollouts": {
            "rollouts": [
                {
                    "step": 3,
                    "mode": "train",
                    "promptText": "prompt 3: what is 6*7?",
                    "messages": [
                        {"role": "assistant", "content": trainer.completion(3, 1)}
                    ],
                    "rewards": [{"name": "correct", "value": 1.0}],
                }
            ]
        },
        "scalars": {
            "scalars": [{"step": 4, "mode": "train", "name": "kl", "value": 0.5}]
        },
    }
    for kind, body in again.items():
        server.post(f"/api/experiments/{tr.eid}/{kind}", body)
    steps.end[20] = steps.wall[20] = (
        0.0  # pretend step 20 was logged: it is not on the server
    )
    c = count(server, tr.eid, steps)
    print(f"\n  {c}")
    assert c.duplicate_rollouts == [(3, trainer.completion(3, 1))]
    assert c.wrong_values == [("kl", 4)]
    assert {k[1] for k in c.missing_scalars} == {20} and {
        k[0] for k in c.missing_rollouts
    } == {20}
