"""The SDK against the real `expt` binary: seed README examples, outages, restarts, SIGTERM, SIGKILL+sync.
Each scenario ends by checking that every point and rollout is on the server exactly once."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

import expt_logger

from .server import ExptServer, env_for, free_port

TRAINER = Path(__file__).with_name("trainer.py")


def test_seed_readme_examples(expt_server: ExptServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPT_LOGGER_API_KEY", expt_server.key)
    monkeypatch.setenv("EXPT_LOGGER_BASE_URL", expt_server.url)
    run = expt_logger.init(name="grpo-math", config={"lr": 3e-6, "batch_size": 8})
    assert run.experiment_url == f"{expt_server.url}/experiments/{run.id}"
    assert run.base_url == expt_server.url
    expt_logger.log_rollout(
        prompt="What is 2+2?",
        messages=[{"role": "assistant", "content": "The answer is 4."}],
        rewards={"correctness": 1.0, "format": 0.9},
        mode="train",
    )
    expt_logger.log({"train/loss": 0.45, "train/kl": 0.02, "train/reward": 0.85})  # step 0
    expt_logger.log({"loss": 0.5})  # step 1
    expt_logger.log({"loss": 0.4})  # step 2
    expt_logger.log({"train/loss": 0.5, "eval/loss": 0.6}, step=10)
    expt_logger.log({"loss": 0.5}, mode="eval")  # step 11
    expt_logger.log({"metric_a": 1.0}, commit=False)
    expt_logger.log({"metric_b": 2.0}, commit=False)
    expt_logger.log({"metric_c": 3.0})  # step 12
    expt_logger.log({"nan": math.nan, "inf": math.inf})  # step 13
    expt_logger.log_rollout(
        prompt="Solve: x^2 - 5x + 6 = 0",
        messages=[
            {"role": "assistant", "content": "Let me factor this..."},
            {"role": "user", "content": "Can you verify?"},
            {"role": "assistant", "content": "Sure! (x-2)(x-3) = 0..."},
        ],
        rewards={"correctness": 1.0, "format": 0.9, "helpfulness": 0.85},
        step=5,
        mode="train",
    )
    run.config.lr = 0.0005
    run.config["epochs"] = 100
    run.config.update({"model": "gpt2"})
    assert expt_logger.end(timeout=20)

    train = expt_server.scalars(run.id, "train")
    assert train["loss"] == {0: 0.45, 1: 0.5, 2: 0.4, 10: 0.5}
    assert train["kl"] == {0: 0.02} and train["reward"] == {0: 0.85}
    assert train["metric_a"] == {12: 1.0} and train["metric_b"] == {12: 2.0} and train["metric_c"] == {12: 3.0}
    assert train["nan"] == {13: "NaN"} and train["inf"] == {13: "Infinity"}
    assert expt_server.scalars(run.id, "eval")["loss"] == {10: 0.6, 11: 0.5}
    rollouts = expt_server.rollouts(run.id)
    assert len(rollouts) == 2
    assert {(r["step"], r["promptText"]) for r in rollouts} == {(0, "What is 2+2?"), (5, "Solve: x^2 - 5x + 6 = 0")}
    exp = expt_server.experiment(run.id)
    assert exp["name"] == "grpo-math" and exp["status"] == "complete"
    assert exp["config"] == {"lr": 0.0005, "batch_size": 8, "epochs": 100, "model": "gpt2"}

    with expt_logger.init(name="my-run") as run2:
        expt_logger.log({"loss": 0.5})
    assert expt_server.experiment(run2.id)["status"] == "complete"


def _log_steps(lo: int, hi: int) -> None:
    for step in range(lo, hi):
        expt_logger.log({"loss": float(step), "eval/acc": step / 1000}, step=step)
        expt_logger.log_rollout("p", [{"role": "assistant", "content": str(step)}], {"r": step}, step=step)


def _assert_exactly(server: ExptServer, eid: str, steps: range) -> None:
    assert server.scalars(eid, "train")["loss"] == {s: float(s) for s in steps}
    assert server.scalars(eid, "eval")["acc"] == {s: s / 1000 for s in steps}
    rewards = sorted(r["rewards"][0]["value"] for r in server.rollouts(eid))
    assert rewards == [float(s) for s in steps], "every rollout exactly once"


def test_server_down_at_init(expt_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    srv = ExptServer(expt_bin, tmp_path / "data")
    port = free_port()
    # A key is needed before the run starts: start once to make it, then stop.
    srv.start(port)
    srv.stop()
    t0 = time.monotonic()
    run = expt_logger.init(name="down", api_key=srv.key, base_url=f"http://127.0.0.1:{port}", auto_flush_interval=0.2)
    assert time.monotonic() - t0 < 1.0, "init must not wait for the server"
    _log_steps(0, 300)
    assert run.flush(timeout=1) is False
    srv.start(port)
    try:
        _log_steps(300, 400)
        assert run.end(timeout=60)
        _assert_exactly(srv, run.id, range(400))
        assert srv.experiment(run.id)["status"] == "complete"
    finally:
        srv.stop()


def test_server_killed_and_restarted_mid_run(expt_server: ExptServer) -> None:
    run = expt_logger.init(
        name="restart",
        api_key=expt_server.key,
        base_url=expt_server.url,
        auto_flush_interval=0.2,
        auto_flush_buffer_size=50,
    )
    _log_steps(0, 200)
    assert run.flush(timeout=20)
    expt_server.stop(signal.SIGKILL)
    _log_steps(200, 400)
    time.sleep(1.0)  # the sender meets the dead server and backs off
    expt_server.start()
    _log_steps(400, 500)
    assert run.end(timeout=60)
    _assert_exactly(expt_server, run.id, range(500))


def _trainer(server: ExptServer, spool: Path, **env: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(TRAINER)],
        env=env_for(server, spool, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise AssertionError(f"trainer failed: {line}{proc.communicate()[1]}")
    return proc, line.split()[1]


def _assert_trainer_data(server: ExptServer, eid: str, steps: int) -> None:
    assert server.scalars(eid, "train")["loss"] == {s: 1.0 / (s + 1) for s in range(steps)}
    assert server.scalars(eid, "eval")["acc"] == {s: s / steps for s in range(steps)}
    rs = server.rollouts(eid)
    got = sorted((r["promptText"], r["messages"][0]["content"]) for r in rs)
    assert got == sorted([("p", f"a{s}") for s in range(steps)] + [("q", f"b{s}") for s in range(steps)])


def test_training_process_sigtermed(expt_server: ExptServer, spool: Path) -> None:
    steps = 300
    proc, eid = _trainer(expt_server, spool, STEPS=str(steps), FLUSH_INTERVAL="1000", FLUSH_SIZE="100000")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM, f"the default SIGTERM action must still run: {err}"
    _assert_trainer_data(expt_server, eid, steps)
    assert expt_server.experiment(eid)["status"] == "complete"
    assert not list((spool / "runs").iterdir()), "delivered spools are deleted"


def test_training_process_sigkilled_then_sync(expt_server: ExptServer, spool: Path) -> None:
    steps = 300
    # Send part of it before the kill so the sync both replays and completes.
    proc, eid = _trainer(
        expt_server, spool, STEPS=str(steps), FLUSH_INTERVAL="1000", FLUSH_SIZE="100000", FLUSH_AT_HALF="1"
    )
    proc.kill()
    proc.communicate(timeout=30)
    assert len(expt_server.rollouts(eid)) == steps, "half was sent before the kill"
    env = env_for(expt_server, spool)
    out = subprocess.run(
        [sys.executable, "-m", "expt_logger", "sync"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "uploaded" in out.stdout
    _assert_trainer_data(expt_server, eid, steps)
    again = subprocess.run(
        [sys.executable, "-m", "expt_logger", "sync"], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and "nothing to upload" in again.stderr
    _assert_trainer_data(expt_server, eid, steps)


def test_next_init_uploads_leftovers(expt_server: ExptServer, spool: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = 50
    proc, eid = _trainer(expt_server, spool, STEPS=str(steps), FLUSH_INTERVAL="1000", FLUSH_SIZE="100000")
    proc.kill()
    proc.communicate(timeout=30)
    run = expt_logger.init(name="next", api_key=expt_server.key, base_url=expt_server.url)
    expt_logger.log({"x": 1.0})
    assert run.end(timeout=20)
    expt_server.wait_until(lambda: len(expt_server.rollouts(eid)) == 2 * steps)
    _assert_trainer_data(expt_server, eid, steps)


def test_attach_continues_after_latest_step(expt_server: ExptServer, monkeypatch: pytest.MonkeyPatch) -> None:
    kw: dict[str, Any] = {"api_key": expt_server.key, "base_url": expt_server.url}
    first = expt_logger.init(name="attach", **kw)
    expt_logger.log({"loss": 1.0}, step=41)
    assert first.end(timeout=20)
    monkeypatch.setenv("EXPT_LOGGER_EXPERIMENT_ID", first.id)
    run = expt_logger.init(**kw)
    assert run.step == 42 and run.name == "attach"
    expt_server.wait_until(lambda: expt_server.experiment(first.id)["status"] == "active")
    expt_logger.log({"loss": 2.0})
    assert run.end(timeout=20)
    assert expt_server.scalars(first.id)["loss"] == {41: 1.0, 42: 2.0}


def test_wrong_key_warns_and_keeps_data(expt_server: ExptServer, caplog: pytest.LogCaptureFixture) -> None:
    run = expt_logger.init(name="bad-key", api_key="expt_" + "x" * 43, base_url=expt_server.url)
    expt_logger.log({"x": 1.0})
    assert run.end(timeout=2) is False
    assert "401" in caplog.text and "API key" in caplog.text
    assert run.spool_dir is not None and run.spool_dir.exists()


def test_unusable_spool_dir_does_not_stop_init(
    expt_server: ExptServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A spool directory that cannot be created or written (here under a regular file, which no user,
    root included, can create directories in) must not make init() raise: the run warns once, keeps its
    queue in memory and delivers everything to the real server."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("EXPT_LOGGER_DIR", str(blocker / "spool"))
    with caplog.at_level("WARNING", logger="expt_logger"):
        run = expt_logger.init(name="memory-spool", api_key=expt_server.key, base_url=expt_server.url)
    assert any("cannot use the spool directory" in r.getMessage() for r in caplog.records), caplog.records
    _log_steps(0, 300)  # scalars and rollouts
    assert run.end(timeout=60)
    _assert_exactly(expt_server, run.id, range(300))
    assert not blocker.with_name("spool").exists()


def test_tags_notes_and_group_reach_the_server(expt_server: ExptServer) -> None:
    """init()'s labels arrive with the experiment, and the list filters by tag."""
    run = expt_logger.init(
        name="labelled",
        api_key=expt_server.key,
        base_url=expt_server.url,
        tags=["grpo", "math"],
        notes="β sweep",
        group="job-7",
    )
    expt_logger.log({"loss": 1.0})
    assert run.end(timeout=30)
    e = expt_server.get(f"/api/experiments/{run.id}")
    assert (e["tags"], e["notes"], e["group"]) == (["grpo", "math"], "β sweep", "job-7")
    listed = expt_server.get("/api/experiments?tag=math")["experiments"]
    assert [x["id"] for x in listed] == [run.id]
    with pytest.raises(TypeError, match="tags"):
        expt_logger.init(tags="grpo", mode="disabled")


