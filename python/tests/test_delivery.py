"""Delivery: config sync, outages, the spool, replays, triggers, modes, attach, exit paths."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import expt_logger
from expt_logger import _spool
from expt_logger._sender import upload_dir

from .fake import FakeServer


def _init(server: FakeServer, **kw: Any) -> expt_logger.Run:
    kw.setdefault("name", "t")
    return expt_logger.init(api_key="k", transport=server.transport(), **kw)


def _wait(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_init_returns_at_once_with_a_client_made_id(server: FakeServer) -> None:
    server.down = True
    t0 = time.perf_counter()
    run = _init(server, config={"lr": 3e-6})
    assert time.perf_counter() - t0 < 0.5
    assert run.experiment_url == f"http://127.0.0.1:8080/experiments/{run.id}"
    assert run.base_url == "http://127.0.0.1:8080"
    assert run.name == "t" and run.config.lr == 3e-6


def test_generated_name_and_env_settings(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPT_LOGGER_BASE_URL", "http://localhost:9/")
    run = expt_logger.init(transport=server.transport(), api_key="k")
    assert run.base_url == "http://localhost:9"
    assert run.name and len(run.name.split("-")) == 3


def test_config_styles_reach_the_server(server: FakeServer) -> None:
    run = _init(server, config={"lr": 0.001, "batch_size": 32})
    run.config.lr = 0.0005
    run.config["epochs"] = 100
    run.config.update({"model": "gpt2"})
    assert run.config["lr"] == 0.0005 and run.config.epochs == 100 and dict(run.config)["model"] == "gpt2"
    with pytest.raises(AttributeError):
        _ = run.config.missing
    _wait(lambda: run.id in server.experiments and server.exp(run.id).config.get("model") == "gpt2")
    assert server.exp(run.id).config == {"lr": 0.0005, "batch_size": 32, "epochs": 100, "model": "gpt2"}
    puts = [r for r in server.requests if r[0] == "PUT"]
    assert len(puts) <= 3, "config changes are debounced, not one request per assignment"
    assert run.end(timeout=5)


def test_non_json_config_is_stringified_with_one_warning(server: FakeServer) -> None:
    run = _init(server)
    with pytest.warns(expt_logger.ExptLoggerWarning, match="config.path"):
        run.config.path = Path("/data")
    run.config.path = Path("/other")  # the same key warns only once
    assert run.config.path == "/other"
    assert run.end(timeout=5)
    assert server.exp(run.id).config == {"path": "/other"}


def test_buffer_size_triggers_a_send_without_flush(server: FakeServer) -> None:
    run = _init(server, auto_flush_buffer_size=5, auto_flush_interval=60)
    for i in range(5):
        expt_logger.log({"x": i})
    _wait(lambda: run.id in server.experiments and len(server.exp(run.id).scalars) == 5)


def test_interval_triggers_a_send(server: FakeServer) -> None:
    run = _init(server, auto_flush_buffer_size=1000, auto_flush_interval=0.3)
    expt_logger.log({"x": 1})
    _wait(lambda: run.id in server.experiments and len(server.exp(run.id).scalars) == 1, timeout=3)


def test_nothing_is_sent_before_the_interval(server: FakeServer) -> None:
    run = _init(server, auto_flush_buffer_size=1000, auto_flush_interval=30)
    expt_logger.log({"x": 1})
    time.sleep(1.2)
    assert not any(p.endswith("/scalars") for _, p, _ in server.requests)
    assert run.spool_dir is not None and _spool.segments(run.spool_dir, include_open=True), "but it is on disk"


def test_default_end_gives_up_soon_once_the_server_fails(
    server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server answered during the run and goes away just before end(): with the default timeout,
    # end() stops waiting a few seconds after it sees the failure (not the full 30 s); the data is
    # in the spool and the sync command is printed.
    run = _init(server)
    expt_logger.log({"loss": 1.0}, step=0)
    assert run.flush(timeout=5.0)
    server.down = True
    expt_logger.log({"loss": 2.0}, step=1)
    t0 = time.monotonic()
    assert run.end() is False
    assert time.monotonic() - t0 < 15.0
    err = capsys.readouterr().err
    assert "is failing" in err and "-m expt_logger sync" in err


def test_server_down_end_returns_after_timeout_and_sync_uploads(
    server: FakeServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    server.down = True
    run = _init(server, config={"a": 1})
    for i in range(250):
        expt_logger.log({"loss": float(i), "eval/acc": 0.5}, step=i)
    expt_logger.log_rollout("p", [{"role": "assistant", "content": "x"}], {"c": 1.0})
    t0 = time.monotonic()
    assert run.end(timeout=1.0) is False
    assert time.monotonic() - t0 < 2.5
    err = capsys.readouterr().err
    assert "-m expt_logger sync" in err and str(run.spool_dir) in err
    assert "cannot deliver" in caplog.text
    assert run.spool_dir is not None and run.spool_dir.exists()
    # The owner is this (live) process, so pretend it died, as it would have after exit.
    meta = _spool.read_meta(run.spool_dir)
    assert meta is not None and meta["status"] == "complete"
    meta["pid"] = 999_999_999
    _spool.write_json_atomic(run.spool_dir / "meta.json", meta)
    server.down = False
    root = Path(os.environ["EXPT_LOGGER_DIR"])
    dirs = list(_spool.leftover_runs(root, "http://127.0.0.1:8080"))
    assert dirs == [run.spool_dir]
    n = upload_dir(server.transport(), "http://127.0.0.1:8080", dirs[0], None)
    assert n == 501
    e = server.exp(run.id)
    assert len(e.scalars) == 500 and e.scalar_writes == 500 and len(e.rollouts) == 1
    assert e.status == "complete" and e.config == {"a": 1}
    assert not run.spool_dir.exists(), "an acknowledged spool is deleted"


def test_outage_mid_run_recovers_without_duplicates(server: FakeServer) -> None:
    run = _init(server, auto_flush_buffer_size=10, auto_flush_interval=0.2)
    for i in range(30):
        expt_logger.log({"x": i})
        expt_logger.log_rollout("p", [{"role": "assistant", "content": str(i)}], {"c": i})
    assert run.flush(timeout=5)
    server.down = True
    for i in range(30, 60):
        expt_logger.log({"x": i})
        expt_logger.log_rollout("p", [{"role": "assistant", "content": str(i)}], {"c": i})
    assert run.flush(timeout=0.5) is False
    server.down = False
    assert run.end(timeout=10)
    e = server.exp(run.id)
    assert sorted(s for (_, _, s) in e.scalars) == list(range(60))
    assert sorted(r["rewards"][0]["value"] for r in e.rollouts) == list(range(60))


def test_replayed_segment_is_not_duplicated(server: FakeServer, tmp_path: Path) -> None:
    """A crash between the server's ack and the local delete resends a segment: same key, no copy."""
    run = expt_logger.init(name="t", mode="offline")
    for i in range(3):
        expt_logger.log_rollout("p", [{"role": "assistant", "content": "x"}], {"c": i}, step=i)
    run.end()
    assert run.spool_dir is not None
    seg = _spool.segments(run.spool_dir)[0]
    copy = tmp_path / "copy"
    copy.write_bytes(seg.read_bytes())
    meta = _spool.read_meta(run.spool_dir)
    assert meta is not None
    meta["pid"] = 999_999_999
    _spool.write_json_atomic(run.spool_dir / "meta.json", meta)
    upload_dir(server.transport(), run.base_url, run.spool_dir, None)
    run.spool_dir.mkdir(parents=True)
    _spool.write_json_atomic(run.spool_dir / "meta.json", meta)
    (run.spool_dir / seg.name).write_bytes(copy.read_bytes())
    upload_dir(server.transport(), run.base_url, run.spool_dir, None)
    assert len(server.exp(run.id).rollouts) == 3
    assert server.replays == 1


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "0000000000-1.open"
    p.write_bytes(b'{"step":0,"mode":"train","name":"a","value":1.0}\n{"step":1,"mo')
    assert _spool.read_segment(p) == [b'{"step":0,"mode":"train","name":"a","value":1.0}']


