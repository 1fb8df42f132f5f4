"""Process-level behaviour, each in a fresh interpreter: signal chaining, thread rules, the sync CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from expt_logger.__main__ import Progress, main


def _py(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EXPT_LOGGER_DIR": str(tmp_path), "EXPT_LOGGER_MODE": "offline"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_sigterm_chains_to_the_previous_python_handler(tmp_path: Path) -> None:
    out = _py(
        "import os, signal, expt_logger\n"
        "signal.signal(signal.SIGTERM, lambda s, f: print('previous handler ran', flush=True))\n"
        "run = expt_logger.init(name='t')\n"
        "expt_logger.log({'x': 1})\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "print('ended:', expt_logger.get_run() is None, len(os.listdir(run.spool_dir)))\n",
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["previous handler ran", "ended: True 2"]


def test_handlers_are_installed_only_from_the_main_thread(tmp_path: Path) -> None:
    out = _py(
        "import signal, threading, expt_logger\n"
        "before = signal.getsignal(signal.SIGTERM)\n"
        "t = threading.Thread(target=lambda: expt_logger.init(name='t')); t.start(); t.join()\n"
        "print(signal.getsignal(signal.SIGTERM) is before)\n"
        "expt_logger.init(name='u')\n"
        "print(signal.getsignal(signal.SIGTERM) is before)\n",
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


def test_atexit_ends_the_run_and_prints_the_sync_command(tmp_path: Path) -> None:
    out = _py("import expt_logger\nexpt_logger.init(name='t')\nexpt_logger.log({'x': 1})\n", tmp_path)
    assert out.returncode == 0
    assert "offline run saved in" in out.stderr and "-m expt_logger sync" in out.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert '"status":"complete"' in (run_dir / "meta.json").read_text()


def test_exit_does_not_wait_long_for_a_server_that_is_down(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "EXPT_LOGGER_DIR": str(tmp_path),
        "EXPT_LOGGER_API_KEY": "expt_x",
        "EXPT_LOGGER_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("EXPT_LOGGER_MODE", None)
    code = "import time, expt_logger\nexpt_logger.init(name='t')\nexpt_logger.log({'x': 1})\ntime.sleep(1.5)\n"
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    assert took < 1.5 + 8, f"exit took {took:.1f} s with the server down"
    assert "-m expt_logger sync" in out.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert any(p.name != "meta.json" for p in run_dir.iterdir()), "the logged point is not in the spool"


def test_end_does_not_wait_out_a_server_that_never_answers(tmp_path: Path) -> None:
    # A black hole: connections are accepted and never answered. With the default timeout, end()
    # gives up after END_STALL seconds without an acknowledged batch, not at the 30 s socket timeout.
    import socket
    import time

    with socket.socket() as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        port = ls.getsockname()[1]
        env = {
            **os.environ,
            "EXPT_LOGGER_DIR": str(tmp_path),
            "EXPT_LOGGER_API_KEY": "expt_x",
            "EXPT_LOGGER_BASE_URL": f"http://127.0.0.1:{port}",
        }
        env.pop("EXPT_LOGGER_MODE", None)
        code = "import expt_logger\nrun = expt_logger.init(name='t')\nexpt_logger.log({'x': 1})\nprint(run.end())\n"
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        took = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    assert took < 25, f"end() took {took:.1f} s against a server that never answers"
    assert "-m expt_logger sync" in out.stderr


def test_progress_bar_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for out in (tty, pipe):
        bar = Progress(2, out)
        bar(10)
        bar(5)
        bar.close()
    assert "2/2 segments" in tty.getvalue() and "#" * 30 in tty.getvalue()
    assert pipe.getvalue() == ""


def test_sync_needs_a_key_and_reports_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--dir", str(tmp_path)]) == 2
    assert "EXPT_LOGGER_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("EXPT_LOGGER_API_KEY", "k")
    assert main(["sync", "--dir", str(tmp_path)]) == 0
    assert "nothing to upload" in capsys.readouterr().err
    assert main(["bogus"]) == 2