def test_project_by_name_and_from_the_environment(expt_server: ExptServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """init(project=) logs into a project by name, making it on the server (the key's owner its owner);
    EXPT_LOGGER_PROJECT does the same; without either the run is in the owner's personal project."""
    projects_before = {p["name"] for p in expt_server.get("/api/projects")["projects"]}
    assert "math-grpo" not in projects_before
    run = expt_logger.init(name="in-project", api_key=expt_server.key, base_url=expt_server.url, project="math-grpo")
    expt_logger.log({"loss": 1.0})
    assert run.end(timeout=30)
    projects = {p["name"]: p for p in expt_server.get("/api/projects")["projects"]}
    assert projects["math-grpo"]["role"] == "owner" and not projects["math-grpo"]["personal"]
    assert expt_server.get(f"/api/experiments/{run.id}")["projectId"] == projects["math-grpo"]["id"]

    monkeypatch.setenv("EXPT_LOGGER_PROJECT", "math-grpo")
    again = expt_logger.init(name="from-env", api_key=expt_server.key, base_url=expt_server.url)
    assert again.end(timeout=30)
    listed = expt_server.get(f"/api/experiments?project={projects['math-grpo']['id']}&sort=name")["experiments"]
    assert [x["name"] for x in listed] == ["from-env", "in-project"]

    monkeypatch.delenv("EXPT_LOGGER_PROJECT")
    plain = expt_logger.init(name="personal", api_key=expt_server.key, base_url=expt_server.url)
    assert plain.end(timeout=30)
    personal = next(p for p in projects.values() if p["personal"])
    assert expt_server.get(f"/api/experiments/{plain.id}")["projectId"] == personal["id"]
    with pytest.raises(ValueError, match="project"):
        expt_logger.init(project="not a name!", mode="disabled")


@pytest.mark.parametrize(
    ("code", "status"), [("sys.exit(3)", "failed"), ("sys.exit('bad config')", "failed"), ("sys.exit(0)", "complete")]
)
def test_exit_code_decides_failed_or_complete(expt_server: ExptServer, spool: Path, code: str, status: str) -> None:
    """A script that ends with a non-zero exit code (or a message) ends its run "failed"; exit 0 is
    "complete". SystemExit never reaches sys.excepthook, so this is the SDK's sys.exit hook."""
    script = (
        "import expt_logger, sys\n"
        "run = expt_logger.init(name='exits')\n"
        "expt_logger.log({'loss': 1.0})\n"
        f"print('ID', run.id, flush=True)\n{code}\n"
    )
    src = str(Path(expt_logger.__file__).resolve().parents[1])
    p = subprocess.run(
        [sys.executable, "-c", script],
        env=env_for(expt_server, spool, PYTHONPATH=src),
        capture_output=True,
        text=True,
        timeout=120,
    )
    eid = p.stdout.split()[1]
    assert expt_server.get(f"/api/experiments/{eid}")["status"] == status, p.stderr


def test_killed_script_is_crashed_and_an_idle_one_is_not(expt_bin: Path, tmp_path: Path, spool: Path) -> None:
    """The SDK beats while a run lives, idle or not: an idle run stays active past the server's
    --crash-after, and the same run SIGKILLed (no atexit, no end) is marked crashed once its heartbeat
    has been silent that long."""
    srv = ExptServer(expt_bin, tmp_path / "data", ["--crash-after", "2s"]).start(0)
    try:
        script = (
            "import expt_logger, os, signal, sys, time\n"
            "run = expt_logger.init(name='doomed')\n"
            "expt_logger.log({'loss': 1.0})\n"
            "print('ID', run.id, flush=True)\n"
            "sys.stdin.readline()\n"  # idle until told to die
            "os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        src = str(Path(expt_logger.__file__).resolve().parents[1])
        env = env_for(srv, spool, PYTHONPATH=src, EXPT_LOGGER_HEARTBEAT="0.3")
        with subprocess.Popen(
            [sys.executable, "-c", script], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        ) as p:
            assert p.stdout is not None and p.stdin is not None
            eid = p.stdout.readline().split()[1]
            srv.wait_until(lambda: srv.scalars(eid, "train").get("loss") == {0: 1.0})
            time.sleep(4)  # twice --crash-after, idle
            assert srv.get(f"/api/experiments/{eid}")["status"] == "active"
            p.stdin.write("die\n")
            p.stdin.flush()
            assert p.wait(30) == -signal.SIGKILL
        srv.wait_until(lambda: srv.get(f"/api/experiments/{eid}")["status"] == "crashed", timeout=20)
        listed = srv.get("/api/experiments?status=crashed")["experiments"]
        assert [x["id"] for x in listed] == [eid]
    finally:
        srv.stop()


def test_script_that_dies_of_an_exception_ends_failed(expt_server: ExptServer, spool: Path) -> None:
    """A training script killed by an uncaught exception ends its run "failed", not "complete" (which
    a crashed run showed before); its data still arrives."""
    script = (
        "import expt_logger, sys\n"
        "run = expt_logger.init(name='doomed')\n"
        "expt_logger.log({'loss': 1.0})\n"
        "print('ID', run.id, flush=True)\n"
        "raise RuntimeError('NaN loss at step 1')\n"
    )
    src = str(Path(expt_logger.__file__).resolve().parents[1])
    env = env_for(expt_server, spool, PYTHONPATH=src)
    p = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "NaN loss at step 1" in p.stderr, p.stderr
    eid = p.stdout.split()[1]
    e = expt_server.get(f"/api/experiments/{eid}")
    assert e["status"] == "failed", e
    assert expt_server.scalars(eid, "train")["loss"] == {0: 1.0}


def test_rollout_tokens_round_trip(expt_server: ExptServer) -> None:
    """Tokens logged with a rollout come back when it is read alone, values as float32, never in lists."""
    run = expt_logger.init(name="tokens", api_key=expt_server.key, base_url=expt_server.url)
    text = [" The", " answer", " is", " 4", "<script>x</script>"] * 400
    logprob = [-(i % 7) / 8 for i in range(len(text))]
    logprob[3] = math.nan
    msgs = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "".join(text)}]
    expt_logger.log_rollout("2+2?", msgs, {"correctness": 1.0}, step=0, tokens={1: {"text": text, "logprob": logprob}})
    assert run.end(timeout=30)
    page = expt_server.get(f"/api/experiments/{run.id}/rollouts?step=0")["rollouts"]
    assert len(page) == 1 and "tokens" not in page[0] and page[0]["tokenCount"] == len(text)
    one = expt_server.get(f"/api/experiments/{run.id}/rollouts/{page[0]['id']}")
    (t,) = one["tokens"]
    assert t["message"] == 1 and t["text"] == text
    got = t["values"]["logprob"]
    assert got[3] == "NaN"
    assert all(abs(g - w) < 1e-6 for i, (g, w) in enumerate(zip(got, logprob, strict=True)) if i != 3)