def test_rollout_batches_split_near_one_megabyte() -> None:
    big = "x" * 300_000
    lines = [b'{"r":' + json.dumps({"step": i, "promptText": big}).encode() + b"}" for i in range(7)]
    lines.append(b'{"step":0,"mode":"train","name":"a","value":1.0}')
    batches = _spool.build_batches(lines, "run/seg")
    kinds = [b.kind for b in batches]
    assert kinds == ["scalars", "rollouts", "rollouts", "rollouts"]
    assert [b.items for b in batches[1:]] == [3, 3, 1]
    assert all(len(b.body) < 1_000_100 for b in batches)
    assert len({b.key for b in batches}) == 4
    assert [b.key for b in _spool.build_batches(lines, "run/seg")] == [b.key for b in batches], "deterministic"
    for b in batches:
        json.loads(b.body)


def test_401_warns_once_and_keeps_data(server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    server.status_override = 401
    run = _init(server)
    expt_logger.log({"x": 1})
    assert run.flush(timeout=0.5) is False
    assert run.flush(timeout=0.5) is False
    msgs = [r.getMessage() for r in caplog.records if "401" in r.getMessage()]
    assert len(msgs) == 1 and "API key" in msgs[0] and "sync" in msgs[0]
    assert run.spool_dir is not None and _spool.segments(run.spool_dir)
    server.status_override = None
    assert run.end(timeout=5)
    assert len(server.exp(run.id).scalars) == 1


def test_invalid_batch_is_set_aside_not_retried_forever(server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    run = _init(server)
    expt_logger.log({"x": 1})
    assert run.flush(timeout=5)
    server.status_override = 400
    expt_logger.log({"x": 2})
    assert run.flush(timeout=5), "a rejected batch counts as done"
    assert "refused" in caplog.text
    assert run.spool_dir is not None and list((run.spool_dir / "rejected").iterdir())


def test_offline_mode_spools_only(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPT_LOGGER_MODE", "offline")
    run = _init(server)
    expt_logger.log({"x": 1})
    assert run.end(timeout=1) is False
    assert server.requests == []
    assert run.spool_dir is not None
    lines = [ln for s in _spool.segments(run.spool_dir) for ln in _spool.read_segment(s)]
    assert [json.loads(ln)["name"] for ln in lines] == ["x"]


def test_missing_api_key_falls_back_to_offline(caplog: pytest.LogCaptureFixture) -> None:
    run = expt_logger.init(name="t")
    expt_logger.log({"x": 1})
    assert "no API key" in caplog.text
    assert run.end(timeout=0.2) is False


def test_disabled_mode_is_a_no_op(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPT_LOGGER_MODE", "disabled")
    run = _init(server)
    expt_logger.log({"x": True})  # not even validated
    expt_logger.log_rollout("p", [], {})
    run.config.lr = 1
    assert expt_logger.flush() and run.end()
    assert server.requests == [] and run.spool_dir is None


def test_attach_continues_after_latest_step(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _init(server, name="orig", config={"lr": 1})
    expt_logger.log({"x": 1}, step=7)
    assert first.end(timeout=5)
    monkeypatch.setenv("EXPT_LOGGER_EXPERIMENT_ID", first.id)
    run = _init(server, name=None, config={"epochs": 2})
    assert (run.id, run.name, run.step) == (first.id, "orig", 8)
    assert dict(run.config) == {"lr": 1, "epochs": 2}
    expt_logger.log({"x": 2})
    _wait(lambda: server.exp(run.id).status == "active")
    assert run.end(timeout=5)
    e = server.exp(run.id)
    assert e.scalars == {("train", "x", 7): 1.0, ("train", "x", 8): 2.0}
    assert e.status == "complete" and e.config == {"lr": 1, "epochs": 2}


def test_attach_to_missing_experiment_raises(server: FakeServer) -> None:
    with pytest.raises(expt_logger.ExptLoggerError, match="not found"):
        _init(server, experiment_id="5b7c8a64-1a57-4f5a-9f6a-3f8e1f1c2d3e")


def test_init_while_active_ends_the_old_run(server: FakeServer) -> None:
    a = _init(server)
    expt_logger.log({"x": 1})
    b = _init(server)
    assert a.id != b.id and expt_logger.get_run() is b
    assert server.exp(a.id).status == "complete" and len(server.exp(a.id).scalars) == 1
    expt_logger.log({"x": 1})
    a.log({"y": 1})  # ignored after end, with a logged warning
    assert b.end(timeout=5)
    assert len(server.exp(a.id).scalars) == 1


def test_context_manager_ends(server: FakeServer) -> None:
    with _init(server) as run:
        expt_logger.log({"x": 1})
    assert server.exp(run.id).status == "complete"
    assert expt_logger.get_run() is None


def test_memory_stays_bounded_while_the_server_is_away(server: FakeServer) -> None:
    server.down = True
    run = _init(server)
    assert run._pipeline is not None
    for i in range(20_000):
        expt_logger.log({"a": i, "b": i}, step=i)
    spool_dir = run.spool_dir
    assert spool_dir is not None

    def on_disk() -> int:
        try:
            return sum(len(_spool.read_segment(s)) for s in _spool.segments(spool_dir, include_open=True))
        except FileNotFoundError:  # a segment sealed (renamed) between listing and reading: look again
            return -1

    # Wait on the disk, not on the queue: the queue empties before the writer's last write lands.
    _wait(lambda: on_disk() == 40_000, timeout=30)
    assert len(run._pipeline.pending) == 0


def test_log_after_fork_goes_through_the_childs_own_threads(server: FakeServer) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    run = _init(server, auto_flush_interval=0.1)
    expt_logger.log({"parent": 1})
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its pipeline restarts; the experiment stays the parent's to end
        code = 1
        try:
            expt_logger.log({"child": 2})
            ok = run.end(timeout=5)
            code = 0 if ok and server.exp(run.id).status == "active" else 3
            os.write(w, json.dumps(sorted(k[1] for k in server.exp(run.id).scalars)).encode())
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    child_saw = json.loads(os.read(r, 1000) or b"null")
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0, child_saw
    assert "child" in child_saw
    assert run.end(timeout=5)
    assert sorted(k[1] for k in server.exp(run.id).scalars) == ["parent"]  # the fake is per process


def test_sigint_flushes_then_raises_keyboard_interrupt(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import os, signal, expt_logger\n"
        "run = expt_logger.init(name='s', mode='offline')\n"
        "expt_logger.log({'x': 1})\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    import time; time.sleep(5)\n"
        "except KeyboardInterrupt:\n"
        "    print('KI', len(os.listdir(run.spool_dir)))\n"
    )
    env = {**os.environ, "EXPT_LOGGER_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "KI 2", out.stderr  # meta.json + one sealed segment


def test_background_problems_are_logged_not_raised(server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    server.status_override = 503
    caplog.set_level(logging.WARNING, "expt_logger")
    run = _init(server)
    expt_logger.log({"x": 1})
    assert run.flush(timeout=0.5) is False
    assert "503" in caplog.text


def test_next_init_uploads_a_dead_runs_leftovers(server: FakeServer) -> None:
    old = expt_logger.init(name="old", mode="offline")
    expt_logger.log({"x": 1.0})
    expt_logger.log_rollout("p", [{"role": "assistant", "content": "x"}], {"c": 1.0})
    old.end()
    assert old.spool_dir is not None
    meta = _spool.read_meta(old.spool_dir)
    assert meta is not None
    meta["pid"] = 999_999_999  # its process is gone
    _spool.write_json_atomic(old.spool_dir / "meta.json", meta)
    run = _init(server)
    _wait(lambda: old.id in server.experiments and len(server.exp(old.id).rollouts) == 1)
    assert server.exp(old.id).scalars == {("train", "x", 0): 1.0}
    assert server.exp(old.id).status == "complete"
    _wait(lambda: not old.spool_dir.exists() if old.spool_dir else True)
    assert run.end(timeout=5)


def test_experiment_deleted_on_the_server_is_created_again(server: FakeServer) -> None:
    run = _init(server, config={"a": 1})
    expt_logger.log({"x": 1.0})
    assert run.flush(timeout=5)
    with server.lock:
        del server.experiments[run.id]
    expt_logger.log({"x": 2.0})
    assert run.end(timeout=10)
    e = server.exp(run.id)
    assert e.scalars == {("train", "x", 1): 2.0} and e.status == "complete" and e.config == {"a": 1}


def test_memory_spool_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory spool (used when the spool directory is unusable) keeps at most MEMORY_SPOOL_BYTES,
    dropping the oldest segments past it and counting their items; sent segments free their share."""
    monkeypatch.setattr(_spool, "MEMORY_SPOOL_BYTES", 10_000)
    sp = _spool.MemorySpool("run", "read-only")
    for _ in range(30):
        sp.append([b"x" * 99] * 10, 0.0)  # 1,000 bytes a segment
        sp.seal()
    segs = sp.sealed_segments()
    assert sp.bytes <= 10_000 and len(segs) == 10
    assert sp.dropped == 200
    assert [_spool.seg_seq(s)[0] for s in segs] == list(range(20, 30)), "the newest are kept, in order"
    assert _spool.read_segment(segs[0]) == [b"x" * 99] * 10
    sp.remove_segment(segs[0])
    assert len(sp.sealed_segments()) == 9 and sp.bytes == 9_000