def test_rollout_metadata_round_trip(expt_server: ExptServer) -> None:
    """Metadata comes back as logged, key order kept, in lists and alone; a rollout without any has none."""
    run = expt_logger.init(name="metadata", api_key=expt_server.key, base_url=expt_server.url)
    meta = {"sample": 7, "group": "q-17", "stop_reason": "eos", "tokens": {"completion": 812}, "kl": math.inf}
    meta["é"] = "😀"
    msgs = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]
    expt_logger.log_rollout("2+2?", msgs, {"correctness": 1.0}, step=0, metadata=meta)
    expt_logger.log_rollout("2+2?", msgs, {"correctness": 0.0}, step=0)
    assert run.end(timeout=30)
    page = expt_server.get(f"/api/experiments/{run.id}/rollouts?step=0&sort=id")["rollouts"]
    want = {**meta, "kl": "Infinity"}
    assert page[0]["metadata"] == want and list(page[0]["metadata"]) == list(want)
    assert "metadata" not in page[1]
    one = expt_server.get(f"/api/experiments/{run.id}/rollouts/{page[0]['id']}")
    assert one["metadata"] == want


def test_rollout_group_round_trip(expt_server: ExptServer) -> None:
    """log_rollout(group=): one prompt at one step under two ids is two GRPO groups (16 samples each, with
    their own reward statistics), apart from the same prompt logged without an id; each group's samples are
    listed by prompt and id; the prompt alone finds all of them."""
    run = expt_logger.init(name="groups", api_key=expt_server.key, base_url=expt_server.url)
    prompt = "Prove that $\\sqrt{2}$ is irrational."
    body = "<think>" + "Suppose $\\sqrt{2} = p/q$ in lowest terms. " * 200 + "</think> Contradiction. \\boxed{QED}"
    for group, correct in (("round-1", 1.0), ("round-2", 0.0)):
        for i in range(16):
            msgs = [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"{body} ({i})"}]
            rewards = {"correct": correct, "length": float(i)}
            expt_logger.log_rollout(prompt, msgs, rewards, step=3, group=group, metadata={"sample": i})
    expt_logger.log_rollout(prompt, [{"role": "assistant", "content": body}], {"correct": 0.5}, step=3)
    assert run.end(timeout=30)
    groups = expt_server.get(f"/api/experiments/{run.id}/rollouts/groups?step=3")["groups"]
    assert [(g.get("group"), g["count"]) for g in groups] == [(None, 1), ("round-1", 16), ("round-2", 16)]
    stats = {g.get("group"): {r["name"]: r for r in g["rewards"]} for g in groups}
    assert stats["round-1"]["correct"]["mean"] == 1.0 and stats["round-2"]["correct"]["mean"] == 0.0
    assert stats["round-2"]["length"]["max"] == 15.0
    q = urllib.parse.quote(prompt)
    one = expt_server.get(f"/api/experiments/{run.id}/rollouts?step=3&prompt={q}&group=round-2&limit=100")
    assert len(one["rollouts"]) == 16 and {r["group"] for r in one["rollouts"]} == {"round-2"}
    assert sorted(r["metadata"]["sample"] for r in one["rollouts"]) == list(range(16))
    alone = expt_server.get(f"/api/experiments/{run.id}/rollouts?step=3&prompt={q}&group=&limit=100")["rollouts"]
    assert len(alone) == 1 and "group" not in alone[0]
    assert len(expt_server.get(f"/api/experiments/{run.id}/rollouts?prompt={q}&limit=100")["rollouts"]) == 33


def test_system_metrics_reach_the_server(expt_server: ExptServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """On by default: CPU and memory samples under mode "system", at the Unix second as their step."""
    monkeypatch.delenv("EXPT_LOGGER_SYSTEM_METRICS")
    monkeypatch.setenv("EXPT_LOGGER_SYSTEM_INTERVAL", "0.2")
    before = int(time.time())
    run = expt_logger.init(name="system", api_key=expt_server.key, base_url=expt_server.url)
    expt_logger.log({"loss": 1.0})
    # Samples a second or more apart (the step is the second): flushed until two have arrived.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.5)
        assert run.flush(timeout=10)
        if len(expt_server.scalars(run.id, mode="system").get("memory/process_rss_gb", {})) >= 2:
            break
    assert run.end(timeout=30)
    names = {(m["mode"], m["name"]) for m in expt_server.get(f"/api/experiments/{run.id}/metrics")["metrics"]}
    want = {"cpu/process_percent", "memory/system_percent", "memory/process_rss_gb"}
    assert {("system", n) for n in want} <= names
    rss = expt_server.scalars(run.id, mode="system")["memory/process_rss_gb"]
    assert len(rss) >= 2  # several samples, one a second at most (the step is the second)
    assert all(before <= step <= time.time() + 1 and 0 < v < 64 for step, v in rss.items())
    # Off by init(system_metrics=False), whatever the environment.
    run = expt_logger.init(name="quiet", api_key=expt_server.key, base_url=expt_server.url, system_metrics=False)
    expt_logger.log({"loss": 1.0})
    time.sleep(0.6)
    assert run.end(timeout=30)
    quiet = {m["mode"] for m in expt_server.get(f"/api/experiments/{run.id}/metrics")["metrics"]}
    assert quiet == {"train"}


def test_a_short_run_has_a_system_sample(expt_server: ExptServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first sample is taken as the run starts (off the caller's thread); end() waits for it (at most
    a second), so even a run that ends at once has one."""
    monkeypatch.delenv("EXPT_LOGGER_SYSTEM_METRICS")
    run = expt_logger.init(name="short", api_key=expt_server.key, base_url=expt_server.url)
    expt_logger.log({"loss": 1.0})
    assert run.end(timeout=30)
    assert "memory/process_rss_gb" in expt_server.scalars(run.id, mode="system")
